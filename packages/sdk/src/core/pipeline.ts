import type { InferlogSdkError, SdkErrorCode } from '../errors.js'
import type { OverflowPolicy } from '../options.js'
import { Admission } from './admission.js'
import { type Batch, Batcher, type BatchSink } from './batcher.js'
import { Delivery, type DeliveryConfig } from './delivery.js'
import { FlushTracker } from './flush-tracker.js'
import type { Lifecycle } from './lifecycle.js'
import { createPayloadCodec } from './payload-codec.js'
import type { Payload, Platform, Sender, Spool } from './platform.js'
import type { PrepareConfig } from './prepare.js'
import { Replayer } from './replayer.js'
import { Sleepers } from './sleepers.js'
import { type Counts, createReport, type LoggerStats, newCounts, type Report, type ReportExtra } from './stats.js'

export type { LoggerStats } from './stats.js'

/** Resolved settings of the pipeline. */
export interface PipelineConfig {
  batch: { maxItems: number; maxBytes: number; intervalMs: number }
  queue: { maxItems: number; maxBytes: number; overflow: OverflowPolicy }
  http: DeliveryConfig & { concurrency: number; gzipLevel: number }
  prepare: PrepareConfig
  report: (error: InferlogSdkError) => void
}

/**
 * The machinery between `log()` and the collector, assembled from its parts: admission (the
 * bounded queue `log()` writes to), the batcher (serialization off the caller's path), delivery
 * (sends and verdicts, shared by live sends and replay), the replayer (the disk spool for outages
 * and overflow) and the flush tracker. This class routes batches between them and runs
 * `flush()` and `close()`.
 */
export class Pipeline {
  readonly counts: Counts = newCounts()
  readonly admission: Admission
  private readonly life: Lifecycle = { phase: 'open' }
  private readonly tracker: FlushTracker
  private readonly sleepers: Sleepers
  private readonly batcher: Batcher
  private readonly delivery: Delivery
  private readonly replayer: Replayer | undefined
  private readonly reportFn: Report
  private liveSends = 0
  private closePromise: Promise<void> | undefined

  constructor(
    private readonly cfg: PipelineConfig,
    private readonly platform: Platform,
    private readonly sender: Sender,
    private readonly spool: Spool | undefined,
    spoolReady: Promise<void> | undefined,
  ) {
    const report = createReport(cfg.report)
    this.reportFn = report
    this.admission = new Admission(cfg, this.counts, platform, report, () => this.batcher.schedule())
    this.tracker = new FlushTracker(this.admission.ev, this.admission.fb)
    this.sleepers = new Sleepers(platform, () => this.tracker.waiting || this.life.phase !== 'open')
    const codec = createPayloadCodec(platform, sender.compress, cfg.http.gzipLevel)
    const spill = spool ? (p: Payload) => (this.replayer as Replayer).spill(p) : undefined
    this.delivery = new Delivery(cfg.http, sender, codec, this.counts, report, this.life, this.sleepers, spill)
    if (spool) {
      this.replayer = new Replayer(spool, this.delivery, this.counts, report, this.life, this.sleepers, () => this.batcher.schedule())
    }
    const sink: BatchSink = {
      route: () => this.route(),
      sendLive: (batch) => void this.sendLive(batch),
      spool: (batch) => this.spoolBatch(batch),
    }
    this.batcher = new Batcher(
      { batch: cfg.batch, overflowToSpool: cfg.queue.overflow === 'spool' },
      cfg.prepare,
      platform,
      this.admission,
      this.tracker,
      this.life,
      codec,
      this.counts,
      report,
      sink,
    )
    // Batches left by an earlier run are replayed as soon as the spool is loaded.
    void spoolReady?.then(
      () => this.replayer?.start(),
      (e: unknown) => report('spool_failed', `cannot open the spool: ${(e as Error).message}`, { cause: e }),
    )
  }

  /** Whether the next batch goes to the spool, to the network, or waits for a free connection. */
  private route(): 'spool' | 'live' | 'wait' {
    const busy = this.liveSends >= this.cfg.http.concurrency
    if (this.replayer) {
      if (this.replayer.outage) return 'spool'
      // Overflow to disk: the network is behind and the queue is filling up.
      if (this.cfg.queue.overflow === 'spool' && busy && this.admission.halfFull) return 'spool'
    }
    return busy ? 'wait' : 'live'
  }

