import { createHash } from 'node:crypto'
import { FEATURE_NAMES, type FeatureName, WEATHER_LABELS, type WeatherLabel } from '../weather-data.js'

/** A trained weather classifier as the demo serves it. */
export interface Classifier {
  /** `model.version` of its events. */
  readonly version: string
  /** Its hyperparameters, logged as `model.params`. */
  readonly params: Record<string, string | number>
  /** `sha256:` of the serialized trained model, logged as `model.digest`. */
  readonly digest: string
  /** Raw features (FEATURE_NAMES order) → what the model takes (scaling, intercept column...). */
  prepare(features: readonly number[]): number[]
  /** Class probabilities in WEATHER_LABELS order, summing to 1. */
  probabilities(prepared: readonly number[]): number[]
  /** Model-specific internals of one prediction (a tree's decision path...). Default none. */
  explain?(prepared: readonly number[]): Record<string, unknown>
}

/** A prediction as the demo logs it in `output` (a type alias: JSON-assignable). */
export type WeatherPrediction = {
  label: WeatherLabel
  /** Probability of `label`. */
  score: number
  probabilities: Record<WeatherLabel, number>
}

/** `sha256:<hex>` of a model's JSON. */
export function digestOf(model: { toJSON(): unknown }): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(model.toJSON())).digest('hex')}`
}

const round = (x: number) => Math.round(x * 1e4) / 1e4

/** The most probable class, its probability and the whole distribution (4 decimals). */
export function toPrediction(probs: readonly number[]): WeatherPrediction {
  let best = 0
  for (let i = 1; i < probs.length; i++) if ((probs[i] as number) > (probs[best] as number)) best = i
  const probabilities = Object.fromEntries(WEATHER_LABELS.map((l, i) => [l, round(probs[i] ?? 0)])) as Record<WeatherLabel, number>
  return { label: WEATHER_LABELS[best] as WeatherLabel, score: round(probs[best] ?? 0), probabilities }
}

/**
 * Occlusion attributions: for each feature, how much the predicted class's probability falls when
 * that feature alone is replaced by its training mean (`baseline`, already prepared). Positive: the
 * feature's value pushed towards the prediction. Model-agnostic, one extra prediction per feature.
 */
export function occlusionAttributions(
  model: Classifier,
  prepared: readonly number[],
  baseline: readonly number[],
  classIndex: number,
): Record<FeatureName, number> {
  const p = model.probabilities(prepared)[classIndex] ?? 0
  const out = {} as Record<FeatureName, number>
  FEATURE_NAMES.forEach((f, j) => {
    const x = [...prepared]
    x[j] = baseline[j] as number
    out[f] = round(p - (model.probabilities(x)[classIndex] ?? 0))
  })
  return out
}

/** Normalizes non-negative scores to probabilities (uniform when they are all zero). */
export function normalize(scores: readonly number[]): number[] {
  const sum = scores.reduce((s, v) => s + Math.max(0, v), 0)
  return sum > 0 ? scores.map((v) => Math.max(0, v) / sum) : scores.map(() => 1 / scores.length)
}

/** Pads a class distribution to every label (a tree leaf lists classes up to the largest it saw). */
export function padClasses(dist: readonly number[]): number[] {
  return WEATHER_LABELS.map((_, i) => dist[i] ?? 0)
}
