import type { JsonValue } from '@inferlog/schema'

/** Declared type of a feedback used as a label (model configuration `labels.NAME.type`). */
export type LabelType = 'class' | 'number' | 'rating' | 'boolean'

/** The label types, for validation. */
export const LABEL_TYPES: readonly LabelType[] = ['class', 'number', 'rating', 'boolean']

/**
 * Which output field a feedback name labels, and how to read it: `{output, type}` of the model
 * configuration. `output` is a dot path inside the event's `output` (`label`, `pred.class`, `scores.0`)
 * or `''` for the whole output.
 */
export interface LabelConfig {
  output: string
  type: LabelType
}

type JsonObject = { [key: string]: JsonValue }

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * The value at a dot path inside a JSON value (`''` is the value itself; numeric segments index
 * arrays). `undefined` when any segment is missing.
 */
export function valueAtPath(root: JsonValue | undefined, path: string): JsonValue | undefined {
  if (path === '') return root
  let cur: JsonValue | undefined = root
  for (const seg of path.split('.')) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined
      cur = cur[Number(seg)]
    } else if (isObject(cur)) {
      cur = Object.hasOwn(cur, seg) ? cur[seg] : undefined
    } else {
      return undefined
    }
  }
  return cur
}

const TRUE_WORDS = new Set([
  'true',
  'yes',
  'y',
  'up',
  'thumbs_up',
  'thumbsup',
  'positive',
  'pos',
  'good',
  'like',
  'liked',
  'correct',
  '1',
  '+1',
  '👍',
])
const FALSE_WORDS = new Set([
  'false',
  'no',
  'n',
  'down',
  'thumbs_down',
  'thumbsdown',
  'negative',
  'neg',
  'bad',
  'dislike',
  'disliked',
  'incorrect',
  'wrong',
  '0',
  '-1',
  '👎',
])

/**
 * Reads a feedback or output value as a boolean: `true`/`false`; numbers > 0 are true and ≤ 0 false
 * (thumbs sent as 1/−1 or 1/0); strings (case-insensitive, trimmed) `true yes y up thumbs_up positive
 * good like correct 1 +1 👍` are true and `false no n down thumbs_down negative bad dislike incorrect
 * wrong 0 -1 👎` false. Anything else is `undefined`.
 */
export function toBooleanLabel(v: JsonValue | undefined): boolean | undefined {
  if (typeof v === 'boolean') return v
  if (typeof v === 'number') return Number.isFinite(v) ? v > 0 : undefined
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase()
    if (TRUE_WORDS.has(s)) return true
    if (FALSE_WORDS.has(s)) return false
  }
  return undefined
}

/** Reads a number: finite numbers, and strings that are a finite decimal number. */
export function toNumberLabel(v: JsonValue | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v === 'string' && v.trim() !== '') {
    const x = Number(v)
    return Number.isFinite(x) ? x : undefined
  }
  return undefined
}

const CLASS_KEYS = ['label', 'class', 'prediction', 'value'] as const

/**
 * Reads a class: strings as they are, booleans and numbers as their JSON text, objects by their
 * `label`, `class`, `prediction` or `value` member (first present). Anything else is `undefined`.
 */
export function toClassLabel(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined
  if (isObject(v)) {
    for (const k of CLASS_KEYS) if (Object.hasOwn(v, k)) return toClassLabel(v[k])
  }
  return undefined
}

const NOT_LABEL_NAMES = /^(corrections?|preferences?|comments?|notes?)$/i
const RATING_NAMES = /^(rating|ratings|stars|score|csat|nps|satisfaction)$/i
const THUMBS_NAMES = /^(thumbs?|thumbs_up|like|likes|helpful|upvote|vote|approved|accepted|accept)$/i

/**
 * Infers how to read a feedback as a label when the model declares none. Rules, first match wins:
 *
 * 0. Names `correction`, `preference`, `comment`, `note` are never labels → `undefined`.
 * 1. Names `rating`, `stars`, `score`, `csat`, `nps`, `satisfaction` with a numeric value → `rating` of the whole output.
 * 2. Names `thumbs`, `thumb`, `like`, `helpful`, `upvote`, `vote`, `approved`, `accept(ed)` with a
 *    boolean-like value ({@link toBooleanLabel}) → `boolean` of the whole output (share positive).
 * 3. The output is an object with a `label` or `class` member that is a string or boolean, and the
 *    value reads as that kind → `class` (or `boolean` for a boolean member) at that member.
 * 4. The output itself is a boolean and the value boolean-like → `boolean` of `''`; the output is a
 *    string of at most 100 characters (a class name, not a generation) and the value a string → `class` of `''`.
 * 5. The output (or its `value` / `prediction` member) is a number and the value is numeric → `number`.
 * 6. A boolean value → `boolean` of `''`; a numeric value → `rating` of `''`.
 * 7. Otherwise (objects such as corrections or preferences) `undefined`: not a label.
 */
export function inferLabelConfig(output: JsonValue | undefined, feedbackName: string, feedbackValue: JsonValue): LabelConfig | undefined {
  if (NOT_LABEL_NAMES.test(feedbackName)) return undefined
  const num = toNumberLabel(feedbackValue)
  const bool = toBooleanLabel(feedbackValue)
  if (RATING_NAMES.test(feedbackName) && typeof feedbackValue === 'number' && num !== undefined) return { output: '', type: 'rating' }
  if (THUMBS_NAMES.test(feedbackName) && bool !== undefined) return { output: '', type: 'boolean' }
  if (isObject(output)) {
    for (const k of ['label', 'class'] as const) {
      const v = output[k]
      if (typeof v === 'boolean' && bool !== undefined) return { output: k, type: 'boolean' }
      if (typeof v === 'string' && (typeof feedbackValue === 'string' || typeof feedbackValue === 'number'))
        return { output: k, type: 'class' }
    }
  }
  if (typeof output === 'boolean' && bool !== undefined) return { output: '', type: 'boolean' }
  if (typeof output === 'string' && output.length <= 100 && typeof feedbackValue === 'string') return { output: '', type: 'class' }
  if (num !== undefined && typeof feedbackValue !== 'boolean') {
    if (typeof output === 'number') return { output: '', type: 'number' }
    if (isObject(output)) {
      for (const k of ['value', 'prediction'] as const) if (typeof output[k] === 'number') return { output: k, type: 'number' }
    }
  }
  if (typeof feedbackValue === 'boolean') return { output: '', type: 'boolean' }
  if (typeof feedbackValue === 'number' && num !== undefined) return { output: '', type: 'rating' }
  return undefined
}
