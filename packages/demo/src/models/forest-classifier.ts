import { RandomForestClassifier } from 'ml-random-forest'
import { WEATHER_LABELS } from '../weather-data.js'
import { type Classifier, digestOf } from './classifier.js'

/** Options of {@link trainForest}. */
export interface ForestOptions {
  version: string
  /** Seed of the bootstrap and feature sampling. */
  seed: number
  /** Trees. Default 12. */
  nEstimators?: number
  /** Depth of each tree. Default 6. */
  maxDepth?: number
}

/**
 * A random forest (`ml-random-forest`) on raw features; probabilities are the trees' vote shares
 * (the library's own `predictProbability` is not used: it folds the first vote in as a number).
 */
export function trainForest(features: number[][], labels: number[], o: ForestOptions): Classifier {
  const nEstimators = o.nEstimators ?? 12
  const maxDepth = o.maxDepth ?? 6
  const model = new RandomForestClassifier({
    nEstimators,
    maxFeatures: 0.75,
    replacement: true,
    seed: o.seed,
    // Out-of-bag scoring fails when a row lands in every bootstrap (small forests) and is not needed.
    noOOB: true,
    treeOptions: { maxDepth },
  })
  model.train(features, labels)
  return {
    version: o.version,
    params: { algorithm: 'random-forest', n_estimators: nEstimators, max_depth: maxDepth, seed: o.seed },
    digest: digestOf(model),
    prepare: (x) => [...x],
    probabilities(prepared) {
      const votes = model.predictionValues([[...prepared]]).getRow(0)
      const counts = WEATHER_LABELS.map(() => 0)
      for (const v of votes) counts[v] = (counts[v] ?? 0) + 1
      return counts.map((c) => c / votes.length)
    },
  }
}
