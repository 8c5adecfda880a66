import type { FeedbackItem, IngestReply } from '@inferlog/schema'
import { InferlogSdkError, type SdkErrorCode } from '../errors.js'
import type { LoggedEvent, OverflowPolicy } from '../options.js'
import type { Payload, Platform, RecordKind, Sender, SendResult, Spool, TimerHandle } from './platform.js'
import { eventLine, feedbackLine, isoFormatter, type LineParts, type PrepareConfig } from './prepare.js'
import { backoffMs, classify } from './retry.js'
import { RingQueue } from './ring-queue.js'

/** Counters of a logger. Every item ends up in exactly one of sent, dropped, failed, rejected (or is still pending). */
export interface LoggerStats {
  /** Items (events + feedback) accepted into the in-memory queue. */
  enqueued: number
  /** Items the collector (or store) acknowledged, duplicates included. */
  sent: number
  /** Items lost to a capacity limit: full queue, spool eviction, or logged after close(). */
  dropped: number
  /** Items written to the disk spool (cumulative). */
  spooled: number
  /** Re-send attempts (requests) after a failed attempt, live and from the spool. */
  retried: number
  /** Items given up on: retries exhausted without a spool, non-retryable replies, serialization or spool failures. */
  failed: number
  /** Items waiting in memory. */
  queueDepth: number
  /** Items delivered from the spool (cumulative; included in `sent`). */
  replayed: number
  /** Items the collector refused one by one (207), never retried. */
  rejected: number
  /** Items the collector already had (a safe re-send; included in `sent`). */
  duplicates: number
  /** Events (and their feedback) left out by `sampling.rate`. */
  sampledOut: number
  /** Items taken from the queue and not yet acknowledged, spooled or given up. */
  inFlight: number
  /** Items and bytes currently in the disk spool. */
  spoolItems: number
  spoolBytes: number
  /** Requests that delivered a batch, and their body bytes (compressed). */
  requests: number
  bytesSent: number
}

/** Resolved settings of the pipeline. */
export interface PipelineConfig {
  batch: { maxItems: number; maxBytes: number; intervalMs: number }
  queue: { maxItems: number; maxBytes: number; overflow: OverflowPolicy }
  http: {
    concurrency: number
    maxRetries: number
    retriesBeforeSpool: number
    initialBackoffMs: number
    maxBackoffMs: number
    gzipLevel: number
  }
  prepare: PrepareConfig
  report: (error: InferlogSdkError) => void
}

interface Batch {
  kind: RecordKind
  /** Sequence number (per kind) of the first item; flush() waits until every batch below its target settles. */
  minSeq: number
  /** NDJSON bytes, written line by line as items are serialized (no intermediate strings kept). */
  buf: Uint8Array
  bytes: number
  count: number
}

interface Sleeper {
  timer: TimerHandle
  wake: () => void
  /** Part of a flush: keeps the process alive while a flush waits on it. */
  live: boolean
}

interface FlushWaiter {
  ev: number
  fb: number
  resolve: () => void
}

const YIELD_EVERY_MS = 4
const EMPTY = new Uint8Array(0)
const BUFFER_POOL = 4
const AVG_WEIGHT = 0.05

/**
 * The machinery between `log()` and the collector: a bounded queue per record kind, a batcher
 * that serializes off the caller's path (yielding every few milliseconds), live sends with
 * retries, a disk spool for outages and overflow, and an in-order replayer.
 */
