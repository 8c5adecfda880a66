import type { JsonValue } from '@inferlog/schema'
import type { LabelContribution } from './label-aggregate.js'
import { type LabelConfig, type LabelType, toBooleanLabel, toClassLabel, toNumberLabel, valueAtPath } from './label-config.js'

/** What a model predicted for one label, read from its output. */
export interface Prediction {
  /** The predicted class (string), boolean or number; absent when the output has none at the path. */
  predicted?: string | boolean | number
  /** Probability in [0, 1] that the predicted class is right (for calibration), when the output has one. */
  confidence?: number
}

/** Options of {@link predictionOf}. */
export interface PredictionOptions {
  /** Decision threshold for a boolean label whose output is a probability. Default 0.5. */
  threshold?: number
}

type JsonObject = { [key: string]: JsonValue }

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function probability(v: JsonValue | undefined): number | undefined {
  return typeof v === 'number' && v >= 0 && v <= 1 ? v : undefined
}

const SCALAR_SCORE_KEYS = ['score', 'probability', 'confidence', 'prob'] as const
const MAP_SCORE_KEYS = ['scores', 'probabilities', 'probs'] as const
const LABEL_LIST_KEYS = ['labels', 'classes'] as const

function scalarScore(container: JsonObject | undefined): number | undefined {
  if (!container) return undefined
  for (const k of SCALAR_SCORE_KEYS) {
    const p = probability(container[k])
    if (p !== undefined) return p
  }
  return undefined
}

function classScore(container: JsonObject | undefined, predicted: string): number | undefined {
  if (!container) return undefined
  for (const k of MAP_SCORE_KEYS) {
    const m = container[k]
    if (isObject(m) && Object.hasOwn(m, predicted)) return probability(m[predicted])
    if (Array.isArray(m)) {
      for (const lk of LABEL_LIST_KEYS) {
        const labels = container[lk]
        if (Array.isArray(labels)) {
          const i = labels.findIndex((l) => toClassLabel(l) === predicted)
          if (i >= 0) return probability(m[i])
        }
      }
    }
  }
  return scalarScore(container)
}

/**
 * Reads the prediction for a label from an event's output. The value at `config.output` is the
 * prediction; when that value is an object, its `label` / `class` / `prediction` / `value` member is,
 * and scores are looked up in that object, otherwise in the object holding the path's last segment.
 *
 * - `class`: the class is {@link toClassLabel} of the value. Its confidence is `scores[class]` /
 *   `probabilities[class]` (an object, or an array aligned with `labels` / `classes`), else a scalar
 *   `score` / `probability` / `confidence` / `prob` in [0, 1], read as the predicted class's probability.
 * - `boolean`: a boolean (or boolean word) value is the prediction and a scalar score is P(true), so the
 *   confidence is p for true and 1 − p for false; a number in [0, 1] is itself P(true), the prediction
 *   being p ≥ threshold.
 * - `number`: a finite number (or numeric string).
 * - `rating`: nothing: a rating judges the output, it does not label a predicted field.
 */
export function predictionOf(output: JsonValue | undefined, config: LabelConfig, options: PredictionOptions = {}): Prediction {
  if (config.type === 'rating') return {}
  let v = valueAtPath(output, config.output)
  let container: JsonObject | undefined
  if (isObject(v)) {
    container = v
    for (const k of ['label', 'class', 'prediction', 'value'] as const) {
      if (Object.hasOwn(v, k)) {
        v = v[k]
        break
      }
    }
  } else if (config.output !== '') {
    const cut = config.output.lastIndexOf('.')
    const parent = cut < 0 ? output : valueAtPath(output, config.output.slice(0, cut))
    if (isObject(parent)) container = parent
  }
  return readPrediction(v, container, config.type, options.threshold ?? 0.5)
}

function readPrediction(v: JsonValue | undefined, container: JsonObject | undefined, type: LabelType, threshold: number): Prediction {
  if (type === 'number') {
    const x = toNumberLabel(v)
    return x === undefined ? {} : { predicted: x }
  }
  if (type === 'boolean') {
    if (typeof v === 'number') {
      const p = probability(v)
      if (p === undefined) return {}
      const predicted = p >= threshold
      return { predicted, confidence: predicted ? p : 1 - p }
    }
    const b = toBooleanLabel(v)
    if (b === undefined) return {}
    const p = scalarScore(container)
    return p === undefined ? { predicted: b } : { predicted: b, confidence: b ? p : 1 - p }
  }
  const c = toClassLabel(v)
  if (c === undefined) return {}
  const confidence = classScore(container, c)
  return confidence === undefined ? { predicted: c } : { predicted: c, confidence }
}

/**
 * Reads a feedback value as the label's true value under its type: {@link toClassLabel} for
 * `class`, {@link toBooleanLabel} for `boolean`, {@link toNumberLabel} for `number` and `rating`.
 * `undefined` when the value cannot be read so (the feedback is then not a label).
 */
export function actualOf(feedbackValue: JsonValue, type: LabelType): string | boolean | number | undefined {
  if (type === 'class') return toClassLabel(feedbackValue)
  if (type === 'boolean') return toBooleanLabel(feedbackValue)
  return toNumberLabel(feedbackValue)
}

/**
 * The contribution of one feedback item to its event's bucket under a label declaration: the true
 * value from the feedback, the prediction (and confidence) from the event's output, and the event's
 * weight. `undefined` when the feedback value cannot be read under the declared type (then it is
 * not a label for this name, and nothing is added).
 */
export function labelContributionOf(
  output: JsonValue | undefined,
  feedbackValue: JsonValue,
  config: LabelConfig,
  weight = 1,
  options: PredictionOptions = {},
): LabelContribution | undefined {
  const actual = actualOf(feedbackValue, config.type)
  if (actual === undefined) return undefined
  const c: LabelContribution = { type: config.type, actual, weight, ...predictionOf(output, config, options) }
  return c
}
