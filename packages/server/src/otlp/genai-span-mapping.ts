import { createHash } from 'node:crypto'
import type { JsonObject, JsonValue } from '@inferlog/schema'
import { spanMessages } from './genai-messages.js'
import type { Attributes, OtlpSpan } from './otlp-span.js'

/** Name of the span event (and of the span, when an evaluator emits one) that carries an evaluation. */
export const EVALUATION_EVENT = 'gen_ai.evaluation.result'

/** What one span becomes. */
export interface SpanRecords {
  /**
   * `genai`: an inference span (it names a model), stored as an event, with any evaluations on it
   * as feedback; `evaluation`: an evaluator's own span, stored as feedback on its parent span's
   * event; `other`: any other span, counted and not stored.
   */
  kind: 'genai' | 'evaluation' | 'other'
  event?: JsonObject
  feedback: JsonObject[]
  /** Parts of the span that were left out (an evaluation without a name or score…). */
  warnings: string[]
}

/** Id of the event a span becomes: a re-export of the span is the same event, so a duplicate. */
export function otlpEventId(traceId: string, spanId: string): string {
  return `otel-${traceId}-${spanId}`
}

/**
 * Id of the feedback an evaluation of a span becomes, from the span and the evaluation's name (hashed:
 * names may be long or hold any character), so a re-export is a duplicate.
 */
export function otlpFeedbackId(traceId: string, spanId: string, name: string): string {
  return `otel-${traceId}-${spanId}-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`
}

/** RFC 3339 with microseconds, from Unix nanoseconds. */
export function nanosToTimestamp(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString()
  const micros = String((ns / 1000n) % 1000n).padStart(3, '0')
  return `${iso.slice(0, 23)}${micros}Z`
}

