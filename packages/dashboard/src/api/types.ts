/** Shapes of the HTTP API the dashboard reads (DESIGN.md public contract); only the fields it uses. */

export interface Tensor {
  dtype: 'float32' | 'float16' | 'int8' | 'int32' | 'uint8'
  shape: number[]
  data: number[] | string
}

export interface InferenceEvent {
  id: string
  ts: string
  model: { name: string; version: string; digest?: string; params?: Record<string, unknown>; endpoint?: string; stage?: string }
  shadow_of?: string
  input: unknown
  output?: unknown
  candidates?: { output: unknown; score?: number }[]
  internals?: Record<string, unknown>
  latency_ms?: Partial<Record<'total' | 'pre' | 'inference' | 'post' | 'ttft', number>>
  usage?: { input_tokens?: number; output_tokens?: number; cost_usd?: number; compute_ms?: number }
  trace?: { trace_id?: string; span_id?: string; parent_span_id?: string; session_id?: string; user_id?: string; downstream?: unknown[] }
  context?: {
    entities?: Record<string, unknown>
    raw_input?: unknown
    feature_pipeline?: unknown
    experiment?: { name?: string; arm?: string }
    tags?: Record<string, unknown>
  }
  status?: 'ok' | 'error'
  error?: { type?: string; message?: string }
  sample_rate?: number
}

export interface Feedback {
  id: string
  event_id: string
  name: string
  value: unknown
  kind?: 'explicit' | 'implicit'
  source?: { type?: string; id?: string }
  ts: string
  comment?: string
  metadata?: Record<string, unknown>
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export interface EventDetail {
  event: InferenceEvent
  feedback: Feedback[]
  shadows: InferenceEvent[]
}

export interface IngestReply {
  accepted: number
  duplicates: number
  ids: (string | null)[]
  rejected: { index: number; id?: string; code: string; path?: string; message: string }[]
}

export interface SessionInfo {
  via: 'session' | 'key' | 'open'
  project: string
  scopes: ('ingest' | 'read' | 'admin')[]
  key_id: string | null
  expires_at?: string
  csrf?: string
  open: boolean
}

export interface ModelVersion {
  version: string
  events: number
  errors: number
  first_ts: string
  last_ts: string
}

export interface ModelInfo {
  name: string
  versions: ModelVersion[]
  config?: { labels?: Record<string, { output: string; type: string }>; monitored_fields?: string[]; dimensions?: string[] }
}

export interface Interval {
  value: number | null
  ci_low: number | null
  ci_high: number | null
}

export interface Quantiles {
  p50: number | null
  p90: number | null
  p99: number | null
  mean?: number | null
}

export interface QualityFigures {
  n_labeled: number
  coverage: number
  accuracy?: Interval
  f1_macro?: Interval
  mae?: Interval
  rmse?: Interval
  mean?: Interval
  ece?: number | null
  [k: string]: unknown
}

/**
 * One bucket of `GET /v1/metrics`. A reply read with `fields=` carries `start` and the figures
 * named only, so everything else may be absent (an object left empty is dropped whole).
 */
export interface MetricPoint {
  start: string
  count: number
  n?: number
  n_eff?: number
  errors?: number
  error_rate: number | null
  latency_ms?: Partial<Record<string, Quantiles>>
  usage?: { input_tokens?: number; output_tokens?: number; cost_usd?: number }
  quality?: Record<string, QualityFigures>
  estimated?: Record<string, Record<string, number | null>>
}

export interface MetricsReply {
  bucket: string
  series: { group: Record<string, string>; points: MetricPoint[] }[]
}

export interface AlertRule {
  id: string
  name?: string
  condition: { type: string; metric?: string; fields?: string[]; label?: string; [k: string]: unknown }
  window: string
  operator: string
  threshold: number
  min_samples?: number
  webhook?: string
}

export interface AlertsView {
  rules: {
    rule: AlertRule
    state: 'ok' | 'firing'
    since: string
    evaluated_at: string | null
    last: { value?: number | null; n?: number; [k: string]: unknown } | null
  }[]
  transitions: { rule_id: string; at: string; transition: string; value?: number | null; [k: string]: unknown }[]
}
