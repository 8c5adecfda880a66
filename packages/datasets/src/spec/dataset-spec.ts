/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** How the feedback items of one column become one value. */
export type FeedbackAggregate = 'latest' | 'earliest' | 'mean' | 'sum' | 'min' | 'max' | 'count' | 'all'

/** What a build writes. */
export type DatasetFormat = 'jsonl' | 'openai-chat' | 'preference' | 'parquet' | 'csv' | 'bandit'

/** Types of declared tabular columns. */
export type TabularType = 'double' | 'int64' | 'boolean' | 'string' | 'json'

/** `select`: a FILTER (as `GET /v1/events`, `version` may be a list) plus `where` and `limit`. */
export interface SelectSpec {
  model?: string
  version?: string | string[]
  stage?: 'primary' | 'shadow' | 'canary' | 'challenger'
  /** Default: only `ok` events; `error` events are selected only by naming them here. */
  status?: 'ok' | 'error'
  /** Inclusive, RFC 3339 (date-time or full-date, UTC) or epoch ms. */
  from?: string | number
  /** Exclusive, RFC 3339 (date-time or full-date, UTC) or epoch ms. */
  to?: string | number
  session_id?: string
  user_id?: string
  arm?: string
  /** Dotted path into the event → the JSON value it must equal (RFC 8785 canonical comparison). */
  where?: Record<string, JsonValue>
  /** At most this many selected events (after `where`), the first in commit order. */
  limit?: number
}

/** One output column made from feedback. */
export interface FeedbackColumnSpec {
  /** Feedback `name` to join; default the column's key. */
  name?: string
  /** `7d`, `12h`, `30m`, `45s`, `2w`, `500ms` or ms; items count when ts ∈ [event ts, event ts + window]. Default: any time. */
  window?: string | number
  /** Default `latest`. */
  aggregate?: FeedbackAggregate
  /** `drop` (the default: the event is left out) or `{default: VALUE}`. */
  missing?: 'drop' | { default: JsonValue }
}

/** The dataset spec: the public contract of issue 11 (extend, never rename). */
export interface DatasetSpec {
  name?: string
  select?: SelectSpec
  feedback?: Record<string, FeedbackColumnSpec>
  /** The training target: a feedback column, optionally mapped (keys are values as text). */
  label?: { from: string; map?: Record<string, JsonValue> }
  /** Default `inverse_sample_rate`. */
  weight?: 'inverse_sample_rate' | 'none' | 'balanced'
  /** Default `none`. */
  dedupe?: 'input' | 'none'
  /** Default: every row in `train`. `by` defaults to `trace.session_id`; `seed` to `""`. */
  split?: { by?: string; ratios: Record<string, number>; seed?: string | number }
  /** Default `jsonl`. */
  format?: DatasetFormat
  /** parquet/csv: declared `input.*` / `feedback.*` columns (skips the inference pass). */
  columns?: Record<string, TabularType>
  /** format `bandit`: reward column, probability path, prioritized sampling. */
  bandit?: {
    reward?: string
    probability?: string
    prioritized?: { by?: string; size: number; alpha?: number; epsilon?: number; seed?: string | number }
  }
}
