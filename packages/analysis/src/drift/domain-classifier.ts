import type { EmbeddingMatrix } from './embedding-matrix.js'
import { seededRandom, shuffleInPlace } from './random.js'
import { rocAuc } from './roc-auc.js'

/** Options of {@link domainClassifierAuc}. */
export interface DomainClassifierOptions {
  /** Passes of stochastic gradient descent over the training half. Default 10. */
  epochs?: number
  /** Initial step size, decayed as 1/√(1 + epoch). Default 0.05. */
  learningRate?: number
  /** L2 penalty on the weights. Default 1e-4. */
  l2?: number
  /** Seed of the split and of the visiting order. Default 42. */
  seed?: number
}

/** Result of {@link domainClassifierAuc}. */
export interface DomainClassifierResult {
  /** ROC AUC of the classifier on the held-out half. */
  auc: number
  nTrain: number
  nTest: number
}

/**
 * Evidently's `model` embedding drift: train a classifier to tell reference rows (label 1) from
 * current rows (label 0) on a random half and report its ROC AUC on the other half (drift when
 * > 0.55 by default). The classifier is an L2-regularized logistic regression on standardized
 * components, fitted by SGD (Evidently uses scikit-learn's `SGDClassifier(loss='log_loss')`);
 * everything is seeded, so the same windows give the same AUC.
 */
export function domainClassifierAuc(x: EmbeddingMatrix, y: EmbeddingMatrix, options: DomainClassifierOptions = {}): DomainClassifierResult {
  const dim = x.dim
  const n = x.rows + y.rows
  const random = seededRandom(options.seed ?? 42)
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  shuffleInPlace(order, random)
  const nTrain = Math.floor(n / 2)
  const row = (i: number): [Float32Array, number] => (i < x.rows ? [x.data, i * dim] : [y.data, (i - x.rows) * dim])
  const label = (i: number): number => (i < x.rows ? 1 : 0)
  // Standardize with the training half's moments.
  const mean = new Float64Array(dim)
  const sq = new Float64Array(dim)
  for (let t = 0; t < nTrain; t++) {
    const [d, o] = row(order[t]!)
    for (let j = 0; j < dim; j++) {
      const v = d[o + j]!
      mean[j]! += v
      sq[j]! += v * v
    }
  }
  const scale = new Float64Array(dim)
  for (let j = 0; j < dim; j++) {
    mean[j]! /= nTrain
    const variance = sq[j]! / nTrain - mean[j]! * mean[j]!
    scale[j] = variance > 1e-24 ? 1 / Math.sqrt(variance) : 0
  }
  const w = new Float64Array(dim)
  let bias = 0
  const epochs = options.epochs ?? 10
  const lr0 = options.learningRate ?? 0.05
  const l2 = options.l2 ?? 1e-4
  const trainOrder = order.slice(0, nTrain)
  const z = new Float64Array(dim)
  for (let e = 0; e < epochs; e++) {
    const lr = lr0 / Math.sqrt(1 + e)
    shuffleInPlace(trainOrder, random)
    for (let t = 0; t < nTrain; t++) {
      const i = trainOrder[t]!
      const [d, o] = row(i)
      let s = bias
      for (let j = 0; j < dim; j++) {
        z[j] = (d[o + j]! - mean[j]!) * scale[j]!
        s += w[j]! * z[j]!
      }
      const p = 1 / (1 + Math.exp(-s))
      const g = p - label(i)
      for (let j = 0; j < dim; j++) w[j]! -= lr * (g * z[j]! + l2 * w[j]!)
      bias -= lr * g
    }
  }
  const nTest = n - nTrain
  const scores = new Float64Array(nTest)
  const labels = new Uint8Array(nTest)
  for (let t = 0; t < nTest; t++) {
    const i = order[nTrain + t]!
    const [d, o] = row(i)
    let s = bias
    for (let j = 0; j < dim; j++) s += w[j]! * (d[o + j]! - mean[j]!) * scale[j]!
    scores[t] = s
    labels[t] = label(i)
  }
  return { auc: rocAuc(scores, labels), nTrain, nTest }
}
