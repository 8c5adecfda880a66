import type { ItemRejection } from '@inferlog/schema'

/** Stable codes of the failures the SDK reports through `onError`. Branch on these, never on text. */
export type SdkErrorCode =
  /** The queue was full: items were dropped (see `stats().dropped`). */
  | 'queue_overflow'
  /**
   * `log()` or `feedback()` was called after `close()`: the items were dropped (reported once per
   * close, with their count in `items`); or a timed-out `close()` dropped what was still queued.
   */
  | 'closed'
  /** The collector refused items one by one (a 207 reply); `rejections` holds each code. Not retried. */
  | 'rejected'
  /** A batch could not be delivered and is lost (retries exhausted without a spool, or a non-retryable reply). */
  | 'delivery_failed'
  /** A delivery attempt failed and will be retried or spooled. */
  | 'delivery_retry'
  /** Spooled batches were evicted to respect the spool's size cap: items were dropped. */
  | 'spool_full'
  /** Writing or reading the spool failed. */
  | 'spool_failed'
  /** An item could not be serialized (circular structure, BigInt…) and was left out. */
  | 'serialize_failed'
  /** A user callback (`sampling.internals.when`) threw. */
  | 'callback_failed'
  /**
   * The direct-to-store transport could not be set up (the `@inferlog/server` package or its
   * `openDirectIngest` is missing, or the store cannot be opened): the batch is failed, not retried.
   */
  | 'store_unavailable'

/** The one error type the SDK hands to `onError`. It is never thrown into the host app. */
export class InferlogSdkError extends Error {
  override readonly name = 'InferlogSdkError'
  /** Per-item rejections, for code `rejected`. */
  readonly rejections?: ItemRejection[]
  /** HTTP status of the reply, when there was one. */
  readonly status?: number
  /** Number of items the failure concerns, when known. */
  readonly items?: number

  constructor(
    readonly code: SdkErrorCode,
    message: string,
    extra: { rejections?: ItemRejection[]; status?: number; items?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    if (extra.rejections) this.rejections = extra.rejections
    if (extra.status !== undefined) this.status = extra.status
    if (extra.items !== undefined) this.items = extra.items
  }
}