export class Pipeline {
  readonly ev: RingQueue<LoggedEvent>
  readonly fb: RingQueue<FeedbackItem>
  readonly counts = {
    enqueued: 0,
    sent: 0,
    dropped: 0,
    spooled: 0,
    retried: 0,
    failed: 0,
    replayed: 0,
    rejected: 0,
    duplicates: 0,
    sampledOut: 0,
    requests: 0,
    bytesSent: 0,
  }
  /** Moving averages of serialized sizes, for the queue's byte estimate. */
  private avg = { event: 1024, feedback: 256 }
  private readonly inflight = new Set<Batch>()
  private inflightItems = 0
  private liveSends = 0
  private outage = false
  private closing = false
  private closed = false
  private stopped = false
  private scheduled = false
  private pumping = false
  private repump = false
  private tickDue = false
  private overflowing = false
  private readonly reported = new Set<SdkErrorCode>()
  private waiters: FlushWaiter[] = []
  private readonly sleepers = new Set<Sleeper>()
  private spoolChain: Promise<void> = Promise.resolve()
  private replayLoop: Promise<void> | undefined
  private carry: { kind: RecordKind; seq: number; line: string } | undefined
  private readonly iso = isoFormatter()
  private readonly bufferPool: Uint8Array[] = []
  private readonly tick: TimerHandle
  private closePromise: Promise<void> | undefined
  private readonly pumpFn = () => void this.pump()

  constructor(
    private readonly cfg: PipelineConfig,
    private readonly platform: Platform,
    private readonly sender: Sender,
    private readonly spool: Spool | undefined,
    spoolReady: Promise<void> | undefined,
  ) {
    this.ev = new RingQueue(cfg.queue.maxItems)
    this.fb = new RingQueue(cfg.queue.maxItems)
    this.tick = platform.interval(() => {
      if (this.ev.size + this.fb.size > 0) {
        this.tickDue = true
        this.schedule()
      }
    }, cfg.batch.intervalMs)
    // Batches left by an earlier run are replayed as soon as the spool is loaded.
    void spoolReady?.then(
      () => this.startReplay(),
      (e: unknown) => this.report('spool_failed', `cannot open the spool: ${(e as Error).message}`, { cause: e }),
    )
  }

  // ---- the caller's path: O(1), no I/O, no serialization ----

  /** Enqueues an event. Never throws, never calls back synchronously. */
  enqueueEvent(event: LoggedEvent, id: string, time: number): void {
    if (this.closePromise !== undefined) return this.dropClosed()
    const q = this.ev
    if (!this.admit(q)) return
    q.push(event, id, time)
    this.counts.enqueued++
    if (!this.scheduled && (q.size >= this.cfg.batch.maxItems || q.size * this.avg.event >= this.cfg.batch.maxBytes)) this.schedule()
  }

  /** Enqueues a feedback item. */
  enqueueFeedback(item: FeedbackItem, time: number): void {
    if (this.closePromise !== undefined) return this.dropClosed()
    const q = this.fb
    if (!this.admit(q)) return
    q.push(item, item.id!, time)
    this.counts.enqueued++
    if (!this.scheduled && q.size >= this.cfg.batch.maxItems) this.schedule()
  }

  private admit(q: RingQueue<unknown>): boolean {
    const { maxItems, maxBytes, overflow } = this.cfg.queue
    const items = this.ev.size + this.fb.size
    if (items < maxItems && this.ev.size * this.avg.event + this.fb.size * this.avg.feedback + this.avg.event <= maxBytes) {
      if (overflow === 'spool' && items * 2 >= maxItems && !this.scheduled) this.schedule()
      return true
    }
    this.counts.dropped++
    if (!this.overflowing) {
      this.overflowing = true
      this.platform.soon(() =>
        this.report(
          'queue_overflow',
          `the in-memory queue is full (${maxItems} items / ${maxBytes} bytes); dropping (${overflow}); see stats().dropped`,
        ),
      )
    }
    if (!this.scheduled) this.schedule()
    if (overflow === 'drop-oldest' && q.size > 0) {
      // Make room: the oldest item of the same kind goes, the new one is kept.
      q.drop()
      return true
    }
    return false
  }

  private dropClosed(): void {
    this.counts.dropped++
    if (!this.reported.has('closed')) {
      this.reported.add('closed')
      this.platform.soon(() => this.report('closed', 'log() or feedback() after close(): dropped; see stats().dropped'))
    }
  }

  // ---- the batcher ----

  private schedule(): void {
    if (this.scheduled || this.stopped) return
    if (this.pumping) {
      // The running pump looks again when it finishes: no timer per call under load.
      this.repump = true
      return
    }
    this.scheduled = true
    this.platform.soon(this.pumpFn)
  }

