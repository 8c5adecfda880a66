import { nextBackoffMs } from '@inferlog/schema'
import type { Logger } from '../logging/logger.js'
import type { LogScanner, Store } from '../store/store.js'
import type { FeedConsumer } from './feed-consumer.js'

/** Options of {@link FeedRunner}. */
export interface FeedRunnerOptions {
  /** How often an idle consumer looks for new batches without being poked, ms. Default 200. */
  pollMs?: number
  /**
   * Least time between the starts of two steps of one consumer, ms, unless it is behind by more
   * than one step can take. Commits arriving meanwhile are applied together in the next step, so
   * a consumer's cost follows time, not the commit rate: at steady ingest a step per group commit
   * would rewrite the same aggregate rows and re-read the same batches hundreds of times a second.
   * Adds at most this much to the feed's lag. Default 250.
   */
  stepIntervalMs?: number
  /** Most batches handed to one `apply`. Default 100. */
  maxBatches?: number
  /** Most rows handed to one `apply` (a batch is never cut). Default 20 000. */
  maxRows?: number
  /** First wait after a failure; doubles up to 5 s. Default 100 ms. */
  retryMs?: number
  logger?: Logger
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number
  /** Told after each applied step: lag in positions and in ms since the applied batches committed. */
  onProgress?: (consumer: string, p: FeedProgress) => void
  /**
   * How long this runner's lease on a consumer lasts, ms; renewed at a third of it while working.
   * Another process takes the consumer over when a lease runs out (its holder died). Default 15 000.
   */
  leaseMs?: number
}

/** Where one consumer stands. */
export interface FeedProgress {
  /** Last commit position it applied. */
  position: number
  /** Commit time of the last batch it applied, epoch ms (0 before the first). */
  committedMs: number
  /** When it applied it, epoch ms. */
  appliedMs: number
}

/** A loop's wake-up line: a poke that arrives while the loop is not sleeping is kept for its next sleep. */
interface Waker {
  wake?: () => void
  poked?: boolean
}

const sleep = (ms: number, signal: Waker) =>
  new Promise<void>((resolve) => {
    if (signal.poked) {
      signal.poked = false
      resolve()
      return
    }
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.wake = undefined
      signal.poked = false
      resolve()
    }
    signal.wake = done
  })

/**
 * Runs feed consumers off the request path, each in its own loop from its own watermark: read the
 * batches after it, let the consumer derive its writes, commit them with the new watermark (a
 * compare-and-set, so two runners of one consumer never both apply a batch). A commit pokes the
 * loops ({@link poke}); otherwise they poll. Failures are retried with back-off, never skipped.
 */
