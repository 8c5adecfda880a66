import { nextBackoffMs } from '@inferlog/schema'
import type { Logger } from '../logging/logger.js'
import type { CommitTap, CommittedBatch, LogScanner, Store } from '../store/store.js'
import type { FeedConsumer } from './feed-consumer.js'
import { leaseHolderGone, leaseHolderId } from './lease-holder.js'

/** Options of {@link FeedRunner}. */
export interface FeedRunnerOptions {
  /** How often an idle consumer looks for new batches without being poked, ms. Default 200. */
  pollMs?: number
  /**
   * Least time between the starts of two steps of a consumer that sets no interval of its own
   * ({@link FeedConsumer.minStepIntervalMs}, which wins when set), ms, unless it is behind by more
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
   * Most rows of recent batches kept for this runner's consumers: the batches the store handed over
   * as it committed them (`CommitTap`), and those read back, which the other consumers read a
   * moment later. Default 20 000.
   */
  sharedRows?: number
  /**
   * Most bytes of recent batches kept in the same cache, whichever of this and `sharedRows` is
   * reached first: a row counts its stored JSON text twice (one byte per UTF-16 unit, as V8 keeps
   * ASCII; once more for its parsed form, which ingest hands over or the first consumer to read it
   * keeps for the others, about as large on the heap as the text) plus {@link ROW_OVERHEAD_BYTES}
   * for its object and short fields, a batch its Merkle leaves. Rows of large bodies fill it long
   * before the row bound (20 000 rows of 64 KB would be 2.6 GB). A batch over the bound is not
   * kept; consumers read it back from the store. Default 64 MiB.
   */
  sharedBytes?: number
  /**
   * How long this runner's lease on a consumer lasts, ms; renewed at a third of it while working.
   * Another process takes the consumer over when a lease runs out (its holder died); a runner that
   * stops gives its leases up, so a restart does not wait for them, and one that finds a lease
   * held by a process of this host that no longer runs (killed) takes it at once. Default 15 000.
   */
  leaseMs?: number
  /**
   * This runner's name in consumer leases. Default a new {@link leaseHolderId}; a thread that
   * restarts its runner passes the same name, so the new runner holds the dead one's leases.
   */
  holder?: string
  /**
   * How busy the ingest this runner's consumers share the machine with is, 0–1: the collector's
   * event loop's or writer's utilization over the last second, whichever is higher (`FeedThread`
   * reports it to its thread or child four times a second). Read before each step of the loops
   * (`catchUp` never yields). Unset: the consumers never yield (the default; inline, the runner
   * shares that loop and would count its own steps).
   */
  ingestLoad?: () => number
  /**
   * Ingest first: while {@link ingestLoad} is at or above this and some consumer is more than
   * {@link yieldBehindMs} behind the latest commit, the loops hold their next step so that the feed
   * takes at most {@link saturatedShare} of the time: the collector is saturated and the aggregates
   * are late already; running them beside ingest would slow it and not make them fresh. The step
   * goes as soon as either condition ends. 1 or more: never. Default 0.6.
   */
  yieldAbove?: number
  /**
   * Share of time the loops keep while ingest is saturated: after steps that took d ms in all since
   * the loops last held, the next waits until d × (1 / share − 1) ms after the last of them ended
   * (at most, less when ingest eases), so the aggregates still move under a sustained overload.
   * Default 0.1 (a step of 400 ms, then 3.6 s for ingest; `bench/ingest.js` on two cores, same
   * runs: 0.25 gave ingest 0.80-0.90 of its rate without consumers, 0.1 gave 0.87).
   */
  saturatedShare?: number
  /**
   * How far behind the latest commit (by commit time) some consumer must be before the loops yield
   * to ingest, ms: a feed that keeps up never yields, so the aggregates' freshness below saturation
   * does not depend on it. Default 5000: about twice the worst lag of a feed that keeps up at half
   * the maximum rate (at 3000, transient lags at that rate started holds that fed on themselves:
   * profiles p99 3.1 s against 1.8 s never yielding, bench/feed.js).
   */
  yieldBehindMs?: number
  /**
   * Load at or above which the loops yield (as for {@link yieldAbove}) however little the feed is
   * behind: a collector this busy is saturated, and the first seconds of a burst are when ingest
   * needs the CPU most (with only `yieldBehindMs`, consumers ran freely for the first 5 s of every
   * burst). Below it, a feed that keeps up never yields, as before. At least `yieldAbove`; with
   * `yieldAbove` 1 or more, never. Default 0.9.
   */
  holdAbove?: number
  /**
   * Told when the loops begin holding their steps for ingest (`true`) and when they go on
   * (`false`): `FeedThread` stops handing batches over meanwhile (their clone costs the collector,
   * and a long hold would only drop them from the cache again; the thread reads them back).
   */
  onHold?: (holding: boolean) => void
}

