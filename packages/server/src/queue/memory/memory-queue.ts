import { InferlogError } from '../../errors.js'
import type { WriteBatch } from '../../store/store.js'
import { batchId, decodeBatch, encodeBatch } from '../batch-codec.js'
import type { Queue, QueueDelivery } from '../queue.js'

/** Options of {@link MemoryQueue}. */
export interface MemoryQueueOptions {
  /** A delivery not acknowledged within this time is delivered again. Default 30 000 ms. */
  ackWaitMs?: number
  /**
   * A re-publish of a group with the same message id (its content hash) inside this window is
   * dropped, as JetStream's duplicate window does. Default 120 000 ms.
   */
  duplicateWindowMs?: number
  /** Clock of the duplicate window. Default `Date.now`. */
  now?: () => number
}

interface Entry {
  bytes: Buffer
  deliveries: number
  timer?: ReturnType<typeof setTimeout>
  done: boolean
}

/**
 * The in-process queue: same semantics as the NATS adapter (at-least-once, ack/nak/redelivery
 * after an ack wait), nothing durable. For tests and for wiring a collector and a worker in one
 * process.
 */
export class MemoryQueue implements Queue {
  readonly kind = 'memory'
  private readonly ackWaitMs: number
  private readonly duplicateWindowMs: number
  private readonly now: () => number
  private readonly ready: Entry[] = []
  private waiters: (() => void)[] = []
  /** Message id → when it was first published, oldest first (a Map keeps insertion order). */
  private readonly seen = new Map<string, number>()
  private inFlight = 0
  private delayed = 0
  private closed = false

  constructor(options: MemoryQueueOptions = {}) {
    this.ackWaitMs = options.ackWaitMs ?? 30_000
    this.duplicateWindowMs = options.duplicateWindowMs ?? 120_000
    this.now = options.now ?? Date.now
  }

  /** Groups waiting for delivery (also after a delayed nak) plus those delivered and not yet acknowledged. */
  get depth(): number {
    return this.ready.length + this.inFlight + this.delayed
  }

  async publish(batch: WriteBatch): Promise<void> {
    if (this.closed) throw new InferlogError('unavailable', 'queue is closed', { retryAfter: 1 })
    // Through the wire format, so this adapter exercises exactly what NATS carries.
    const bytes = encodeBatch(batch)
    if (this.isDuplicate(batchId(bytes))) return
    this.push({ bytes, deliveries: 0, done: false })
  }

  /** Whether the id was published inside the duplicate window; remembers it when not. */
  private isDuplicate(id: string): boolean {
    const now = this.now()
    for (const [old, at] of this.seen) {
      if (now - at < this.duplicateWindowMs) break
      this.seen.delete(old)
    }
    if (this.seen.has(id)) return true
    this.seen.set(id, now)
    return false
  }

  private push(e: Entry): void {
    this.ready.push(e)
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  async fetch(max: number, waitMs: number): Promise<QueueDelivery[]> {
    if (this.closed) return []
    if (this.ready.length === 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, waitMs)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
    const out: QueueDelivery[] = []
    while (!this.closed && out.length < max && this.ready.length > 0) out.push(this.deliver(this.ready.shift()!))
    return out
  }

  private deliver(e: Entry): QueueDelivery {
    e.deliveries++
    this.inFlight++
    const arm = () => {
      clearTimeout(e.timer)
      e.timer = setTimeout(() => giveBack(0), this.ackWaitMs)
      e.timer.unref?.()
    }
    const finish = () => {
      if (e.done) return false
      e.done = true
      clearTimeout(e.timer)
      this.inFlight--
      return true
    }
    const giveBack = (delayMs: number) => {
      if (!finish()) return
      const again = () => this.push({ bytes: e.bytes, deliveries: e.deliveries, done: false })
      if (delayMs > 0) {
        this.delayed++
        setTimeout(() => {
          this.delayed--
          again()
        }, delayMs).unref?.()
      } else again()
    }
    arm()
    return {
      batch: decodeBatch(e.bytes),
      deliveryCount: e.deliveries,
      bytes: e.bytes.length,
      ack: () => void finish(),
      nak: (delayMs = 0) => giveBack(delayMs),
      working: () => {
        if (!e.done) arm()
      },
      term: () => void finish(),
    }
  }

  async ping(): Promise<void> {
    if (this.closed) throw new InferlogError('unavailable', 'queue is closed', { retryAfter: 1 })
  }

  async close(): Promise<void> {
    this.closed = true
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }
}