function str(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function tokens(v: JsonValue | undefined): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

function tagValue(v: JsonValue | undefined): string | number | boolean | undefined {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.join(',')
  return undefined
}

/** `gen_ai.request.*` except the model, keyed by the last segment of the name. */
function requestParams(a: Attributes): JsonObject | undefined {
  let params: JsonObject | undefined
  for (const [k, v] of Object.entries(a)) {
    if (!k.startsWith('gen_ai.request.') || k === 'gen_ai.request.model') continue
    params ??= {}
    params[k.slice(k.lastIndexOf('.') + 1)] = v
  }
  return params
}

function contextTags(span: OtlpSpan): Record<string, string | number | boolean> | undefined {
  const a = span.attributes
  const tags: Record<string, string | number | boolean> = {}
  const put = (k: string, v: JsonValue | undefined) => {
    const t = tagValue(v)
    if (t !== undefined && t !== '') tags[k] = t
  }
  put('gen_ai.operation.name', a['gen_ai.operation.name'])
  put('gen_ai.provider.name', a['gen_ai.provider.name'] ?? a['gen_ai.system'])
  put('gen_ai.response.id', a['gen_ai.response.id'])
  put('gen_ai.response.finish_reasons', a['gen_ai.response.finish_reasons'])
  put('service.name', span.resource['service.name'])
  put('otel.span.name', span.name)
  return Object.keys(tags).length > 0 ? tags : undefined
}

/** A `gen_ai.evaluation.result` (event or span attributes) as feedback on the span `target`. */
function evaluationFeedback(
  span: OtlpSpan,
  target: string,
  a: Attributes,
  timeNs: bigint,
  where: string,
  warnings: string[],
): JsonObject | undefined {
  const name = str(a['gen_ai.evaluation.name'])
  if (name === undefined) {
    warnings.push(`${where}: ${EVALUATION_EVENT} without gen_ai.evaluation.name ignored`)
    return undefined
  }
  const score = a['gen_ai.evaluation.score.value']
  const label = a['gen_ai.evaluation.score.label']
  const value = typeof score === 'number' ? score : typeof label === 'string' || typeof label === 'boolean' ? label : undefined
  if (value === undefined) {
    const err = str(a['error.type'])
    warnings.push(`${where}: evaluation "${name}" has no score or label${err ? ` (error.type ${err})` : ''}; ignored`)
    return undefined
  }
  const fb: JsonObject = {
    id: otlpFeedbackId(span.traceId, target, name),
    event_id: otlpEventId(span.traceId, target),
    name,
    value,
    ts: nanosToTimestamp(timeNs > 0n ? timeNs : span.endNs > 0n ? span.endNs : span.startNs),
  }
  const explanation = str(a['gen_ai.evaluation.explanation'])
  if (explanation !== undefined) fb.comment = explanation
  const metadata: JsonObject = {}
  if (typeof score === 'number' && label !== undefined) metadata.label = label
  const responseId = str(a['gen_ai.response.id'])
  if (responseId !== undefined) metadata.response_id = responseId
  if (Object.keys(metadata).length > 0) fb.metadata = metadata
  return fb
}

/**
 * Maps one span to inferlog records, following the GenAI semantic conventions:
 * `model.name` = `gen_ai.request.model` (else `gen_ai.response.model`), `model.version` =
 * `gen_ai.response.model` or `unversioned`, `model.params` = `gen_ai.request.*` keyed by the
 * name's last segment, `input`/`output` from the messages ({@link spanMessages}) or `null`,
 * `usage` from `gen_ai.usage.{input,output}_tokens` (or the older `prompt`/`completion_tokens`),
 * `ts` and `latency_ms.total` from the span's start and end, `status`/`error` from the span's
 * status, `trace` with hex ids (`session_id` from `gen_ai.conversation.id` or `session.id`,
 * `user_id` from `user.id` or `enduser.id`), a few identifying attributes in `context.tags`.
 */
export function mapSpan(span: OtlpSpan): SpanRecords {
  const a = span.attributes
  const warnings: string[] = []
  const feedback: JsonObject[] = []
  const modelName = str(a['gen_ai.request.model']) ?? str(a['gen_ai.response.model'])

  if (modelName === undefined) {
    // An evaluator may record its result as a span of its own under the evaluated one.
    const isEvaluation = span.name === EVALUATION_EVENT || a['gen_ai.evaluation.name'] !== undefined
    if (isEvaluation && span.parentSpanId !== undefined) {
      const fb = evaluationFeedback(span, span.parentSpanId, a, span.endNs || span.startNs, span.path, warnings)
      if (fb) feedback.push(fb)
      return { kind: 'evaluation', feedback, warnings }
    }
    return { kind: 'other', feedback, warnings }
  }

  const model: JsonObject = { name: modelName, version: str(a['gen_ai.response.model']) ?? 'unversioned' }
  const params = requestParams(a)
  if (params) model.params = params
  const { input, output } = spanMessages(span)
  const event: JsonObject = {
    id: otlpEventId(span.traceId, span.spanId),
    ts: nanosToTimestamp(span.startNs),
    model,
    input,
    output,
  }
  if (span.endNs > 0n) event.latency_ms = { total: Number(span.endNs - span.startNs) / 1e6 }
  const usage: JsonObject = {}
  const inTok = tokens(a['gen_ai.usage.input_tokens'] ?? a['gen_ai.usage.prompt_tokens'])
  const outTok = tokens(a['gen_ai.usage.output_tokens'] ?? a['gen_ai.usage.completion_tokens'])
  if (inTok !== undefined) usage.input_tokens = inTok
  if (outTok !== undefined) usage.output_tokens = outTok
  if (Object.keys(usage).length > 0) event.usage = usage
  const trace: JsonObject = { trace_id: span.traceId, span_id: span.spanId }
  if (span.parentSpanId !== undefined) trace.parent_span_id = span.parentSpanId
  const session = str(a['gen_ai.conversation.id']) ?? str(a['session.id'])
  if (session !== undefined) trace.session_id = session
  const user = str(a['user.id']) ?? str(a['enduser.id'])
  if (user !== undefined) trace.user_id = user
  event.trace = trace
  const tags = contextTags(span)
  if (tags) event.context = { tags }
  if (span.status.code === 2) {
    event.status = 'error'
    const error: JsonObject = { type: str(a['error.type']) ?? 'error' }
    if (span.status.message !== '') error.message = span.status.message
    event.error = error
  }
  span.events.forEach((e, i) => {
    if (e.name !== EVALUATION_EVENT) return
    const fb = evaluationFeedback(span, span.spanId, e.attributes, e.timeNs, `${span.path}.events[${i}]`, warnings)
    if (fb) feedback.push(fb)
  })
  return { kind: 'genai', event, feedback, warnings }
}