  private forced(): boolean {
    return this.tickDue || this.waiters.length > 0 || this.closing
  }

  private ready(q: RingQueue<unknown>, avg: number): boolean {
    if (q.size === 0) return false
    if (this.forced() || q.size >= this.cfg.batch.maxItems || q.size * avg >= this.cfg.batch.maxBytes) return true
    return this.cfg.queue.overflow === 'spool' && (this.ev.size + this.fb.size) * 2 >= this.cfg.queue.maxItems
  }

  /** Whether the next batch goes to the spool instead of the network. */
  private divert(): boolean {
    if (!this.spool) return false
    if (this.outage) return true
    return (
      this.cfg.queue.overflow === 'spool' &&
      this.liveSends >= this.cfg.http.concurrency &&
      (this.ev.size + this.fb.size) * 2 >= this.cfg.queue.maxItems
    )
  }

  private async pump(): Promise<void> {
    this.scheduled = false
    if (this.pumping) {
      this.repump = true
      return
    }
    this.pumping = true
    try {
      for (;;) {
        const kind: RecordKind | undefined = this.ready(this.fb, this.avg.feedback)
          ? 'feedback'
          : this.ready(this.ev, this.avg.event)
            ? 'event'
            : undefined
        if (kind === undefined) break
        const toSpool = this.divert()
        if (!toSpool && this.liveSends >= this.cfg.http.concurrency) break
        const batch = await this.build(kind)
        if (batch.count === 0) {
          this.settle(batch)
          continue
        }
        if (toSpool) await this.spoolBatch(batch)
        else void this.sendLive(batch)
      }
      if (this.ev.size + this.fb.size === 0) this.tickDue = false
      if (this.overflowing && (this.ev.size + this.fb.size) * 2 < this.cfg.queue.maxItems) this.overflowing = false
    } catch (e) {
      this.report('delivery_failed', `internal batcher error: ${(e as Error).message}`, { cause: e })
    } finally {
      this.pumping = false
      if (this.repump) {
        this.repump = false
        this.schedule()
      }
      this.checkWaiters()
    }
  }

  /** Takes items off one queue and serializes them into NDJSON bytes, yielding every few ms. */
  private async build(kind: RecordKind): Promise<Batch> {
    const q: RingQueue<LoggedEvent | FeedbackItem> = kind === 'event' ? this.ev : this.fb
    const { maxItems, maxBytes } = this.cfg.batch
    const batch: Batch = {
      kind,
      minSeq: q.shifted,
      buf: this.bufferPool.pop() ?? this.platform.allocBytes(Math.min(64 * 1024, maxBytes * 3 + 3)),
      bytes: 0,
      count: 0,
    }
    this.inflight.add(batch)
    const prep = this.cfg.prepare
    const platform = this.platform
    const parts: LineParts = { prefix: '' }
    let start = performance.now()
    let n = 0
    while (q.size > 0 && batch.count < maxItems) {
      const seq = q.shifted
      let line: string
      let prefix = ''
      const c = this.carry
      if (c !== undefined && c.kind === kind && c.seq === seq) {
        line = c.line
        this.carry = undefined
      } else {
        parts.prefix = ''
        try {
          line =
            kind === 'event'
              ? eventLine(q.peekItem() as LoggedEvent, q.peekId(), q.peekTime(), prep, this.iso, parts)
              : feedbackLine(q.peekItem() as FeedbackItem, q.peekTime(), prep, this.iso)
        } catch (e) {
          q.drop()
          this.counts.failed++
          this.report('serialize_failed', `an ${kind} could not be serialized and was left out: ${(e as Error).message}`, {
            cause: e,
            items: 1,
          })
          continue
        }
        prefix = parts.prefix
        this.avg[kind] += (prefix.length + line.length - this.avg[kind]) * AVG_WEIGHT
      }
      // Worst case 3 bytes per UTF-16 unit, plus the newline.
      const room = batch.bytes + (prefix.length + line.length) * 3 + 1
      if (room > batch.buf.byteLength) {
        const bigger = platform.allocBytes(Math.max(room, batch.buf.byteLength * 2))
        bigger.set(batch.buf.subarray(0, batch.bytes))
        batch.buf = bigger
      }
      let written: number
      if (prefix === '') written = platform.writeUtf8(batch.buf, batch.bytes, line)
      else {
        // prefix ends with ',' and the body starts with '{': write the body over that comma, then
        // restore it. Saves concatenating (and copying) the body.
        const p = platform.writeUtf8(batch.buf, batch.bytes, prefix)
        const b = platform.writeUtf8(batch.buf, batch.bytes + p - 1, line)
        batch.buf[batch.bytes + p - 1] = 0x2c
        written = p - 1 + b
      }
      if (batch.count > 0 && batch.bytes + written + 1 > maxBytes) {
        // Over the byte limit: this line opens the next batch.
        this.carry = { kind, seq, line: prefix === '' ? line : prefix + line.slice(1) }
        break
      }
      batch.bytes += written
      batch.buf[batch.bytes++] = 0x0a
      q.drop()
      batch.count++
      this.inflightItems++
      if ((++n & 15) === 0 && performance.now() - start > YIELD_EVERY_MS) {
        // Give the host's own work a turn; log() keeps running meanwhile.
        await new Promise<void>((r) => platform.soon(r))
        start = performance.now()
      }
    }
    return batch
  }

