import type { RecordKind } from './platform.js'
import type { RingQueue } from './ring-queue.js'

/** What the tracker needs to know of a batch: its kind, first sequence number and size. */
export interface TrackedBatch {
  readonly kind: RecordKind
  /** Sequence number (per kind) of the first item; flush() waits until every batch below its target settles. */
  readonly minSeq: number
  readonly count: number
}

interface FlushWaiter {
  ev: number
  fb: number
  resolve: () => void
}

/**
 * Knows which items are still pending (queued, or in a batch that is not yet acknowledged,
 * spooled or given up) and resolves `flush()` calls once everything enqueued before them settled.
 * Items are numbered per kind by the queues (`pushed`/`shifted`); a flush waits until the lowest
 * pending sequence number of each kind passes what was pushed when it started.
 */
export class FlushTracker {
  private readonly inflight = new Set<TrackedBatch>()
  /** Items in batches taken from the queues and not settled yet (counted as they are serialized). */
  items = 0
  private waiters: FlushWaiter[] = []

  constructor(
    private readonly ev: RingQueue<unknown>,
    private readonly fb: RingQueue<unknown>,
  ) {}

  /** True while a flush (or close) waits. */
  get waiting(): boolean {
    return this.waiters.length > 0
  }

  /** A batch starts being built: its items are pending until {@link settle}. */
  track(batch: TrackedBatch): void {
    this.inflight.add(batch)
  }

  /** A batch was acknowledged, spooled or given up on. */
  settle(batch: TrackedBatch): void {
    if (this.inflight.delete(batch)) this.items -= batch.count
    this.check()
  }

  /** True when items are queued or in flight (used by the exit hooks). */
  hasPending(): boolean {
    return this.ev.size + this.fb.size + this.inflight.size > 0
  }

  /** Resolves once everything enqueued so far settled. Never rejects. */
  wait(): Promise<void> {
    const w: FlushWaiter = { ev: this.ev.pushed, fb: this.fb.pushed, resolve: () => undefined }
    const done = new Promise<void>((resolve) => (w.resolve = resolve))
    this.waiters.push(w)
    this.check()
    return done
  }

  /** Resolves the waiters whose items all settled. */
  check(): void {
    if (this.waiters.length === 0) return
    const ev = this.lowest(this.ev, 'event')
    const fb = this.lowest(this.fb, 'feedback')
    const still: FlushWaiter[] = []
    for (const w of this.waiters) {
      if (ev >= w.ev && fb >= w.fb) w.resolve()
      else still.push(w)
    }
    this.waiters = still
  }

  private lowest(q: RingQueue<unknown>, kind: RecordKind): number {
    let low = q.shifted
    for (const b of this.inflight) if (b.kind === kind && b.minSeq < low) low = b.minSeq
    return low
  }
}
