import type { Logger } from '../logging/logger.js'
import type { Queue, QueueDelivery } from '../queue/queue.js'
import { nextBackoffMs } from '@inferlog/schema'
import { writeIsolating } from '../ingest/write-isolating.js'
import type { Store, WriteBatch, WriteResult } from '../store/store.js'
import { createWorkerMetrics, type WorkerMetrics } from './worker-metrics.js'

/** Options of {@link Worker}. */
export interface WorkerOptions {
  store: Store
  queue: Queue
  /** Most groups merged into one store transaction. Default 16. */
  maxGroups?: number
  /**
   * Store transactions this worker keeps in flight at once. Default 2: while one waits for
   * PostgreSQL, the next is being prepared and sent, so one worker process keeps two database
   * backends busy.
   */
  concurrency?: number
  /** Most items merged into one store transaction (a single larger group is still written whole). Default 20 000. */
  maxItems?: number
  /** First retry delay after a failed write; doubles up to `maxBackoffMs`. Default 100 ms. */
  minBackoffMs?: number
  /** Default 2 000 ms (kept below the queue's ack wait: the worker keeps its groups while retrying). */
  maxBackoffMs?: number
  /** How long one fetch waits for the first group. Default 1 000 ms. */
  fetchWaitMs?: number
  metrics?: WorkerMetrics
  logger?: Logger
  /** Called after each commit (the commit feed's cue to read). Default none. */
  afterCommit?: () => void
}

/** Running totals of one worker. */
export interface WorkerStats {
  groups: number
  inserted: number
  duplicates: number
  conflicts: number
  /** Items refused because they, or the event they refer to, were erased. */
  erased: number
  redeliveries: number
  failedWrites: number
  /** Items the store refused as data (stored neither now nor ever; logged with their ids). */
  refusedItems: number
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * Consumes queued groups and writes them to the store: several groups per transaction, each group
 * acknowledged only after the transaction that holds it committed. While the store is down it keeps
 * its groups, tells the queue it is still working on them, and retries with exponential back-off.
 * Items the store refuses as data (not as an outage; the store tells which) are found by
 * bisection, logged with their ids and counted, while every other item of their groups is written,
 * so one bad item can neither block the stream nor take its neighbours with it.
 */
export class Worker {
  readonly metrics: WorkerMetrics
  readonly stats: WorkerStats = {
    groups: 0,
    inserted: 0,
    duplicates: 0,
    conflicts: 0,
    erased: 0,
    redeliveries: 0,
    failedWrites: 0,
    refusedItems: 0,
  }
  private stopping = false
  private running: Promise<void> | undefined
  private readonly o: Required<Omit<WorkerOptions, 'metrics' | 'logger' | 'afterCommit'>> & {
    logger: Logger | undefined
    afterCommit: (() => void) | undefined
  }

  constructor(options: WorkerOptions) {
    this.metrics = options.metrics ?? createWorkerMetrics(false)
    this.o = {
      store: options.store,
      queue: options.queue,
      maxGroups: options.maxGroups ?? 16,
      concurrency: options.concurrency ?? 2,
      maxItems: options.maxItems ?? 20_000,
      minBackoffMs: options.minBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 2_000,
      fetchWaitMs: options.fetchWaitMs ?? 1_000,
      logger: options.logger,
      afterCommit: options.afterCommit,
    }
  }

  /** Starts the loops (once); resolves when {@link stop} has finished them. */
  start(): Promise<void> {
    this.running ??= Promise.all(Array.from({ length: this.o.concurrency }, () => this.loop())).then(() => undefined)
    return this.running
  }