  private async encode(batch: Batch): Promise<Payload> {
    const buf = batch.buf
    const raw = buf.subarray(0, batch.bytes)
    batch.buf = EMPTY
    const level = this.cfg.http.gzipLevel
    if (this.sender.compress && level > 0 && this.platform.gzip) {
      const body = await this.platform.gzip(raw, level)
      // The build buffer is free again once compressed: reuse it (fewer large allocations, less GC).
      if (this.bufferPool.length < BUFFER_POOL) this.bufferPool.push(buf)
      return { kind: batch.kind, body, encoding: 'gzip', count: batch.count }
    }
    return { kind: batch.kind, body: raw, encoding: 'identity', count: batch.count }
  }

  private settle(batch: Batch): void {
    if (this.inflight.delete(batch)) this.inflightItems -= batch.count
    this.checkWaiters()
  }

  private async sendLive(batch: Batch): Promise<void> {
    this.liveSends++
    try {
      await this.deliver(await this.encode(batch))
    } catch (e) {
      this.counts.failed += batch.count
      this.report('delivery_failed', `internal delivery error: ${(e as Error).message}`, { cause: e, items: batch.count })
    } finally {
      this.liveSends--
      this.settle(batch)
      this.schedule()
    }
  }

  private async spoolBatch(batch: Batch): Promise<void> {
    try {
      await this.toSpool(await this.encode(batch))
      this.startReplay()
    } finally {
      this.settle(batch)
    }
  }

  /** Sends a payload with retries; then spools it (when there is a spool) or gives up, counted and reported. */
  private async deliver(p: Payload): Promise<void> {
    const retries = this.spool ? this.cfg.http.retriesBeforeSpool : this.cfg.http.maxRetries
    for (let attempt = 0; ; attempt++) {
      const { res, err } = await this.attempt(p)
      const verdict = classify(res, err)
      if (verdict === 'ok') return this.account(p, res!.reply, false)
      if (verdict === 'split' && p.count > 1) {
        for (const half of await this.split(p)) await this.deliver(half)
        return
      }
      if (verdict === 'retry' && !this.stopped) {
        if (this.spool && (this.closing || attempt >= retries)) {
          // The collector is down or too slow: spool, and let the replayer probe it.
          this.outage = true
          await this.toSpool(p)
          this.startReplay()
          return
        }
        if (attempt < retries) {
          this.counts.retried++
          await this.sleep(backoffMs(attempt, this.cfg.http.initialBackoffMs, this.cfg.http.maxBackoffMs, res?.retryAfterMs), true)
          continue
        }
      }
      this.counts.failed += p.count
      this.report('delivery_failed', `${p.count} ${p.kind} items lost: ${describe(res, err)}`, {
        items: p.count,
        cause: err,
        ...(res ? { status: res.status } : {}),
      })
      return
    }
  }

