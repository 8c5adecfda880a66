import { FEATURE_NAMES, featuresOf, labelIndex, type WeatherDay } from '../weather-data.js'
import type { Classifier } from './classifier.js'
import { trainForest } from './forest-classifier.js'
import { trainLogistic } from './logistic-classifier.js'
import { trainTree } from './tree-classifier.js'

/** The model name every demo event carries. */
export const MODEL_NAME = 'weather-clf'

/** The three models the demo serves, trained on the same days. */
export interface DemoModels {
  /** A/B arm `control`: logistic regression. */
  control: Classifier
  /** A/B arm `treatment`: random forest. */
  treatment: Classifier
  /** Runs in shadow on every request: a decision tree, with its decision path. */
  shadow: Classifier
  /** Training means of the raw features (the occlusion baseline). */
  means: number[]
  /** Training time of each model, ms. */
  trainMs: { control: number; treatment: number; shadow: number }
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now()
  const v = f()
  return [v, performance.now() - t0]
}

/** Trains the demo's models on `days` (deterministic for a seed). */
export function trainModels(days: readonly WeatherDay[], seed: number): DemoModels {
  const x = days.map(featuresOf)
  const y = days.map((d) => labelIndex(d.weather))
  const [control, c] = timed(() => trainLogistic(x, y, { version: '1.4.0' }))
  const [treatment, t] = timed(() => trainForest(x, y, { version: '2.0.0', seed }))
  const [shadow, s] = timed(() => trainTree(x, y, { version: '2.1.0-rc.1' }))
  const means = FEATURE_NAMES.map((_, j) => x.reduce((sum, r) => sum + (r[j] as number), 0) / x.length)
  return { control, treatment, shadow, means, trainMs: { control: c, treatment: t, shadow: s } }
}
