import type { FeedbackItem, ModelInfo } from '@inferlog/schema'
import type { LoggedEvent } from '../options.js'
import { internalsJson, isTypedArray, type InternalsEncoding } from './internals.js'
import type { Redactor } from './redact.js'

/** Everything serialization needs, resolved once from the options. */
export interface PrepareConfig {
  model?: ModelInfo
  /** `JSON.stringify(model)`, computed once. */
  modelJson?: string
  /** Per-logger cache of the `"ts":…,"model":…,` prefix part (it changes once per millisecond). */
  tsModel: { ms: number; text: string }
  /** True when no option rewrites events (no redaction, pseudonymization or sampling): enables the fast path. */
  plain?: boolean
  /** Event sampling rate; recorded in `sample_rate` when below 1. */
  sampleRate: number
  internals: InternalsEncoding
  /** Keeps internals for this id (internals sampling rate); undefined keeps all. */
  internalsSampler?: (id: string) => boolean
  /** Internals capture predicate; undefined captures always. */
  internalsWhen?: (event: LoggedEvent) => boolean
  redactor?: Redactor
  pseudonymize?: (userId: string) => string
  /** Called when `internalsWhen` throws (internals are then left out). */
  onCallbackError: (error: unknown) => void
}

/**
 * Out-parameter of {@link eventLine}: when set to a non-empty prefix, the line is `prefix` followed
 * by the returned body without its opening brace.
 */
export interface LineParts {
  prefix: string
}

/** Formats epoch ms as RFC 3339, reusing the last result (events arrive many per millisecond). */
export function isoFormatter(): (ms: number) => string {
  let lastMs = NaN
  let last = ''
  return (ms) => {
    if (ms !== lastMs) {
      lastMs = ms
      last = new Date(ms).toISOString()
    }
    return last
  }
}

function plainArray(v: unknown): unknown {
  return isTypedArray(v) ? Array.from(v as ArrayLike<number | bigint>, Number) : v
}

/**
 * Serializes one logged event to its NDJSON line. Runs in the batcher, never in `log()`: fills
 * `id`, `ts`, `model` and `sample_rate`, encodes internals, pseudonymizes and redacts. The
 * caller's object is not modified.
 */
export function eventLine(
  ev: LoggedEvent,
  id: string,
  tsMs: number,
  cfg: PrepareConfig,
  iso: (ms: number) => string,
  parts?: LineParts,
): string {
  if (
    cfg.plain === true &&
    ev.internals === undefined &&
    ev.error === undefined &&
    (ev.id === undefined || ev.id === id) &&
    (ev.ts === undefined || typeof ev.ts === 'string') &&
    !isTypedArray(ev.input) &&
    !isTypedArray(ev.output)
  ) {
    // Nothing to rewrite: serialize the caller's object as is and put the filled fields in front.
    let prefix = ev.id === undefined ? `{"id":${JSON.stringify(id)},` : '{'
    if (ev.ts === undefined) {
      if (ev.model === undefined && cfg.modelJson !== undefined) {
        // "ts" and "model" together, formatted once per millisecond.
        const tsModel = cfg.tsModel
        if (tsMs !== tsModel.ms) {
          tsModel.ms = tsMs
          tsModel.text = `"ts":"${iso(tsMs)}","model":${cfg.modelJson},`
        }
        prefix += tsModel.text
      } else prefix += `"ts":"${iso(tsMs)}",`
    } else if (ev.model === undefined && cfg.modelJson !== undefined) prefix += `"model":${cfg.modelJson},`
    const body = JSON.stringify(ev)
    if (prefix === '{') return body
    if (body.length === 2) return `${prefix.slice(0, -1)}}`
    if (parts) {
      // The caller writes prefix and body itself (no concatenated copy of the body).
      parts.prefix = prefix
      return body
    }
    return prefix + body.slice(1)
  }
  const out: Record<string, unknown> = { id, ts: undefined, model: undefined }
  const redact = cfg.redactor
  for (const k in ev) {
    if (k !== 'internals' || redact) out[k] = (ev as Record<string, unknown>)[k]
  }
  out.id = id
  if (typeof ev.ts !== 'string') out.ts = (ev.ts as unknown) instanceof Date ? (ev.ts as unknown as Date).toISOString() : iso(tsMs)
  if (ev.model === undefined) out.model = cfg.model
  if (isTypedArray(ev.input)) out.input = plainArray(ev.input)
  if (isTypedArray(ev.output)) out.output = plainArray(ev.output)
  const err = ev.error
  if (err !== undefined && err !== null) {
    if (err instanceof Error) out.error = { type: err.name || 'Error', message: err.message }
    if (ev.status === undefined) out.status = 'error'
  }
  if (cfg.sampleRate < 1) out.sample_rate = (typeof ev.sample_rate === 'number' ? ev.sample_rate : 1) * cfg.sampleRate
  const trace = ev.trace
  if (cfg.pseudonymize && trace && typeof trace.user_id === 'string') {
    out.trace = { ...trace, user_id: cfg.pseudonymize(trace.user_id) }
  }

  let internals: Record<string, unknown> | undefined = ev.internals ?? undefined
  let record = out
  if (redact) {
    record = redact.apply(out, 'event')
    internals = record.internals as Record<string, unknown> | undefined
    if (internals !== undefined) {
      if (record === out) record = { ...out }
      delete record.internals
    }
  }
  if (internals !== undefined && typeof internals === 'object' && internals !== null) {
    if (cfg.internalsSampler && !cfg.internalsSampler(id)) internals = undefined
    else if (cfg.internalsWhen) {
      try {
        if (!cfg.internalsWhen(ev)) internals = undefined
      } catch (e) {
        internals = undefined
        cfg.onCallbackError(e)
      }
    }
  }
  const json = JSON.stringify(record)
  if (internals === undefined || internals === null || typeof internals !== 'object') return json
  const itext = internalsJson(internals, cfg.internals)
  if (itext === undefined) return json
  // Splice the separately encoded internals in: tensors never go through JSON.stringify.
  return `${json.slice(0, -1)},"internals":${itext}}`
}

/**
 * Serializes one feedback item (built by `feedback()`): fills `ts` from the time it was given,
 * pseudonymizes a user source and redacts.
 */
export function feedbackLine(fb: FeedbackItem, tsMs: number, cfg: PrepareConfig, iso: (ms: number) => string): string {
  let rec = fb as unknown as Record<string, unknown>
  if (fb.ts === undefined) rec = { ...rec, ts: iso(tsMs) }
  const src = fb.source
  if (cfg.pseudonymize && src && src.type === 'user' && typeof src.id === 'string') {
    rec = { ...rec, source: { ...src, id: cfg.pseudonymize(src.id) } }
  }
  if (cfg.redactor) rec = cfg.redactor.apply(rec, 'feedback')
  return JSON.stringify(rec)
}