  private async attempt(p: Payload): Promise<{ res?: SendResult; err?: unknown }> {
    try {
      return { res: await this.sender.send(p) }
    } catch (err) {
      return { err }
    }
  }

  private account(p: Payload, reply: IngestReply | undefined, replay: boolean): void {
    const c = this.counts
    c.requests++
    c.bytesSent += p.body.byteLength
    if (!reply || typeof reply.accepted !== 'number') {
      c.sent += p.count
      if (replay) c.replayed += p.count
      return
    }
    const rejected = Array.isArray(reply.rejected) ? reply.rejected : []
    const ok = p.count - rejected.length
    c.sent += ok
    c.duplicates += reply.duplicates ?? 0
    if (replay) c.replayed += ok
    if (rejected.length > 0) {
      c.rejected += rejected.length
      const codes = [...new Set(rejected.map((r) => r.code))].join(', ')
      const first = rejected[0]!
      this.report(
        'rejected',
        `the collector rejected ${rejected.length} of ${p.count} ${p.kind} items (${codes}); first: ${first.message}`,
        {
          rejections: rejected,
          items: rejected.length,
        },
      )
    }
  }

  /** Splits a payload the collector found too large into two halves. */
  private async split(p: Payload): Promise<Payload[]> {
    let raw = p.body
    if (p.encoding === 'gzip') raw = await this.platform.gunzip!(raw)
    const lines = this.platform
      .decodeUtf8(raw)
      .split('\n')
      .filter((l) => l !== '')
    const mid = Math.ceil(lines.length / 2)
    const out: Payload[] = []
    for (const part of [lines.slice(0, mid), lines.slice(mid)]) {
      if (part.length === 0) continue
      const buf = this.platform.encodeUtf8(part.join('\n') + '\n')
      out.push(await this.encode({ kind: p.kind, minSeq: 0, buf, bytes: buf.byteLength, count: part.length }))
    }
    return out
  }

  // ---- the spool ----

  private toSpool(p: Payload): Promise<void> {
    const spool = this.spool
    if (!spool) {
      this.counts.failed += p.count
      return Promise.resolve()
    }
    const run = async (): Promise<void> => {
      try {
        const { evicted, stored } = await spool.write(p)
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
    const next = this.spoolChain.then(run)
    this.spoolChain = next
    return next
  }

  private startReplay(): void {
    if (!this.spool || this.replayLoop || this.stopped || !this.spool.head()) return
    this.replayLoop = this.replay().finally(() => {
      this.replayLoop = undefined
      // Entries spooled while the loop was finishing.
      if (!this.stopped && this.spool!.head()) this.startReplay()
    })
  }

  /** Sends spooled batches oldest first; while the collector is down, probes it with backoff. */
  private async replay(): Promise<void> {
    const spool = this.spool!
    let failures = 0
    while (!this.stopped) {
      const entry = spool.head()
      if (!entry) return
      let payload: Payload
      // Pinned from before the read: eviction must not count the entry while it is being replayed.
      spool.pin(entry, true)
      try {
        payload = await spool.read(entry)
      } catch (e) {
        spool.pin(entry, false)
        await spool.remove(entry).catch(() => undefined)
        this.counts.failed += entry.count
        this.report('spool_failed', `unreadable spool file ${entry.name} (${entry.count} items) removed: ${(e as Error).message}`, {
          cause: e,
        })
        continue
      }
      const { res, err } = await this.attempt(payload)
      spool.pin(entry, false)
      const verdict = classify(res, err)
      if (verdict === 'ok') {
        this.account(payload, res!.reply, true)
        await spool.remove(entry).catch(() => undefined)
        failures = 0
        if (this.outage) {
          this.outage = false
          this.schedule()
        }
        continue
      }
      if (verdict === 'retry') {
        if (this.stopped) return
        this.outage = true
        this.counts.retried++
        await this.sleep(backoffMs(failures++, this.cfg.http.initialBackoffMs, this.cfg.http.maxBackoffMs, res?.retryAfterMs), false)
        continue
      }
      if (verdict === 'split' && payload.count > 1) {
        for (const half of await this.split(payload)) await this.deliver(half)
      } else {
        this.counts.failed += payload.count
        this.report('delivery_failed', `${payload.count} spooled ${payload.kind} items lost: ${describe(res, err)}`, {
          items: payload.count,
          ...(res ? { status: res.status } : {}),
        })
      }
      await spool.remove(entry).catch(() => undefined)
    }
  }

  // ---- timers, flush and close ----

  private sleep(ms: number, live: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const s: Sleeper = {
        live,
        wake: () => {
          s.timer.cancel()
          this.sleepers.delete(s)
          resolve()
        },
        timer: undefined as unknown as TimerHandle,
      }
      s.timer = this.platform.timer(() => s.wake(), ms, live && (this.waiters.length > 0 || this.closing))
      this.sleepers.add(s)
    })
  }

