import LogisticRegression from 'ml-logistic-regression'
import { Matrix } from 'ml-matrix'
import { type Classifier, digestOf, normalize } from './classifier.js'

/** Options of {@link trainLogistic}. */
export interface LogisticOptions {
  /** `model.version`. */
  version: string
  /** Gradient steps per class. Default 150. */
  numSteps?: number
  /** Step size (the gradient is summed over rows). Default 0.004. */
  learningRate?: number
}

/** Column means and standard deviations of a training set. */
export interface Scaling {
  mean: number[]
  sd: number[]
}

/** Fits a {@link Scaling} (a zero deviation is taken as 1). */
export function fitScaling(rows: readonly (readonly number[])[]): Scaling {
  const width = rows[0]?.length ?? 0
  const mean = Array.from({ length: width }, (_, j) => rows.reduce((s, r) => s + (r[j] as number), 0) / rows.length)
  const sd = mean.map((m, j) => Math.sqrt(rows.reduce((s, r) => s + ((r[j] as number) - m) ** 2, 0) / rows.length) || 1)
  return { mean, sd }
}

/**
 * One-vs-rest logistic regression (`ml-logistic-regression`) on standardized features plus an
 * intercept column (the library fits none). Its per-class sigmoid outputs are normalized into a
 * distribution.
 */
export function trainLogistic(features: number[][], labels: number[], o: LogisticOptions): Classifier {
  const numSteps = o.numSteps ?? 150
  const learningRate = o.learningRate ?? 0.004
  const scaling = fitScaling(features)
  const prepare = (x: readonly number[]) => [...x.map((v, j) => (v - (scaling.mean[j] as number)) / (scaling.sd[j] as number)), 1]
  const model = new LogisticRegression({ numSteps, learningRate })
  model.train(new Matrix(features.map(prepare)), Matrix.columnVector(labels))
  return {
    version: o.version,
    params: { algorithm: 'logistic-regression', num_steps: numSteps, learning_rate: learningRate },
    digest: digestOf(model),
    prepare,
    probabilities(prepared) {
      const row = new Matrix([[...prepared]])
      // The library trains class k with target 0 on its rows: P(k) = 1 - score.
      return normalize(model.classifiers.map((c) => 1 - (c.testScores(row)[0] as number)))
    },
  }
}
