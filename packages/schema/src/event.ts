/**
 * The inference event: one live prediction, schema `inferlog.event/v1`.
 *
 * Field names are part of the public contract (see docs/reference/record.md): extend, never rename.
 * The JSON Schema in `schemas/event.v1.schema.json` describes the same shape for other languages.
 */

/** Identifier of this record schema. */
export const EVENT_SCHEMA = 'inferlog.event/v1' as const

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Any JSON object. */
export type JsonObject = { [key: string]: JsonValue }

/** Element types a logged tensor may declare. */
export const TENSOR_DTYPES = ['float32', 'float16', 'int8', 'int32', 'uint8'] as const

/** One of {@link TENSOR_DTYPES}. */
export type TensorDtype = (typeof TENSOR_DTYPES)[number]

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<TensorDtype, number>> = {
  float32: 4,
  float16: 2,
  int8: 1,
  int32: 4,
  uint8: 1,
}

/**
 * A tensor: `data` is either a JSON number array (row-major, length = product of `shape`)
 * or a base64 string of little-endian bytes (length = product of `shape` × dtype size).
 */
export interface Tensor {
  dtype: TensorDtype
  shape: number[]
  data: number[] | string
}

/** Deployment role of the model that produced an event. Default `primary`. */
export type ModelStage = 'primary' | 'shadow' | 'canary' | 'challenger'

/** Model context and versioning (seed component 02). */
export interface ModelInfo {
  /** Model identifier, e.g. `churn-clf`. Required. */
  name: string
  /** Model version, e.g. `3.2.0`. Required. */
  version: string
  /** Content hash or registry commit of the weights. */
  digest?: string
  /** Inference parameters: temperature, top_p, max_tokens, threshold… */
  params?: JsonObject
  /** Serving endpoint or pipeline stage. */
  endpoint?: string
  /** Default `primary`. */
  stage?: ModelStage
}

/** Latency breakdown in milliseconds (seed component 03). Each part optional. */
export interface LatencyMs {
  total?: number
  pre?: number
  inference?: number
  post?: number
  /** Time to first token. */
  ttft?: number
}

/** Resource usage and cost (use case 6). */
export interface Usage {
  input_tokens?: number
  output_tokens?: number
  cost_usd?: number
  compute_ms?: number
}

/** Request metadata and tracing (seed component 03). */
export interface TraceInfo {
  trace_id?: string
  span_id?: string
  parent_span_id?: string
  session_id?: string
  /** Pseudonymized before it leaves the process when a secret is configured. */
  user_id?: string
  /** Identifiers of downstream systems that consumed the prediction. */
  downstream?: string[]
}

/** A/B experiment assignment. */
export interface ExperimentInfo {
  name?: string
  arm?: string
}

/** Business and feature context (seed component 06). */
export interface BusinessContext {
  /** Business entity ids, e.g. `{product_id: "p1", customer_tier: "gold"}`. */
  entities?: JsonObject
  /** Raw source data before feature engineering. */
  raw_input?: JsonValue
  /** Feature pipeline version used to build `input`. */
  feature_pipeline?: string
  experiment?: ExperimentInfo
  tags?: Record<string, string | number | boolean>
}

/** One output that was shown or compared (use case 4: preference learning). */
export interface Candidate {
  output: JsonValue
  score?: number
  [key: string]: JsonValue | undefined
}

/** Outcome of the prediction. */
export type EventStatus = 'ok' | 'error'

/** Error detail when `status` is `error`. */
export interface EventError {
  type: string
  message?: string
}

/** One prediction, as sent by a client and as stored. */
export interface InferenceEvent {
  /** Request id (UUIDv7 recommended); assigned by the collector if absent. Unique per project. */
  id?: string
  /** Optional schema marker; when present it must be `inferlog.event/v1`. */
  schema?: typeof EVENT_SCHEMA
  /** RFC 3339 time the prediction started; the receipt time is used when absent. */
  ts?: string
  model: ModelInfo
  /** For a shadow/challenger event: the id of the primary event it mirrors. */
  shadow_of?: string
  /** Features, prompt/messages, image reference (seed component 01). Required. */
  input: JsonValue
  /** Class, scores, generated text. Required unless `status` is `error`. */
  output?: JsonValue
  candidates?: Candidate[]
  /** Optional internal states: logits, embeddings, attention, token logprobs, decision paths. */
  internals?: Record<string, Tensor | JsonValue>
  latency_ms?: LatencyMs
  usage?: Usage
  trace?: TraceInfo
  context?: BusinessContext
  /** Default `ok`. */
  status?: EventStatus
  error?: EventError
  /** Probability in (0, 1] that this event was kept; metrics weight by 1/rate. Default 1. */
  sample_rate?: number
}