  private lowest(q: RingQueue<unknown>, kind: RecordKind): number {
    let low = q.shifted
    for (const b of this.inflight) if (b.kind === kind && b.minSeq < low) low = b.minSeq
    return low
  }

  private checkWaiters(): void {
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

  /** True when items are queued or in flight (used by the exit hooks). */
  hasPending(): boolean {
    return this.ev.size + this.fb.size + this.inflight.size > 0
  }

  /**
   * Resolves once every item enqueued before the call is acknowledged, spooled, dropped or given
   * up on; or after `timeoutMs`. Never rejects.
   */
  flush(timeoutMs?: number): Promise<void> {
    const w: FlushWaiter = { ev: this.ev.pushed, fb: this.fb.pushed, resolve: () => undefined }
    const done = new Promise<void>((resolve) => (w.resolve = resolve))
    this.waiters.push(w)
    // Retries now matter to someone: keep the process alive for them.
    for (const s of this.sleepers) if (s.live) s.timer.ref(true)
    this.checkWaiters()
    this.schedule()
    if (timeoutMs === undefined) return done
    return new Promise<void>((resolve) => {
      const t = this.platform.timer(resolve, timeoutMs, false)
      void done.then(() => {
        t.cancel()
        resolve()
      })
    })
  }

  /** Flushes, then stops timers, the replayer and the transport. Idempotent. */
  close(timeoutMs?: number): Promise<void> {
    return (this.closePromise ??= (async () => {
      this.closing = true
      await this.flush(timeoutMs)
      this.closed = true
      this.stopped = true
      this.tick.cancel()
      for (const s of [...this.sleepers]) s.wake()
      await this.spoolChain
      await this.sender.close().catch(() => undefined)
      await this.replayLoop
      // Whatever a timed-out close leaves in memory is lost: count it, say so.
      const left = this.ev.size + this.fb.size
      if (left > 0) {
        this.counts.dropped += left
        while (this.ev.size > 0) this.ev.drop()
        while (this.fb.size > 0) this.fb.drop()
        this.report('closed', `close() timed out with ${left} items still queued: dropped; see stats().dropped`, { items: left })
      }
    })())
  }

  get isClosed(): boolean {
    return this.closed
  }

  stats(): LoggerStats {
    const s = this.spool?.size()
    return {
      ...this.counts,
      queueDepth: this.ev.size + this.fb.size,
      inFlight: this.inflightItems,
      spoolItems: s?.items ?? 0,
      spoolBytes: s?.bytes ?? 0,
    }
  }

  /** Reports through onError; never throws. Public so the logger can report callback faults. */
  report(code: SdkErrorCode, message: string, extra: ConstructorParameters<typeof InferlogSdkError>[2] = {}): void {
    try {
      this.cfg.report(new InferlogSdkError(code, message, extra))
    } catch {
      // The host's error handler failed: nothing more can be done without throwing into the host.
    }
  }
}

function describe(res: SendResult | undefined, err: unknown): string {
  if (res) return `HTTP ${res.status}${res.errorCode ? ` ${res.errorCode}` : ''}${res.message ? `: ${res.message}` : ''}`
  return err instanceof Error ? err.message : String(err)
}
