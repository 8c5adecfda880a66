import { randomUUID } from 'node:crypto'
import type { Logger } from '../logging/logger.js'
import type { DerivedStore } from '../store/store.js'
import type { RetentionService } from './retention-service.js'

/** Name of the lease that picks the one process applying retention. */
export const RETENTION_LEASE = 'retention'

/** Options of {@link RetentionScheduler}. */
export interface RetentionSchedulerOptions {
  /** How often policies are applied, ms. Default 3 600 000 (hourly). */
  intervalMs?: number
  /** Delay of the first run after `start()`, ms. Default 60 000. */
  firstRunMs?: number
  /** Lease time, renewed while a run lasts, ms. Default 300 000. */
  leaseMs?: number
  /** This process's name in the lease. Default a random UUID. */
  holder?: string
  logger?: Logger
}

/**
 * Applies every project's retention policy on a schedule, in one process at a time (the lease
 * {@link RETENTION_LEASE}, whichever collectors are up). Each run is chained as audit records of
 * actor `{key_id: null, name: "retention"}`.
 */
export class RetentionScheduler {
  private timer: NodeJS.Timeout | undefined
  private first: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private readonly o: Required<Omit<RetentionSchedulerOptions, 'logger'>> & { logger: Logger | undefined }

  constructor(
    private readonly derived: DerivedStore,
    private readonly service: RetentionService,
    o: RetentionSchedulerOptions = {},
  ) {
    this.o = {
      intervalMs: o.intervalMs ?? 3_600_000,
      firstRunMs: o.firstRunMs ?? 60_000,
      leaseMs: o.leaseMs ?? 300_000,
      holder: o.holder ?? randomUUID(),
      logger: o.logger,
    }
  }

  start(): void {
    if (this.timer) return
    this.first = setTimeout(() => void this.tick(), this.o.firstRunMs)
    this.first.unref()
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs)
    this.timer.unref()
  }

  /** Stops the schedule and waits for a run in progress. Idempotent. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    if (this.first) clearTimeout(this.first)
    this.timer = undefined
    await this.running
  }

  /** One scheduled run (skipped when another process holds the lease or a run is in progress). */
  tick(): Promise<void> {
    this.running ??= this.once().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async once(): Promise<void> {
    const { holder, leaseMs, logger } = this.o
    try {
      if (!(await this.derived.claim(RETENTION_LEASE, holder, leaseMs))) return
      const beat = setInterval(
        () => void this.derived.claim(RETENTION_LEASE, holder, leaseMs).catch(() => undefined),
        Math.max(1000, leaseMs / 3),
      )
      beat.unref()
      try {
        for (const r of await this.service.run({ key_id: null, name: 'retention' })) {
          if (r.removed.events + r.removed.feedback > 0)
            logger?.info('retention applied', {
              project: r.project,
              events: r.removed.events,
              feedback: r.removed.feedback,
              partitions: r.partitions.length,
            })
        }
      } finally {
        clearInterval(beat)
      }
    } catch (e) {
      logger?.warn(`retention run failed: ${(e as Error).message}`)
    }
  }
}
