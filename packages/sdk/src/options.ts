import type { InferenceEvent, ModelInfo } from '@inferlog/schema'
import type { InferlogSdkError } from './errors.js'

/** Batching: a batch leaves when any limit is reached. */
export interface BatchOptions {
  /** Most items in one request. Default 1000 (the collector accepts up to 10 000). */
  maxItems?: number
  /** Most bytes of NDJSON (before gzip) in one request. Default 1 MiB (the collector accepts 5 MiB). */
  maxBytes?: number
  /** Longest time an item waits in the queue before its batch is sent, ms. Default 1000. */
  intervalMs?: number
}

/** What `log()` does when the in-memory queue is full. */
export type OverflowPolicy = 'drop-newest' | 'drop-oldest' | 'spool'

/** The bounded in-memory queue between `log()` and the batcher. */
export interface QueueOptions {
  /** Most items (events + feedback) held in memory. Default 10 000. */
  maxItems?: number
  /**
   * Most bytes held in memory, estimated without serializing: queued items × the moving average
   * of serialized item sizes. Default 32 MiB.
   */
  maxBytes?: number
  /**
   * On a full queue: `drop-newest` (default) refuses the new item, `drop-oldest` evicts the oldest
   * queued item, `spool` sends batches to the disk spool as soon as the network falls behind
   * (the queue passes half its cap while every connection is busy) and drops the newest item only
   * if even that cannot keep up. Every dropped item is counted in `stats().dropped`.
   */
  overflow?: OverflowPolicy
}

/** The disk spool that holds batches while the collector is unreachable. Node only. */
export interface SpoolOptions {
  /**
   * Directory of spooled batches, or `false` to disable the spool. Default
   * `<os.tmpdir()>/inferlog-spool/<project>-<hash of url>`; in runtimes without a file system the
   * spool is off. Give each logger its own directory: two loggers replaying one directory send
   * batches twice (harmless at the collector) and count each other's files.
   */
  dir?: string | false
  /** Size cap of the directory; the oldest batches are evicted (and counted as dropped) beyond it. Default 256 MiB. */
  maxBytes?: number
  /** fsync each spool file before counting it spooled (survives power loss, not only a crash). Default true. */
  fsync?: boolean
}

/** Which internals (tensors, logprobs…) are captured. Decided off the caller's path, in the batcher. */
export interface InternalsSamplingOptions {
  /** Share of kept events whose `internals` are captured, deterministic by event id. Default 1. */
  rate?: number
  /**
   * Captures internals only for events where this returns true, e.g.
   * `(e) => e.output.confidence < 0.6`. Called in the batcher, never in `log()`. Default: always.
   */
  when?: (event: LoggedEvent) => boolean
}

/** Event sampling. */
export interface SamplingOptions {
  /**
   * Share of events kept, in (0, 1], deterministic by event id (feedback follows its event).
   * Kept events carry `sample_rate` so metrics can re-weight them. Default 1.
   */
  rate?: number
  /** Internals capture policy. Default: capture all internals of kept events. */
  internals?: InternalsSamplingOptions
}

/** Float tensor compaction applied on capture. */
export type Quantization = 'none' | 'float16' | 'int8'

/** How `internals` are encoded. */
export interface InternalsOptions {
  /**
   * Byte budget for one event's internals (base64 tensors and JSON values, as serialized).
   * Entries that do not fit are left out, in insertion order, and their names listed in
   * `internals._omitted`. Default 256 KiB.
   */
  maxBytes?: number
  /**
   * Compaction of float tensors (Float32Array, Float64Array, float32 tensor objects): `float16`
   * halves the bytes, `int8` quarters them and adds a `<name>_scale` entry
   * (`value ≈ code × scale`). A tensor object may ask for its own with `{dtype: 'float16', data: Float32Array}`.
   * Default `none`.
   */
  quantize?: Quantization
}

import type { RedactOptions } from '@inferlog/schema'

export type { DetectorKind, RedactOptions } from '@inferlog/schema'

/** HMAC pseudonymization of user ids. */
export interface PseudonymizeOptions {
  /** The HMAC-SHA256 key. `trace.user_id` (and a feedback `source.id` of type `user`) become its hex digest. */
  secret: string
}