/** Default of {@link FeedRunnerOptions.yieldAbove} (and of `--feed-yield`): 0.6. */
export const DEFAULT_YIELD_ABOVE = 0.6

/** Default of {@link FeedRunnerOptions.holdAbove}: 0.9. */
export const DEFAULT_HOLD_ABOVE = 0.9

/** Where one consumer stands. */
export interface FeedProgress {
  /** Last commit position it applied. */
  position: number
  /** Commit time of the last batch it applied, epoch ms (0 before the first). */
  committedMs: number
  /** When it applied it, epoch ms. */
  appliedMs: number
  /**
   * Rows the runner of this consumer has read back from the store since it started, for all of its
   * consumers (batches not handed over, or no longer cached when a consumer got to them). Unset
   * where nothing counts them.
   */
  readBack?: number
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

/** Ends the sleep of each waker now, or the next one it starts when it is not sleeping. */
function wakeAll(wakers: readonly Waker[]): void {
  for (const w of wakers) {
    if (w.wake) w.wake()
    else w.poked = true
  }
}

/**
 * Runs feed consumers off the request path, each in its own loop from its own watermark: read the
 * batches after it, let the consumer derive its writes, commit them with the new watermark (a
 * compare-and-set, so two runners of one consumer never both apply a batch). A commit pokes the
 * loops ({@link poke}); otherwise they poll. Failures are retried with back-off, never skipped.
 */
export class FeedRunner {
  private readonly o: Required<Omit<FeedRunnerOptions, 'logger' | 'onProgress' | 'ingestLoad' | 'onHold' | 'holder'>> &
    Pick<FeedRunnerOptions, 'logger' | 'onProgress' | 'ingestLoad' | 'onHold'>
  private readonly loops: Promise<void>[] = []
  private readonly wakers: Waker[] = []
  /** One per loop: wakes its pauses and back-offs, which commits do not cut short, when the runner stops. */
  private readonly pauses: Waker[] = []
  private readonly progress = new Map<string, FeedProgress>()
  /**
   * Batches read lately, each under the position before it (a consumer's watermark, or the batch
   * before it in the log), oldest first: the consumers of one process read the same batches one
   * after another, and each read past the cache goes to the store once for all of them.
   */
  private readonly shared = new Map<number, { batch: CommittedBatch; rows: number; bytes: number }>()
  private sharedHeld = 0
  private sharedBytesHeld = 0
  /** Rows and their bytes (as the cache counts them) of every batch cached so far: their average bounds a step ({@link stepRows}). */
  private seenRows = 0
  private seenBytes = 0
  /** Rows read from the store (not found in the cache), since the start. */
  private rowsReadBack = 0
  /**
   * Where each consumer's step in flight started, or its next one will (set as it reads and as it
   * commits): cached batches before all of them are dropped.
   */
  private readonly froms = new Map<string, number>()
  /** Whether a step of some consumer runs now (see {@link turn}). */
  private busy = false
  /** When the last step of a loop ended, epoch ms (see {@link yieldToIngest}). */
  private lastStepEndMs = 0
  /** The loops' step time since they last held or found ingest unsaturated, ms (see {@link yieldToIngest}). */
  private ranMs = 0
  /** Time the loops held a step for ingest, ms, since the start. */
  private heldMs = 0
  /** When this runner last heard of a commit (a poke, a batch handed over), epoch ms. */
  private lastCommitMs = 0
  /** Wakes a step held for ingest when the runner stops. */
  private readonly holding: Waker = {}
  /** Steps waiting for their turn, by rank (see {@link rankOf}). */
  private readonly waiting: { c: FeedConsumer; rank: number; resolve: () => void }[] = []
  /** Consumers whose last step stopped at a step limit with more committed after it (behind). */
  private readonly behind = new Set<FeedConsumer>()
  /** Each consumer's step in flight: steps of one consumer never overlap (a loop and `catchUp`). */
  private readonly stepping = new Map<FeedConsumer, Promise<unknown>>()
  private stopping = false
  private started = false
  /** Stops the store handing committed batches over (set while the loops run). */
  private untap: (() => void) | undefined
  /** This runner's identity in consumer leases. */
  private readonly holder: string