  /** Finishes the current write, stops fetching. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true
    await this.running
  }

  private async loop(): Promise<void> {
    let attempt = 0
    while (!this.stopping) {
      let deliveries: QueueDelivery[]
      try {
        deliveries = await this.o.queue.fetch(this.o.maxGroups, this.o.fetchWaitMs)
        attempt = 0
      } catch (e) {
        const wait = this.backoff(attempt++)
        this.o.logger?.warn(`worker: queue fetch failed, retrying in ${Math.round(wait)} ms: ${(e as Error).message}`)
        await sleep(wait)
        continue
      }
      // Respect maxItems: write in slices of whole groups.
      let slice: QueueDelivery[] = []
      let items = 0
      for (const d of deliveries) {
        const n = d.batch.events.length + d.batch.feedback.length
        if (slice.length > 0 && items + n > this.o.maxItems) {
          await this.write(slice)
          slice = []
          items = 0
        }
        slice.push(d)
        items += n
      }
      if (slice.length > 0) await this.write(slice)
    }
  }

  /** Writes groups in one transaction, retrying outages until it commits (or the worker stops). */
  private async write(groups: QueueDelivery[]): Promise<void> {
    const batch: WriteBatch =
      groups.length === 1
        ? groups[0]!.batch
        : { events: groups.flatMap((g) => g.batch.events), feedback: groups.flatMap((g) => g.batch.feedback) }
    let failures = 0
    for (;;) {
      const end = this.metrics.writeSeconds.startTimer()
      let result: WriteResult
      try {
        result = await writeIsolating(this.o.store, batch, (item) => this.refused(batch, item.kind, item.index, item.error))
        end()
      } catch (e) {
        end()
        this.metrics.failures.inc({ reason: 'store' })
        this.stats.failedWrites++
        if (failures++ === 0 || failures % 10 === 0) {
          this.o.logger?.warn(
            `worker: store write failed (${failures}×), keeping ${groups.length} groups and retrying: ${(e as Error).message}`,
          )
        }
        if (this.stopping) {
          for (const g of groups) g.nak()
          return
        }
        for (const g of groups) g.working()
        await sleep(this.backoff(failures - 1))
        for (const g of groups) g.working()
        continue
      }
      if (failures > 0) this.o.logger?.info(`worker: store write succeeded after ${failures} failures`)
      // Acknowledge only now: the transaction holding these groups has committed.
      for (const g of groups) g.ack()
      this.o.afterCommit?.()
      this.count(groups, result)
      return
    }
  }

  /** Delay before retry `attempt` (0 first): exponential with full jitter between the configured bounds. */
  private backoff(attempt: number): number {
    return Math.max(this.o.minBackoffMs / 2, nextBackoffMs(attempt, { baseMs: this.o.minBackoffMs, maxMs: this.o.maxBackoffMs }))
  }

  /** An item the store refuses as data: it can never be written, so it is logged and counted, not retried. */
  private refused(batch: WriteBatch, kind: 'event' | 'feedback', index: number, err: unknown): void {
    const item = kind === 'event' ? batch.events[index] : batch.feedback[index]
    this.metrics.failures.inc({ reason: 'data' })
    this.metrics.refusedItems.inc()
    this.stats.refusedItems++
    this.o.logger?.error(
      `worker: the store refuses ${kind} ${item?.project}/${item?.id} as data (${(err as { code?: string }).code}); it is set aside, not retried`,
      err,
    )
  }

  private count(groups: QueueDelivery[], result: WriteResult): void {
    this.stats.groups += groups.length
    this.metrics.groups.inc(groups.length)
    const redelivered = groups.filter((g) => g.deliveryCount > 1).length
    this.stats.redeliveries += redelivered
    if (redelivered) this.metrics.redeliveries.inc(redelivered)
    const tally = (kind: string, outcomes: string[]) => {
      const n = { inserted: 0, duplicate: 0, conflict: 0, erased: 0 }
      for (const o of outcomes) n[o as keyof typeof n]++
      for (const [outcome, v] of Object.entries(n)) if (v) this.metrics.items.inc({ kind, outcome }, v)
      this.stats.inserted += n.inserted
      this.stats.duplicates += n.duplicate
      this.stats.conflicts += n.conflict
      this.stats.erased += n.erased
    }
    tally('event', result.events)
    tally('feedback', result.feedback)
  }
}
