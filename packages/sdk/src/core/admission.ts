import type { FeedbackItem } from '@inferlog/schema'
import type { LoggedEvent, OverflowPolicy } from '../options.js'
import type { Platform } from './platform.js'
import { RingQueue } from './ring-queue.js'
import type { Counts, Report } from './stats.js'

/** Settings of {@link Admission}. */
export interface AdmissionConfig {
  queue: { maxItems: number; maxBytes: number; overflow: OverflowPolicy }
  batch: { maxItems: number; maxBytes: number }
}

/**
 * The caller's side of the pipeline: `log()` and `feedback()` land here. O(1), no I/O, no
 * serialization, never throws, never calls back synchronously. Holds the bounded queue (one ring
 * per record kind), applies the overflow policy, and wakes the batcher when a batch is full.
 */
export class Admission {
  readonly ev: RingQueue<LoggedEvent>
  readonly fb: RingQueue<FeedbackItem>
  /** Moving averages of serialized sizes (kept by the batcher), for the byte estimate. */
  readonly avg = { event: 1024, feedback: 256 }
  private readonly maxItems: number
  private readonly maxBytes: number
  private readonly overflow: OverflowPolicy
  private readonly batchItems: number
  private readonly batchBytes: number
  /** A queue_overflow report is out; the next waits until the queue falls below half. */
  private overflowing = false
  private closed = false
  /** Items refused since close(), for the one report that says so. */
  private afterClose = 0
  private closedReport: Promise<void> | undefined

  /**
   * @param wake asks the batcher to run soon (cheap to call again while it is pending).
   */
  constructor(
    cfg: AdmissionConfig,
    private readonly counts: Counts,
    private readonly platform: Platform,
    private readonly report: Report,
    private readonly wake: () => void,
  ) {
    this.maxItems = cfg.queue.maxItems
    this.maxBytes = cfg.queue.maxBytes
    this.overflow = cfg.queue.overflow
    this.batchItems = cfg.batch.maxItems
    this.batchBytes = cfg.batch.maxBytes
    this.ev = new RingQueue(cfg.queue.maxItems)
    this.fb = new RingQueue(cfg.queue.maxItems)
  }

  /** Items waiting in memory. */
  get size(): number {
    return this.ev.size + this.fb.size
  }

  /** True once the queue holds half its cap: `overflow: 'spool'` starts diverting batches to disk then. */
  get halfFull(): boolean {
    return (this.ev.size + this.fb.size) * 2 >= this.maxItems
  }

  /** Enqueues an event. */
  enqueueEvent(event: LoggedEvent, id: string, time: number): void {
    if (this.closed) return this.refuseClosed()
    const q = this.ev
    if (!this.admit(q)) return
    q.push(event, id, time)
    this.counts.enqueued++
    if (q.size >= this.batchItems || q.size * this.avg.event >= this.batchBytes) this.wake()
  }

  /** Enqueues a feedback item (its `id` is set). */
  enqueueFeedback(item: FeedbackItem, time: number): void {
    if (this.closed) return this.refuseClosed()
    const q = this.fb
    if (!this.admit(q)) return
    q.push(item, item.id as string, time)
    this.counts.enqueued++
    if (q.size >= this.batchItems) this.wake()
  }

  /** True after {@link close}. */
  get refusing(): boolean {
    return this.closed
  }

  /** From now on items are refused (counted as dropped, reported once). */
  close(): void {
    this.closed = true
  }

  /** The batcher emptied the queue below half: the next overflow is reported again. */
  relieve(): void {
    if (this.overflowing && !this.halfFull) this.overflowing = false
  }

  /** Drops what is still queued (a timed-out close); returns how many items that was. */
  discard(): number {
    const left = this.size
    while (this.ev.size > 0) this.ev.drop()
    while (this.fb.size > 0) this.fb.drop()
    return left
  }

  private admit(q: RingQueue<unknown>): boolean {
    const items = this.ev.size + this.fb.size
    if (items < this.maxItems && this.ev.size * this.avg.event + this.fb.size * this.avg.feedback + this.avg.event <= this.maxBytes) {
      if (this.overflow === 'spool' && items * 2 >= this.maxItems) this.wake()
      return true
    }
    this.counts.dropped++
    if (!this.overflowing) {
      this.overflowing = true
      const { maxItems, maxBytes, overflow } = this
      this.platform.soon(() =>
        this.report(
          'queue_overflow',
          `the in-memory queue is full (${maxItems} items / ${maxBytes} bytes); dropping (${overflow}); see stats().dropped`,
        ),
      )
    }
    this.wake()
    if (this.overflow === 'drop-oldest' && q.size > 0) {
      // Make room: the oldest item of the same kind goes, the new one is kept.
      q.drop()
      return true
    }
    return false
  }

  /** Resolves once the report about items logged after close() (if any) went out. */
  reported(): Promise<void> {
    return this.closedReport ?? Promise.resolve()
  }

  private refuseClosed(): void {
    this.counts.dropped++
    // One report per close, once the burst of late calls is over (never from inside log()), with
    // how many there were.
    if (this.afterClose++ > 0) return
    this.closedReport = new Promise<void>((resolve) =>
      this.platform.soon(() => {
        const n = this.afterClose
        this.report(
          'closed',
          `${n} item${n === 1 ? '' : 's'} logged after close() ${n === 1 ? 'was' : 'were'} dropped; later ones are only counted in stats().dropped`,
          { items: n },
        )
        resolve()
      }),
    )
  }
}
