import type { WriteQueueConfig } from '../config.js'
import { InferlogError } from '../errors.js'
import type { ServerMetrics } from '../metrics.js'
import type { EventLogWriter, WriteBatch, WriteResult } from '../store/store.js'
import { writeIsolating } from './write-isolating.js'

interface Pending {
  batch: WriteBatch
  size: number
  resolve: (r: WriteResult) => void
  reject: (e: unknown) => void
}

/**
 * Where the queue writes: the store (embedded), or a scale-out publisher. `isDataError` lets one
 * bad item be isolated instead of failing the whole group; `committed` says whether a successful
 * write is a commit to the log (so the commit feed has something new), which a publisher's is not.
 */
export type GroupWriter = Pick<EventLogWriter, 'writeBatch'> &
  Partial<Pick<EventLogWriter, 'isDataError'>> & { readonly commitsToLog?: boolean }

/**
 * Group commit. Requests submit their items; the queue writes the items of every request that
 * arrived meanwhile in one transaction, then answers each request with its own outcomes. A
 * request's promise resolves only after the transaction holding its items committed.
 *
 * Bounded: when more than `maxPendingItems` wait, `submit` throws `overloaded` (503 +
 * Retry-After) instead of growing memory.
 */
export class WriteQueue {
  private queue: Pending[] = []
  private pendingItems = 0
  private scheduled = false
  private writing = false
  /** When the commit in flight started, and the time commits were in flight before it, ms ({@link busyMs}). */
  private writingSince = 0
  private busyBefore = 0
  private closed = false
  private idle: (() => void)[] = []

  /**
   * @param afterCommit called after each commit to the log (never for a scale-out publisher), with
   *   nothing but the news: the commit feed reads what was committed from the store itself, so a
   *   fault here can never lose or double-count a row. Default none.
   */
  constructor(
    private readonly store: GroupWriter,
    private readonly config: WriteQueueConfig,
    private readonly metrics?: ServerMetrics,
    private readonly afterCommit?: () => void,
  ) {}

  /** Items waiting for a commit. */
  get depth(): number {
    return this.pendingItems
  }

  /** Queues items for the next group commit; resolves with their outcomes after it commits. */
  submit(batch: WriteBatch): Promise<WriteResult> {
    const size = batch.events.length + batch.feedback.length
    if (this.closed)
      return Promise.reject(new InferlogError('unavailable', 'server is shutting down', { retryAfter: this.config.retryAfterSeconds }))
    if (size === 0) return Promise.resolve({ batchSeq: 0, events: [], feedback: [] })
    if (this.pendingItems > 0 && this.pendingItems + size > this.config.maxPendingItems) {
      return Promise.reject(
        new InferlogError('overloaded', `write queue is full (${this.pendingItems} items waiting); retry later`, {
          retryAfter: this.config.retryAfterSeconds,
        }),
      )
    }
    return new Promise<WriteResult>((resolve, reject) => {
      this.queue.push({ batch, size, resolve, reject })
      this.pendingItems += size
      this.metrics?.writeQueueDepth.set(this.pendingItems)
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return
    this.scheduled = true
    // setImmediate lets every request whose bytes already arrived join this commit.
    setImmediate(() => {
      this.scheduled = false
      void this.flushOnce()
    })
  }

  private async flushOnce(): Promise<void> {
    if (this.writing || this.queue.length === 0) return
    this.writing = true
    this.writingSince = performance.now()
    const group: Pending[] = []
    let items = 0
    while (this.queue.length > 0 && (group.length === 0 || items + this.queue[0]!.size <= this.config.maxCommitItems)) {
      const p = this.queue.shift()!
      group.push(p)
      items += p.size
    }
    const merged: WriteBatch =
      group.length === 1
        ? group[0]!.batch
        : { events: group.flatMap((p) => p.batch.events), feedback: group.flatMap((p) => p.batch.feedback) }
    const end = this.metrics?.commitSeconds.startTimer()
    try {
      const store = this.store
      const result = store.isDataError ? await writeIsolating(store as EventLogWriter, merged) : await store.writeBatch(merged)
      end?.()
      this.metrics?.commitItems.observe(items)
      let e = 0
      let f = 0
      for (const p of group) {
        const ne = p.batch.events.length
        const nf = p.batch.feedback.length
        p.resolve({ batchSeq: result.batchSeq, events: result.events.slice(e, e + ne), feedback: result.feedback.slice(f, f + nf) })
        e += ne
        f += nf
      }
      if (this.store.commitsToLog !== false) this.afterCommit?.()
    } catch (err) {
      end?.()
      const e = new InferlogError('unavailable', `store write failed: ${(err as Error).message}`, {
        retryAfter: this.config.retryAfterSeconds,
        cause: err,
      })
      for (const p of group) p.reject(e)
    } finally {
      this.pendingItems -= items
      this.metrics?.writeQueueDepth.set(this.pendingItems)
      this.writing = false
      this.busyBefore += performance.now() - this.writingSince
      if (this.queue.length > 0) this.schedule()
      else this.notifyIdle()
    }
  }

  /**
   * Time a group commit has been in flight since this queue was made, ms (monotonic): how busy the
   * store's writer keeps ingest. The feed's consumers read it, with the event loop's utilization,
   * to tell a saturated collector (`FeedThreadOptions.ingestBusyMs`).
   */
  get busyMs(): number {
    return this.busyBefore + (this.writing ? performance.now() - this.writingSince : 0)
  }

  private notifyIdle(): void {
    const waiters = this.idle
    this.idle = []
    for (const w of waiters) w()
  }

  /** Resolves once everything queued so far has been written. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && !this.writing) return Promise.resolve()
    return new Promise((resolve) => this.idle.push(resolve))
  }

  /** Refuses new items, then waits for the queued ones. Idempotent. */
  async close(): Promise<void> {
    this.closed = true
    await this.drain()
  }
}
