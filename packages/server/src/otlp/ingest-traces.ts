import type { IngestReply, JsonObject } from '@inferlog/schema'
import type { IngestKind, IngestService } from '../ingest/ingest-service.js'
import type { ParsedItem } from '../ingest/parse-items.js'
import { mapSpan } from './genai-span-mapping.js'
import type { DecodedTraces } from './otlp-span.js'

/** What an export did, span by span. */
export interface TraceExportResult {
  /** Spans in the request, readable or not. */
  spans: number
  /** Events stored now or already stored (a re-export). */
  events: number
  /** Feedback items stored now or already stored. */
  feedback: number
  /** Spans that are neither GenAI inference spans nor evaluations: counted, not stored. */
  ignored: number
  /** Spans refused, unreadable or with a record the ingest pipeline refused. */
  rejectedSpans: number
  /** Why spans were refused, first ones first. */
  errors: string[]
  /** What was read but left out, never a refusal. */
  warnings: string[]
}

/** Messages kept per reply; the rest are counted. */
const MAX_MESSAGES = 20

interface Pending {
  items: JsonObject[]
  /** The span (index into the decoded spans) each item came from. */
  spanOf: number[]
}

async function ingestChunked(
  ingest: IngestService,
  kind: IngestKind,
  project: string,
  p: Pending,
  maxItems: number,
  onRejected: (span: number, message: string) => void,
): Promise<number> {
  let stored = 0
  for (let start = 0; start < p.items.length; start += maxItems) {
    const chunk: ParsedItem[] = p.items.slice(start, start + maxItems).map((value, index) => ({ index, value, bytes: -1 }))
    const reply: IngestReply = await ingest.ingest(kind, project, chunk)
    stored += reply.accepted + reply.duplicates
    for (const r of reply.rejected) {
      onRejected(p.spanOf[start + r.index]!, `${kind} ${r.id ?? ''}: ${r.code}${r.path ? ` at ${r.path}` : ''}: ${r.message}`)
    }
  }
  return stored
}

/**
 * Maps decoded spans to events and feedback ({@link mapSpan}) and sends them through the ingest
 * pipeline (validation, idempotency, group commit), events and feedback concurrently so they
 * share commits. A span counts as rejected when it could not be read or when any record made
 * from it was refused.
 */
export async function ingestTraces(
  decoded: DecodedTraces,
  ingest: IngestService,
  project: string,
  maxItemsPerCall: number,
): Promise<TraceExportResult> {
  const result: TraceExportResult = {
    spans: decoded.spans.length + decoded.problems.reduce((n, p) => n + p.spans, 0),
    events: 0,
    feedback: 0,
    ignored: 0,
    rejectedSpans: 0,
    errors: [],
    warnings: [...decoded.warnings],
  }
  for (const p of decoded.problems) {
    result.rejectedSpans += p.spans
    result.errors.push(p.message)
  }
  const events: Pending = { items: [], spanOf: [] }
  const feedback: Pending = { items: [], spanOf: [] }
  decoded.spans.forEach((span, i) => {
    const r = mapSpan(span)
    if (r.kind === 'other') result.ignored++
    if (r.event) {
      events.items.push(r.event)
      events.spanOf.push(i)
    }
    for (const f of r.feedback) {
      feedback.items.push(f)
      feedback.spanOf.push(i)
    }
    result.warnings.push(...r.warnings)
  })
  const refused = new Set<number>()
  const onRejected = (span: number, message: string) => {
    refused.add(span)
    result.errors.push(`${decoded.spans[span]!.path}: ${message}`)
  }
  const [e, f] = await Promise.all([
    ingestChunked(ingest, 'event', project, events, maxItemsPerCall, onRejected),
    ingestChunked(ingest, 'feedback', project, feedback, maxItemsPerCall, onRejected),
  ])
  result.events = e
  result.feedback = f
  result.rejectedSpans += refused.size
  return result
}

/**
 * The `partial_success` of the reply: set when spans were refused (with the count and reasons)
 * or, with `rejected_spans` 0, when there is something to say (spans counted but not stored,
 * fields ignored), as OTLP allows for warnings. `undefined` when every span was stored.
 */
export function partialSuccess(r: TraceExportResult): { rejectedSpans: number; errorMessage: string } | undefined {
  const parts: string[] = []
  if (r.rejectedSpans > 0) parts.push(`${r.rejectedSpans} of ${r.spans} spans rejected`)
  if (r.ignored > 0) {
    parts.push(`${r.ignored} span(s) without gen_ai.request.model (not GenAI inference spans) were counted, not stored`)
  }
  const notes = [...r.errors, ...r.warnings]
  if (parts.length === 0 && notes.length === 0) return undefined
  const shown = notes.slice(0, MAX_MESSAGES)
  if (notes.length > shown.length) shown.push(`${notes.length - shown.length} more not shown`)
  return { rejectedSpans: r.rejectedSpans, errorMessage: [...parts, ...shown].join('; ') }
}
