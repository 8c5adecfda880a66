import type { WriteBatch } from '../store/store.js'

/**
 * The Queue port: how accepted items travel from stateless collectors to the workers that write
 * the store. A collector publishes one group of items (the items of the requests that arrived
 * together) and acknowledges its clients only once `publish` resolved; a worker fetches groups,
 * writes them, and acknowledges each only after the store committed it. Delivery is at least
 * once: a group not acknowledged in time is delivered again, and the store's idempotency turns
 * that into exactly-once effect.
 *
 * Every adapter passes `queue-conformance.test-suite.ts`: groups come in publish order; the ack wait
 * of a delivery runs from the `fetch` that handed it out; a re-publish of the same group (same
 * content, hence same message id) inside the adapter's duplicate window is dropped, also after the
 * first was acknowledged; after `close`, `ping` and `publish` reject as `unavailable` and `fetch`
 * brings nothing.
 */
export interface Queue {
  /** Adapter name, e.g. `nats`. */
  readonly kind: string
  /**
   * Largest item (canonical JSON bytes) a group can always carry, when the queue has a message size
   * limit. Collectors lower their per-item limit to it, so an oversized item is refused alone
   * (`item_too_large`) instead of failing the group it shares with other requests.
   */
  readonly maxItemBytes?: number
  /**
   * Stores one group durably (as the adapter defines it); resolves once the queue acknowledged.
   * Rejects with an `unavailable` {@link InferlogError} (503 + Retry-After) when it cannot.
   */
  publish(batch: WriteBatch): Promise<void>
  /**
   * Up to `max` deliveries, waiting at most `waitMs` for the first one; an empty array when none
   * came. Rejects when the queue cannot be reached.
   */
  fetch(max: number, waitMs: number): Promise<QueueDelivery[]>
  /** Cheap check that the queue can take publishes now; rejects when it cannot. */
  ping(): Promise<void>
  /** Idempotent. */
  close(): Promise<void>
}

/** One delivered group. Its methods never throw (after `close` they may do nothing). */
export interface QueueDelivery {
  batch: WriteBatch
  /** 1 for the first delivery, more when redelivered (a worker died or gave it back). */
  deliveryCount: number
  /** Payload size in bytes, for metrics. */
  bytes: number
  /** Done: the items are committed. */
  ack(): void
  /** Give it back for redelivery after `delayMs` (default: at once). */
  nak(delayMs?: number): void
  /** Still working on it: restart the redelivery timer. */
  working(): void
  /** Never deliver again (a group that can never be written; the worker records why). */
  term(): void
}
