import type { JsonValue } from '@inferlog/schema'

/** Attributes of a span, span event or resource, read from OTLP `KeyValue`s (a later key wins). */
export type Attributes = Record<string, JsonValue>

/** One event recorded on a span (`Span.Event`). */
export interface OtlpSpanEvent {
  name: string
  /** Nanoseconds since the Unix epoch; 0n when the exporter left it unset. */
  timeNs: bigint
  attributes: Attributes
}

/**
 * A span as the mapping sees it, whatever the wire encoding: ids as lower-case hex, times as
 * nanoseconds, attribute values as JSON, the enclosing resource's attributes alongside.
 */
export interface OtlpSpan {
  /** Where it sat in the request (`resourceSpans[0].scopeSpans[1].spans[4]`), for messages. */
  path: string
  traceId: string
  spanId: string
  /** Absent for a root span. */
  parentSpanId?: string
  name: string
  /** `SpanKind` number (0 unspecified … 5 consumer). */
  kind: number
  startNs: bigint
  endNs: bigint
  attributes: Attributes
  events: OtlpSpanEvent[]
  /** `code`: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string }
  resource: Attributes
  scope: { name: string; version: string }
}

/** A span that could not be read, with the reason. */
export interface SpanProblem {
  path: string
  message: string
  /** How many spans the problem covers (a broken resource covers all its spans). */
  spans: number
}

/** An export request read into spans. */
export interface DecodedTraces {
  spans: OtlpSpan[]
  /** Spans refused before mapping (bad ids, wrong types). */
  problems: SpanProblem[]
  /** Things read but ignored (unknown fields, profiling-only fields); never a reason to refuse. */
  warnings: string[]
}