  private async sendLive(batch: Batch): Promise<void> {
    this.liveSends++
    try {
      await this.delivery.send(await this.batcher.encode(batch))
    } catch (e) {
      this.counts.failed += batch.count
      this.reportFn('delivery_failed', `internal delivery error: ${(e as Error).message}`, { cause: e, items: batch.count })
    } finally {
      this.liveSends--
      this.tracker.settle(batch)
      this.batcher.schedule()
    }
  }

  private async spoolBatch(batch: Batch): Promise<void> {
    try {
      const replayer = this.replayer as Replayer
      await replayer.write(await this.batcher.encode(batch))
      replayer.start()
    } finally {
      this.tracker.settle(batch)
    }
  }

  /** True when items are queued or in flight (used by the exit hooks). */
  hasPending(): boolean {
    return this.tracker.hasPending()
  }

  /**
   * Resolves once every item enqueued before the call is acknowledged, spooled, dropped or given
   * up on; or after `timeoutMs`. Never rejects.
   */
  flush(timeoutMs?: number): Promise<void> {
    const settled = this.tracker.wait()
    // After close(), a flush also waits for the report of the items close() refused.
    const done = this.admission.refusing ? settled.then(() => this.admission.reported()) : settled
    // Retries now matter to someone: keep the process alive for them.
    this.sleepers.holdLive()
    this.batcher.schedule()
    if (timeoutMs === undefined) return done
    return new Promise<void>((resolve) => {
      const t = this.platform.timer(resolve, timeoutMs, false)
      void done.then(() => {
        t.cancel()
        resolve()
      })
    })
  }

  /**
   * Flushes, gives the spool one replay pass (so a short-lived job does not leave its batches on
   * disk when the collector is back), then stops timers, the replayer and the transport. The whole
   * takes at most `timeoutMs` when given. Idempotent.
   */
  close(timeoutMs?: number): Promise<void> {
    if (this.closePromise !== undefined) return this.closePromise.then(() => this.admission.reported())
    return (this.closePromise = (async () => {
      this.admission.close()
      this.life.phase = 'closing'
      const limit = this.deadline(timeoutMs)
      try {
        await limit.race(this.flush())
        if (!limit.expired && this.replayer) {
          this.life.phase = 'draining'
          // Ends the backoff waits: the replayer probes at once, live retries go to the spool.
          this.sleepers.wakeAll()
          await limit.race(this.replayer.drain())
        }
        this.life.phase = 'stopped'
        this.batcher.stop()
        this.sleepers.wakeAll()
        // In-flight requests (a pass cut short by the time limit) end here.
        await this.sender.close().catch(() => undefined)
        await this.replayer?.idle()
        // Whatever a timed-out close leaves in memory is lost: count it, say so.
        const left = this.admission.discard()
        if (left > 0) {
          this.counts.dropped += left
          this.reportFn('closed', `close() timed out with ${left} items still queued: dropped; see stats().dropped`, { items: left })
        }
      } finally {
        limit.cancel()
      }
    })())
  }

  /** A time limit for several steps: `race(step)` resolves with the step or when the limit passes. */
  private deadline(timeoutMs: number | undefined): { race(step: Promise<void>): Promise<void>; readonly expired: boolean; cancel(): void } {
    if (timeoutMs === undefined) return { race: (step) => step, expired: false, cancel: () => undefined }
    let expired = false
    let fire: () => void = () => undefined
    const passed = new Promise<void>((resolve) => (fire = resolve))
    const timer = this.platform.timer(
      () => {
        expired = true
        fire()
      },
      timeoutMs,
      false,
    )
    return {
      race: (step) => Promise.race([step, passed]),
      get expired() {
        return expired
      },
      cancel: () => timer.cancel(),
    }
  }

  stats(): LoggerStats {
    const s = this.spool?.size()
    return {
      ...this.counts,
      queueDepth: this.admission.size,
      inFlight: this.tracker.items,
      spoolItems: s?.items ?? 0,
      spoolBytes: s?.bytes ?? 0,
    }
  }

  /** Reports through onError; never throws. Public so the logger can report callback faults. */
  report(code: SdkErrorCode, message: string, extra: ReportExtra = {}): void {
    this.reportFn(code, message, extra)
  }
}