export class FeedRunner {
  private readonly o: Required<Omit<FeedRunnerOptions, 'logger' | 'onProgress'>> & Pick<FeedRunnerOptions, 'logger' | 'onProgress'>
  private readonly loops: Promise<void>[] = []
  private readonly wakers: Waker[] = []
  private readonly progress = new Map<string, FeedProgress>()
  private stopping = false
  private started = false
  /** This runner's identity in consumer leases. */
  private readonly holder = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`

  constructor(
    private readonly store: Pick<Store, 'derived'> & Pick<LogScanner, 'readBatches' | 'commitHead'>,
    private readonly consumers: readonly FeedConsumer[],
    options: FeedRunnerOptions = {},
  ) {
    this.o = {
      leaseMs: options.leaseMs ?? 15_000,
      pollMs: options.pollMs ?? 200,
      stepIntervalMs: options.stepIntervalMs ?? 250,
      maxBatches: options.maxBatches ?? 100,
      maxRows: options.maxRows ?? 20_000,
      retryMs: options.retryMs ?? 100,
      now: options.now ?? Date.now,
      logger: options.logger,
      onProgress: options.onProgress,
    }
  }

  /** Starts one loop per consumer. Idempotent. */
  start(): void {
    if (this.started) return
    this.started = true
    for (const c of this.consumers) {
      const waker: Waker = {}
      this.wakers.push(waker)
      this.loops.push(this.loop(c, waker))
    }
  }

  /** New batches were committed: consumers look now instead of at their next poll. */
  poke(): void {
    for (const w of this.wakers) {
      if (w.wake) w.wake()
      else w.poked = true
    }
  }

  /** Where each consumer stands (after its first step). */
  status(): ReadonlyMap<string, FeedProgress> {
    return this.progress
  }

  /**
   * Applies every batch committed before the call, for every consumer, in this process (tests,
   * benches, tools). Safe beside running loops: the watermark arbitrates.
   */
  async catchUp(): Promise<void> {
    const head = await this.store.commitHead()
    for (const c of this.consumers) {
      await c.prepare?.({ derived: this.store.derived })
      while ((await this.step(c)) !== 'idle' && (await this.store.derived.watermark(c.name)) < head) {}
    }
  }

  /** Stops the loops after their current step. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true
    this.poke()
    await Promise.all(this.loops)
  }

  /** One read-apply-commit step: `idle` when there was nothing to read, `full` when it hit a limit. */
  private async step(c: FeedConsumer): Promise<'idle' | 'some' | 'full'> {
    const derived = this.store.derived
    const from = await derived.watermark(c.name)
    const batches = await this.store.readBatches(from, { maxBatches: this.o.maxBatches, maxRows: this.o.maxRows })
    const last = batches[batches.length - 1]
    if (!last) return 'idle'
    const writes = await c.apply(batches, { derived })
    if (!(await derived.advance(c.name, from, last.position, writes))) return 'full' // someone else moved it: read again
    const p = { position: last.position, committedMs: last.committedMs, appliedMs: this.o.now() }
    this.progress.set(c.name, p)
    this.o.onProgress?.(c.name, p)
    const rows = batches.reduce((n, b) => n + b.events.length + b.feedback.length + (b.audit?.length ?? 0), 0)
    return batches.length >= this.o.maxBatches || rows >= this.o.maxRows ? 'full' : 'some'
  }

  private async loop(c: FeedConsumer, waker: Waker): Promise<void> {
    let failures = 0
    let prepared = c.prepare === undefined
    let leaseUntil = 0
    while (!this.stopping) {
      try {
        // Only the lease holder works; others stand by and take over if its lease runs out.
        if (this.o.now() > leaseUntil - (this.o.leaseMs * 2) / 3) {
          const asked = this.o.now()
          if (!(await this.store.derived.claim(c.name, this.holder, this.o.leaseMs))) {
            leaseUntil = 0
            await sleep(this.o.leaseMs / 3, {})
            continue
          }
          leaseUntil = asked + this.o.leaseMs
        }
        if (!prepared) {
          await c.prepare?.({ derived: this.store.derived })
          prepared = true
        }
        const started = this.o.now()
        const done = await this.step(c)
        if (failures > 0) this.o.logger?.info(`feed: consumer ${c.name} recovered after ${failures} failures`)
        failures = 0
        if (done === 'full') continue // behind: no pause
        // Let commits gather (not wakeable), then wait for one if there was none.
        // A consumer may ask for a longer interval (its steps rewrite large rows).
        const rest = started + Math.max(this.o.stepIntervalMs, c.minStepIntervalMs ?? 0) - this.o.now()
        if (rest > 0 && !this.stopping) await sleep(rest, {})
        if (done === 'idle') await sleep(this.o.pollMs, waker)
      } catch (e) {
        const wait = nextBackoffMs(failures++, { baseMs: this.o.retryMs, maxMs: 5_000 })
        // One line for the first failure and then every tenth, not one per retry.
        if (failures === 1 || failures % 10 === 0) {
          this.o.logger?.warn(`feed: consumer ${c.name} failed (${failures}×), retrying in ${Math.round(wait)} ms: ${(e as Error).message}`)
        }
        // Not wakeable: a stream of commits must not turn the back-off into a tight retry loop.
        await sleep(wait, {})
      }
    }
  }
}