  constructor(
    private readonly store: Pick<Store, 'derived'> & Pick<LogScanner, 'readBatches' | 'commitHead'> & Partial<CommitTap>,
    private readonly consumers: readonly FeedConsumer[],
    options: FeedRunnerOptions = {},
  ) {
    this.holder = options.holder ?? leaseHolderId()
    this.o = {
      leaseMs: options.leaseMs ?? 15_000,
      ingestLoad: options.ingestLoad,
      onHold: options.onHold,
      yieldAbove: options.yieldAbove ?? DEFAULT_YIELD_ABOVE,
      yieldBehindMs: options.yieldBehindMs ?? 5000,
      holdAbove: options.holdAbove ?? DEFAULT_HOLD_ABOVE,
      saturatedShare: Math.min(1, Math.max(0.01, options.saturatedShare ?? 0.1)),
      sharedRows: options.sharedRows ?? 20_000,
      sharedBytes: options.sharedBytes ?? 64 * 1024 * 1024,
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

  /**
   * Starts one loop per consumer. Idempotent. A store that hands over what it commits
   * (`CommitTap`) fills the batch cache as it commits, so consumers that keep up read nothing back.
   */
  start(): void {
    if (this.started) return
    this.started = true
    if (this.store.tapCommits && this.consumers.length > 0) {
      this.untap = this.store.tapCommits((b, after) => this.offer(b, after))
    }
    for (const c of this.consumers) {
      const waker: Waker = {}
      this.wakers.push(waker)
      this.loops.push(this.loop(c, waker))
    }
  }

  /** New batches were committed: consumers look now instead of at their next poll. */
  poke(): void {
    this.lastCommitMs = this.o.now()
    wakeAll(this.wakers)
  }

  /** What the shared batch cache holds now: batches, their rows and their estimated bytes. */
  cached(): { batches: number; rows: number; bytes: number } {
    return { batches: this.shared.size, rows: this.sharedHeld, bytes: this.sharedBytesHeld }
  }

  /** Rows this runner read back from the store because its cache did not hold them, since it started. */
  get readBack(): number {
    return this.rowsReadBack
  }

  /** Time the loops have held steps back for a saturated ingest ({@link FeedRunnerOptions.yieldAbove}), ms, since the start. */
  get yieldedMs(): number {
    return this.heldMs
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
    this.untap?.()
    this.untap = undefined
    this.poke()
    wakeAll(this.pauses)
    wakeAll([this.holding])
    await Promise.all(this.loops)
  }

  /** A batch the store just committed, under the position before it: kept for the consumers' next steps. */
  private offer(b: CommittedBatch, after: number): void {
    this.lastCommitMs = this.o.now()
    this.keep(after, b)
    if (this.overBudget()) this.prune()
  }

  private keep(after: number, batch: CommittedBatch): void {
    if (this.shared.has(after)) return
    const entry = { batch, rows: rowsIn(batch), bytes: bytesIn(batch) }
    this.seenRows += entry.rows
    this.seenBytes += entry.bytes
    this.shared.set(after, entry)
    this.sharedHeld += entry.rows
    this.sharedBytesHeld += entry.bytes
  }

  private drop(after: number): void {
    const entry = this.shared.get(after)
    if (!entry) return
    this.shared.delete(after)
    this.sharedHeld -= entry.rows
    this.sharedBytesHeld -= entry.bytes
  }

  private overBudget(): boolean {
    return this.sharedHeld > this.o.sharedRows || this.sharedBytesHeld > this.o.sharedBytes
  }

  /**
   * One read-apply-commit step: `idle` when there was nothing to read, `full` when it hit a limit.
   * A loop's step (`yieldable`) first gives way to a saturated ingest, holding the turn, so that
   * every consumer waits.
   */
  private step(c: FeedConsumer, yieldable = false): Promise<'idle' | 'some' | 'full'> {
    const once = async () => {
      await this.turn(c)
      let done: 'idle' | 'some' | 'full' | undefined
      try {
        if (!yieldable) {
          done = await this.stepOnce(c)
          return done
        }
        await this.yieldToIngest()
        const started = this.o.now()
        try {
          done = await this.stepOnce(c)
          return done
        } finally {
          this.lastStepEndMs = this.o.now()
          this.ranMs += this.lastStepEndMs - started
        }
      } finally {
        if (done === 'full') this.behind.add(c)
        else this.behind.delete(c)
        this.release()
      }
    }
    const run = (this.stepping.get(c) ?? Promise.resolve()).then(once, once)
    this.stepping.set(c, run)
    return run
  }

  /**
   * While ingest is saturated ({@link FeedRunnerOptions.ingestLoad} at or above `holdAbove`, or at
   * or above `yieldAbove` with the feed behind by `yieldBehindMs`), holds the turn until the steps run since the feed last
   * held (or last found ingest unsaturated) are down to `saturatedShare` of the time, looking
   * every 50 ms: a step goes at once when either condition ends.
   */
  private async yieldToIngest(): Promise<void> {
    const load = this.o.ingestLoad
    if (!load || this.o.yieldAbove >= 1) return
    const holdAbove = Math.max(this.o.yieldAbove, this.o.holdAbove)
    const saturated = () => {
      const l = load()
      return l >= holdAbove || (l >= this.o.yieldAbove && this.behindMs() > this.o.yieldBehindMs)
    }
    if (!saturated()) {
      this.ranMs = 0
      return
    }
    const until = this.lastStepEndMs + this.ranMs * (1 / this.o.saturatedShare - 1)
    let held = false
    for (let now = this.o.now(); !this.stopping && now < until && saturated(); ) {
      if (!held) this.o.onHold?.((held = true))
      await sleep(Math.min(50, until - now), this.holding)
      const after = this.o.now()
      this.heldMs += after - now
      now = after
    }
    if (held) this.o.onHold?.(false)
    this.ranMs = 0
  }

  /**
   * How far the furthest-behind consumer trails the latest commit this runner heard of, ms: that
   * commit's arrival less the commit time of the last batch the consumer applied (0 before its
   * first step, or with no commit heard of).
   */
  private behindMs(): number {
    if (this.lastCommitMs === 0) return 0
    let most = 0
    for (const p of this.progress.values()) if (p.committedMs > 0) most = Math.max(most, this.lastCommitMs - p.committedMs)
    return most
  }

  /**
   * Waits until no other consumer of this runner is stepping; of several waiting, the one with the
   * shortest step interval goes first (then list order): by default `catalog` (50 ms), the audit
   * chain (500 ms), then `metrics` and `profiles` (1 s). Steps interleaved at their awaits would
   * each end later; one at a time, the consumers that must be freshest trail commits the least,
   * and only one step's rows are in memory at once. While some waiting consumer is behind (its
   * last step hit a step limit), the one furthest behind goes first instead (see {@link release}).
   */
  private turn(c: FeedConsumer): Promise<void> {
    if (!this.busy) {
      this.busy = true
      return Promise.resolve()
    }
    const rank = this.rankOf(c)
    return new Promise<void>((resolve) => {
      let i = this.waiting.length
      while (i > 0 && this.waiting[i - 1]!.rank > rank) i--
      this.waiting.splice(i, 0, { c, rank, resolve })
    })
  }

  /** Turn order: the shorter a consumer's step interval (the fresher it must be), the earlier; then list order. */
  private rankOf(c: FeedConsumer): number {
    return (c.minStepIntervalMs ?? this.o.stepIntervalMs) * 1000 + this.consumers.indexOf(c)
  }

  /**
   * Hands the turn on: to the first waiting step by rank, or, while some waiting consumer is behind,
   * to the one with the lowest watermark (the first by rank among equals). Behind, each consumer
   * reads a full step at a time; by freshness alone the cheap ones (catalog, then audit) would lap
   * the others step after step, each reading far ahead of the slowest, and the shared cache, which
   * holds about one step, would drop those rows before the slower consumers got to them: every
   * consumer read every row back from the store and parsed it again (bench/feed-consumers.js,
   * `all`, ingest flat out: 2.5 rows read back per row committed). Slowest first, they come
   * together and then go through each step's rows one after another, read once for all of them.
   * The choice waits for the event loop's next turn: a consumer whose step just hit a limit steps
   * again at once, and must be among the waiting when it is the one furthest behind.
   */
  private release(): void {
    setImmediate(() => this.handOn())
  }

  private handOn(): void {
    let at = 0
    if (this.waiting.some((w) => this.behind.has(w.c))) {
      let low = Number.POSITIVE_INFINITY
      for (let i = 0; i < this.waiting.length; i++) {
        const pos = this.watermarkOf(this.waiting[i]!.c)
        if (pos < low) {
          low = pos
          at = i
        }
      }
    }
    const next = this.waiting.splice(at, 1)[0]
    if (next) next.resolve()
    else this.busy = false
  }

  /** Where a consumer stands as far as this runner knows: where its step in flight or its next one starts (-∞ before its first). */
  private watermarkOf(c: FeedConsumer): number {
    return this.froms.get(c.name) ?? Number.NEGATIVE_INFINITY
  }

  private async stepOnce(c: FeedConsumer): Promise<'idle' | 'some' | 'full'> {
    const derived = this.store.derived
    const from = await derived.watermark(c.name)
    const { batches, limited } = await this.readBatches(c.name, from)
    const last = batches[batches.length - 1]
    if (!last) return 'idle'
    const writes = await c.apply(batches, { derived, from })
    if (!(await derived.advance(c.name, from, last.position, writes))) return 'full' // someone else moved it: read again
    c.committed?.(last.position)
    // Its next step starts here: the cache may drop what it and every other consumer are past.
    this.froms.set(c.name, last.position)
    const p = { position: last.position, committedMs: last.committedMs, appliedMs: this.o.now(), readBack: this.rowsReadBack }
    this.progress.set(c.name, p)
    this.o.onProgress?.(c.name, p)
    // Stopped at a step limit with more committed behind it: the next step goes at once. (A step
    // that merely ended short of the limit waits for its interval; at a steady rate above
    // `maxRows` per interval it would otherwise fall further behind at every step.)
    return limited ? 'full' : 'some'
  }

  /**
   * The batches after `from` within the step limits: the cached ones, then the store's after them;
   * `limited` when a limit stopped the read with committed batches left after it. A read from the
   * store stops at the watermark of the nearest consumer ahead (`until`), so that a consumer that
   * trails the others catches up with them rather than passing them: from there on they read the
   * same batches, and the cache serves all but the first (see {@link release}). Its rows are kept
   * to what the cache can hold ({@link stepRows}).
   */
  private async readBatches(consumer: string, from: number): Promise<{ batches: CommittedBatch[]; limited: boolean }> {
    this.froms.set(consumer, from)
    this.prune()
    const maxRows = this.stepRows()
    const out: CommittedBatch[] = []
    let rows = 0
    let at = from
    for (let b = this.shared.get(at)?.batch; b; b = this.shared.get(at)?.batch) {
      const n = rowsIn(b)
      if (out.length >= this.o.maxBatches || (out.length > 0 && rows + n > maxRows)) return { batches: out, limited: true }
      out.push(b)
      rows += n
      at = b.position
    }
    if (out.length >= this.o.maxBatches) return { batches: out, limited: true }
    const until = this.nextAhead(consumer, at)
    // Positions rise by at least one per batch: no more than `until - at` batches lie in between.
    const room = Math.min(this.o.maxBatches - out.length, until - at)
    const more = await this.store.readBatches(at, { maxBatches: room, maxRows: Math.max(1, maxRows - rows) })
    let limited = more.length >= room
    for (const b of more) {
      const n = rowsIn(b)
      this.rowsReadBack += n
      this.keep(at, b)
      at = b.position
      // The store always returns at least one batch; past the first, keep to the row limit, and
      // stop at the consumer ahead (batches past it stay cached for it).
      if (out.length > 0 && (rows + n > maxRows || b.position > until)) {
        limited = true
        continue
      }
      out.push(b)
      rows += n
    }
    if (this.overBudget()) this.prune({ from, to: at })
    // The store stops before the batch that would pass the row limit without saying so: a read
    // that came near the limit asks whether anything was committed after it.
    if (!limited && more.length > 0 && rows >= maxRows / 2) limited = (await this.store.commitHead()) > at
    return { batches: out, limited }
  }

  /** The watermark of the nearest other consumer ahead of `at` (see {@link watermarkOf}), or +∞ when none is. */
  private nextAhead(consumer: string, at: number): number {
    let next = Number.POSITIVE_INFINITY
    for (const c of this.consumers) {
      if (c.name === consumer) continue
      const pos = this.watermarkOf(c)
      if (pos > at && pos < next) next = pos
    }
    return next
  }

  /**
   * Most rows of one step: {@link FeedRunnerOptions.maxRows}, but no more than half of what the cache
   * holds (rows, and bytes at the average size of the rows it has seen), so that one step's batches
   * stay cached until every consumer has read them.
   */
  private stepRows(): number {
    let n = Math.min(this.o.maxRows, Math.floor(this.o.sharedRows / 2))
    if (this.seenRows > 0) n = Math.min(n, Math.floor(this.o.sharedBytes / 2 / (this.seenBytes / this.seenRows)))
    return Math.max(1, n)
  }

  /**
   * Drops cached batches every consumer is past; then, beyond the row and byte bounds, the highest
   * positions first, sparing the batches a step just read (`read`: the cache keys from its start
   * to its end), then the lowest. The consumers behind read the lowest positions next and the
   * highest last (a batch handed over far ahead of all of them would be dropped before they got
   * there anyway); a step's batches are what the others read right after it.
   */
  private prune(read?: { from: number; to: number }): void {
    // Until every consumer has stepped, one that has not may still need the oldest batches.
    let low = this.froms.size < this.consumers.length ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
    for (const f of this.froms.values()) low = Math.min(low, f)
    for (const at of [...this.shared.keys()]) if (at < low) this.drop(at)
    if (!this.overBudget()) return
    const order = [...this.shared.keys()].sort((x, y) => y - x)
    for (const at of order) {
      if (!this.overBudget()) return
      if (!read || at < read.from || at >= read.to) this.drop(at)
    }
    for (let i = order.length - 1; i >= 0 && this.overBudget(); i--) this.drop(order[i]!)
  }

  /** Takes `consumer`'s lease from a holder of this host that no longer runs (see `leaseHolderGone`). */
  private async takeOver(consumer: string): Promise<boolean> {
    const row = (await this.store.derived.db
      .selectFrom('feed_consumers')
      .select('holder')
      .where('name', '=', consumer)
      .executeTakeFirst()) as { holder: string | null } | undefined
    const gone = row?.holder
    if (!gone || gone === this.holder || !leaseHolderGone(gone)) return false
    if (!(await this.store.derived.claim(consumer, this.holder, this.o.leaseMs, gone))) return false
    this.o.logger?.info(`feed: consumer ${consumer}: took the lease of ${gone}, a process that no longer runs`)
    return true
  }

  private async loop(c: FeedConsumer, waker: Waker): Promise<void> {
    const pause: Waker = {}
    this.pauses.push(pause)
    let failures = 0
    let prepared = c.prepare === undefined
    let leaseUntil = 0
    while (!this.stopping) {
      try {
        // Only the lease holder works; others stand by and take over if its lease runs out.
        if (this.o.now() > leaseUntil - (this.o.leaseMs * 2) / 3) {
          const asked = this.o.now()
          if (!(await this.store.derived.claim(c.name, this.holder, this.o.leaseMs)) && !(await this.takeOver(c.name))) {
            leaseUntil = 0
            // Standing by; a stop wakes it.
            await sleep(this.o.leaseMs / 3, pause)
            continue
          }
          leaseUntil = asked + this.o.leaseMs
        }
        if (!prepared) {
          await c.prepare?.({ derived: this.store.derived })
          prepared = true
        }
        const started = this.o.now()
        const done = await this.step(c, true)
        if (failures > 0) this.o.logger?.info(`feed: consumer ${c.name} recovered after ${failures} failures`)
        failures = 0
        if (done === 'full') continue // behind: no pause
        // Let commits gather (not wakeable), then wait for one if there was none. A consumer may
        // ask for a longer interval (its steps rewrite large rows) or a shorter one (cheap steps).
        // Steps start on the clock's multiples of the interval, so consumers of one pace step
        // together: a batch then leaves the cache (and its parsed bodies the heap) right after
        // their steps instead of waiting for the last of them to come round.
        const interval = c.minStepIntervalMs ?? this.o.stepIntervalMs
        const rest = Math.ceil((started + interval / 2) / interval) * interval - this.o.now()
        if (rest > 0 && !this.stopping) await sleep(rest, pause)
        if (done === 'idle') await sleep(this.o.pollMs, waker)
      } catch (e) {
        const wait = nextBackoffMs(failures++, { baseMs: this.o.retryMs, maxMs: 5_000 })
        // One line for the first failure and then every tenth, not one per retry.
        if (failures === 1 || failures % 10 === 0) {
          this.o.logger?.warn(`feed: consumer ${c.name} failed (${failures}×), retrying in ${Math.round(wait)} ms: ${(e as Error).message}`)
        }
        // Not wakeable by commits: a stream of them must not turn the back-off into a tight retry loop.
        if (!this.stopping) await sleep(wait, pause)
      }
    }
    // Stopped: give the lease up, so that the next holder (this server restarted, another
    // worker) takes the consumer at once, not when the lease would have run out (leaseMs).
    if (leaseUntil > 0) await this.store.derived.claim(c.name, this.holder, -1).catch(() => undefined)
  }
}

function rowsIn(b: CommittedBatch): number {
  return b.events.length + b.feedback.length + (b.audit?.length ?? 0)
}

/** Bytes a cached row counts for its object and short fields (ids, names, numbers) beside its body. */
export const ROW_OVERHEAD_BYTES = 256

/**
 * Bytes a batch counts for in the shared cache (see `sharedBytes`): an estimate of its rows'
 * stored texts and their parsed forms (counted whether or not a consumer has parsed them yet: one
 * will), and their objects.
 */
export function bytesIn(b: CommittedBatch): number {
  let n = 0
  for (const e of b.events) n += ROW_OVERHEAD_BYTES + 2 * e.body.length
  for (const f of b.feedback) n += ROW_OVERHEAD_BYTES + 2 * f.body.length
  for (const a of b.audit ?? []) n += ROW_OVERHEAD_BYTES + a.body.length
  return n
}
