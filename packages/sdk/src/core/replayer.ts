import type { Delivery } from './delivery.js'
import type { Lifecycle } from './lifecycle.js'
import type { Payload, Spool } from './platform.js'
import type { Sleepers } from './sleepers.js'
import type { Counts, Report } from './stats.js'

const ignore = () => undefined

/**
 * The disk spool's two sides: writes (one at a time, in order) and the replayer, which sends
 * spooled batches oldest first. While the collector is down (outage mode) new batches go straight
 * to disk and the oldest spooled batch probes the collector with backoff; the first one that gets
 * through ends the outage and live sending resumes.
 */
export class Replayer {
  /** The collector is considered down: batches go to the spool, not the network. */
  outage = false
  private writes: Promise<void> = Promise.resolve()
  private loop: Promise<void> | undefined

  /**
   * @param onRecovered called when a replayed batch got through after an outage (the batcher
   *   resumes live sends).
   */
  constructor(
    private readonly spool: Spool,
    private readonly delivery: Delivery,
    private readonly counts: Counts,
    private readonly report: Report,
    private readonly life: Lifecycle,
    private readonly sleepers: Sleepers,
    private readonly onRecovered: () => void,
  ) {}

  /** Writes a payload to the spool, after the writes before it. Never rejects: failures are counted and reported. */
  write(p: Payload): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        const { evicted, stored } = await this.spool.write(p)
        if (stored) this.counts.spooled += p.count
        if (evicted > 0) {
          this.counts.dropped += evicted
          this.report('spool_full', `the spool is full: ${evicted} items dropped (oldest first); see stats().dropped`, { items: evicted })
        }
      } catch (e) {
        this.counts.failed += p.count
        this.report('spool_failed', `could not spool ${p.count} items: ${(e as Error).message}`, { cause: e, items: p.count })
      }
    }
    const next = this.writes.then(run)
    this.writes = next
    return next
  }

  /** A live batch failed: the collector is down or too slow. Spool it and let the replayer probe. */
  async spill(p: Payload): Promise<void> {
    this.outage = true
    await this.write(p)
    this.start()
  }

  /** Starts the replay loop if the spool holds batches and the loop is not running. */
  start(): void {
    if (this.loop || this.life.phase === 'stopped' || !this.spool.head()) return
    this.loop = this.replay().finally(() => {
      this.loop = undefined
      // Entries spooled while the loop was finishing. Past the flush of close() the pass ends at
      // its first failure and is not restarted.
      if ((this.life.phase === 'open' || this.life.phase === 'closing') && this.spool.head()) this.start()
    })
  }

  /**
   * The replay pass of `close()`: after pending writes, spooled batches are sent oldest first until
   * the spool is empty or one fails (no waiting for a backoff). Call in phase `draining`, with the
   * sleepers woken.
   */
  async drain(): Promise<void> {
    await this.writes
    this.start()
    await this.loop
  }

  /** Resolves when pending writes and the loop are over (after phase `stopped`). */
  async idle(): Promise<void> {
    await this.writes
    await this.loop
  }

  /** After the flush of close(): a failure ends the replay instead of a backoff. */
  private passOver(): boolean {
    return this.life.phase === 'stopped' || this.life.phase === 'draining'
  }

  private async replay(): Promise<void> {
    const spool = this.spool
    let failures = 0
    while (this.life.phase !== 'stopped') {
      const entry = spool.head()
      if (!entry) return
      let payload: Payload
      // Pinned from before the read: eviction must not count the entry while it is being replayed.
      spool.pin(entry, true)
      try {
        payload = await spool.read(entry)
      } catch (e) {
        spool.pin(entry, false)
        await spool.remove(entry).catch(ignore)
        this.counts.failed += entry.count
        this.report('spool_failed', `unreadable spool file ${entry.name} (${entry.count} items) removed: ${(e as Error).message}`, {
          cause: e,
          items: entry.count,
        })
        continue
      }
      const a = await this.delivery.attempt(payload, true)
      spool.pin(entry, false)
      if (a.verdict === 'retry') {
        // The batch stays on disk. close()'s pass does not wait for the collector.
        // (Read through a call: the phase changes while this loop awaits.)
        if (this.passOver()) return
        this.outage = true
        this.counts.retried++
        await this.sleepers.sleep(this.delivery.backoff(failures++, a.res), false)
        continue
      }
      await spool.remove(entry).catch(ignore)
      if (a.verdict === 'ok') {
        failures = 0
        if (this.outage) {
          this.outage = false
          this.onRecovered()
        }
      }
    }
  }
}