/** An event as given to `log()`: every field of the record is optional; `model` defaults to the logger's. */
export type LoggedEvent = Partial<Omit<InferenceEvent, 'internals' | 'error'>> & {
  /** Tensors may be typed arrays (sent as base64 bytes) or `{dtype?, shape, data: TypedArray | number[]}`. */
  internals?: Record<string, unknown>
  /** An `Error` is turned into `{type, message}`; `status` then defaults to `error`. */
  error?: { type: string; message?: string } | Error
}

/** Options of {@link createLogger}. Everything is optional. */
export interface LoggerOptions {
  /** Collector base URL. Default `$INFERLOG_URL`, else `http://127.0.0.1:7070` (the `inferlog serve` default). */
  url?: string
  /** Sent as `Authorization: Bearer <apiKey>`. Default `$INFERLOG_API_KEY`, else none (open collector). */
  apiKey?: string
  /** Sent as `X-Inferlog-Project`. Default `$INFERLOG_PROJECT`, else none (the key's or the server's default project). */
  project?: string
  /** Model of events that do not carry their own `model`. Default none. */
  model?: ModelInfo
  /** Default `{maxItems: 1000, maxBytes: 1 MiB, intervalMs: 1000}`. */
  batch?: BatchOptions
  /** Default `{maxItems: 10 000, maxBytes: 32 MiB, overflow: 'drop-newest'}`. */
  queue?: QueueOptions
  /** Default `{dir: <tmpdir>/inferlog-spool/<project>, maxBytes: 256 MiB, fsync: true}`. */
  spool?: SpoolOptions
  /** Default keep everything. */
  sampling?: SamplingOptions
  /** Default `{maxBytes: 256 KiB, quantize: 'none'}`. */
  internals?: InternalsOptions
  /**
   * `true` runs the three detectors; a list of paths drops those fields and runs the detectors;
   * an object configures both. Default `false`: no redaction (detectors scan every string, which
   * costs time in the batcher).
   */
  redact?: boolean | string[] | RedactOptions
  /** Default none: `user_id` is sent as given. */
  pseudonymize?: PseudonymizeOptions
  /**
   * Receives every failure the SDK absorbs (delivery, rejections, overflow, spool). Never called
   * synchronously from `log()`. Default: one line on `console.warn`, at most once per minute per code.
   */
  onError?: (error: InferlogSdkError) => void
  /**
   * Direct-to-store instead of HTTP, for embedded use: `sqlite:./data/inferlog.db`. Needs the
   * optional peer package `@inferlog/server`, loaded on first use. Default none (HTTP to `url`).
   */
  store?: string
  /** HTTP transport details. */
  http?: HttpOptions
  /** Flush on `beforeExit`, `SIGTERM` and `SIGINT` (Node). Default true. */
  flushOnExit?: boolean
  /** Longest a signal-triggered flush may take before the process is let go, ms. Default 5000. */
  exitTimeoutMs?: number
}

/** HTTP transport details. */
export interface HttpOptions {
  /** Requests in flight at once. Default 2. */
  concurrency?: number
  /** A request with no response activity for this long is abandoned and retried, ms. Default 10 000. */
  timeoutMs?: number
  /**
   * Retries of a batch after the first attempt when the spool is off; with a spool, a batch is
   * retried `retriesBeforeSpool` times and then spooled. Default 8.
   */
  maxRetries?: number
  /** Retries before a failing batch goes to the spool. Default 1. */
  retriesBeforeSpool?: number
  /**
   * Bound of the first backoff delay; it doubles on each retry, and each delay is a uniform draw below
   * it (full jitter), ms. Default 100.
   */
  initialBackoffMs?: number
  /** Backoff cap (also the slowest spool replay probe while the collector is down), ms. Default 15 000. */
  maxBackoffMs?: number
  /** gzip level 1–9, or 0 to send uncompressed. Default 1 (fast; NDJSON still shrinks 4–10×). */
  gzipLevel?: number
  /** Extra request headers. Default none. */
  headers?: Record<string, string>
}
