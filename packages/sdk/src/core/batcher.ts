import type { FeedbackItem } from '@inferlog/schema'
import type { LoggedEvent } from '../options.js'
import type { Admission } from './admission.js'
import type { FlushTracker } from './flush-tracker.js'
import type { Lifecycle } from './lifecycle.js'
import type { PayloadCodec } from './payload-codec.js'
import type { Payload, Platform, RecordKind, TimerHandle } from './platform.js'
import { eventLine, feedbackLine, isoFormatter, type LineParts, type PrepareConfig } from './prepare.js'
import type { RingQueue } from './ring-queue.js'
import type { Counts, Report } from './stats.js'

/** A batch being built or sent: NDJSON bytes, written line by line as items are serialized. */
export interface Batch {
  kind: RecordKind
  /** Sequence number (per kind) of the first item, for flush tracking. */
  minSeq: number
  buf: Uint8Array
  bytes: number
  count: number
}

/** Where the batcher hands its batches. */
export interface BatchSink {
  /** Where the next batch would go now: the spool, the network, or nowhere yet (every connection busy). */
  route(): 'spool' | 'live' | 'wait'
  /** Takes a batch for the network; not awaited, so sends run side by side. */
  sendLive(batch: Batch): void
  /** Takes a batch for the spool; awaited, so the disk paces the batcher. */
  spool(batch: Batch): Promise<void>
}

/** Settings of {@link Batcher}. */
export interface BatcherConfig {
  batch: { maxItems: number; maxBytes: number; intervalMs: number }
  /** `queue.overflow` is `spool`: a half-full queue is batched at once. */
  overflowToSpool: boolean
}

const YIELD_EVERY_MS = 4
const EMPTY = new Uint8Array(0)
const BUFFER_POOL = 4
const AVG_WEIGHT = 0.05

/**
 * Takes items off the queue and serializes them into NDJSON batches, off the caller's path: when
 * a batch is full, every `batch.intervalMs`, or at once while someone flushes. Yields every few
 * milliseconds so the host's own work gets its turn.
 */
export class Batcher {
  private scheduled = false
  private pumping = false
  private repump = false
  /** The interval passed with items queued: send what there is. */
  private tickDue = false
  /** A line serialized for a batch it did not fit in: it opens the next one. */
  private carry: { kind: RecordKind; seq: number; line: string } | undefined
  private readonly iso = isoFormatter()
  private readonly bufferPool: Uint8Array[] = []
  private readonly tick: TimerHandle
  private readonly pumpFn = () => void this.pump()

  constructor(
    private readonly cfg: BatcherConfig,
    private readonly prepare: PrepareConfig,
    private readonly platform: Platform,
    private readonly admission: Admission,
    private readonly tracker: FlushTracker,
    private readonly life: Lifecycle,
    private readonly codec: PayloadCodec,
    private readonly counts: Counts,
    private readonly report: Report,
    private readonly sink: BatchSink,
  ) {
    this.tick = platform.interval(() => {
      if (this.admission.size > 0) {
        this.tickDue = true
        this.schedule()
      }
    }, cfg.batch.intervalMs)
  }

  /** Runs the batcher soon. Cheap when it is already pending or running. */
  schedule(): void {
    if (this.scheduled || this.life.phase === 'stopped') return
    if (this.pumping) {
      // The running pump looks again when it finishes: no timer per call under load.
      this.repump = true
      return
    }
    this.scheduled = true
    this.platform.soon(this.pumpFn)
  }

  /** Stops the interval timer (the pipeline is stopping). */
  stop(): void {
    this.tick.cancel()
  }

  /** Encodes a built batch; its buffer goes back to the pool once compressed. */
  async encode(batch: Batch): Promise<Payload> {
    const buf = batch.buf
    batch.buf = EMPTY
    const p = await this.codec.encode(batch.kind, buf.subarray(0, batch.bytes), batch.count)
    // Compressed: the build buffer is free again. Reusing it means fewer large allocations, less GC.
    if (p.encoding === 'gzip' && this.bufferPool.length < BUFFER_POOL) this.bufferPool.push(buf)
    return p
  }

  private forced(): boolean {
    return this.tickDue || this.tracker.waiting || this.life.phase !== 'open'
  }

  private ready(q: RingQueue<unknown>, avg: number): boolean {
    if (q.size === 0) return false
    if (this.forced() || q.size >= this.cfg.batch.maxItems || q.size * avg >= this.cfg.batch.maxBytes) return true
    return this.cfg.overflowToSpool && this.admission.halfFull
  }

  private async pump(): Promise<void> {
    this.scheduled = false
    if (this.pumping) {
      this.repump = true
      return
    }
    this.pumping = true
    const { ev, fb, avg } = this.admission
    try {
      for (;;) {
        const kind: RecordKind | undefined = this.ready(fb, avg.feedback) ? 'feedback' : this.ready(ev, avg.event) ? 'event' : undefined
        if (kind === undefined) break
        const to = this.sink.route()
        if (to === 'wait') break
        const batch = await this.build(kind)
        if (batch.count === 0) {
          this.tracker.settle(batch)
          continue
        }
        if (to === 'spool') await this.sink.spool(batch)
        else this.sink.sendLive(batch)
      }
      if (this.admission.size === 0) this.tickDue = false
      this.admission.relieve()
    } catch (e) {
      this.report('delivery_failed', `internal batcher error: ${(e as Error).message}`, { cause: e })
    } finally {
      this.pumping = false
      if (this.repump) {
        this.repump = false
        this.schedule()
      }
      this.tracker.check()
    }
  }

  /** Takes items off one queue and serializes them into NDJSON bytes, yielding every few ms. */
  private async build(kind: RecordKind): Promise<Batch> {
    const q: RingQueue<LoggedEvent | FeedbackItem> = kind === 'event' ? this.admission.ev : this.admission.fb
    const { maxItems, maxBytes } = this.cfg.batch
    const platform = this.platform
    const batch: Batch = {
      kind,
      minSeq: q.shifted,
      buf: this.bufferPool.pop() ?? platform.allocBytes(Math.min(64 * 1024, maxBytes * 3 + 3)),
      bytes: 0,
      count: 0,
    }
    this.tracker.track(batch)
    const prep = this.prepare
    const avg = this.admission.avg
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
        avg[kind] += (prefix.length + line.length - avg[kind]) * AVG_WEIGHT
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
      this.tracker.items++
      if ((++n & 15) === 0 && performance.now() - start > YIELD_EVERY_MS) {
        // Give the host's own work a turn; log() keeps running meanwhile.
        await new Promise<void>((r) => platform.soon(r))
        start = performance.now()
      }
    }
    return batch
  }
}
