import { vi } from 'vitest'
import zlib from 'node:zlib'
import type { IngestReply } from '@inferlog/schema'
import type { Payload, Sender, SendResult, Spool, SpoolEntry } from '../core/platform.js'

/** Decodes a payload's NDJSON lines to objects. */
export function payloadItems(p: Payload): Record<string, unknown>[] {
  const raw = p.encoding === 'gzip' ? zlib.gunzipSync(p.body) : Buffer.from(p.body)
  return raw
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** What a {@link FakeSender} answers for one request: a result, or a network fault. */
export type Script = (p: Payload, n: number) => SendResult | Error | Promise<SendResult | Error>

/** A sender that records payloads and answers as scripted (default: 200, all accepted). */
export class FakeSender implements Sender {
  readonly compress: boolean
  readonly payloads: Payload[] = []
  readonly times: number[] = []
  readonly delivered: Record<string, unknown>[] = []
  private n = 0

  constructor(
    private script: Script = () => ok(),
    compress = true,
  ) {
    this.compress = compress
  }

  setScript(s: Script): void {
    this.script = s
  }

  async send(p: Payload): Promise<SendResult> {
    this.payloads.push(p)
    this.times.push(performance.now())
    const r = await this.script(p, this.n++)
    if (r instanceof Error) throw r
    if (r.status === 200 || r.status === 207) {
      const items = payloadItems(p)
      const bad = new Set((r.reply?.rejected ?? []).map((x) => x.index))
      items.forEach((it, i) => {
        if (!bad.has(i)) this.delivered.push(it)
      })
      if (r.reply === undefined) r.reply = { accepted: items.length, duplicates: 0, ids: items.map((i) => i.id as string), rejected: [] }
    }
    return r
  }

  async close(): Promise<void> {}
}

/** A 200 reply (the sender fills the counts). */
export function ok(): SendResult {
  return { status: 200 }
}

/** A 207 reply rejecting the given indexes. */
export function partial(count: number, rejectedIdx: number[], code = 'validation_failed'): SendResult {
  const reply: IngestReply = {
    accepted: count - rejectedIdx.length,
    duplicates: 0,
    ids: [],
    rejected: rejectedIdx.map((index) => ({ index, code: code as never, message: `item ${index} is bad` })),
  }
  return { status: 207, reply }
}

/** An in-memory spool with the fs spool's semantics (size cap, oldest-first eviction, pinning). */
export class MemorySpool implements Spool {
  readonly files: { entry: SpoolEntry; payload: Payload }[] = []
  private pinned = new Set<SpoolEntry>()
  private n = 0
  constructor(private readonly maxBytes = Infinity) {}
  async open(): Promise<void> {}
  head(): SpoolEntry | undefined {
    return this.files[0]?.entry
  }
  size() {
    return {
      entries: this.files.length,
      items: this.files.reduce((a, f) => a + f.entry.count, 0),
      bytes: this.files.reduce((a, f) => a + f.entry.bytes, 0),
    }
  }
  async write(p: Payload) {
    if (p.body.byteLength > this.maxBytes) return { evicted: p.count, stored: false }
    let evicted = 0
    while (this.size().bytes + p.body.byteLength > this.maxBytes) {
      const i = this.files.findIndex((f) => !this.pinned.has(f.entry))
      if (i === -1) break
      evicted += this.files[i]!.entry.count
      this.files.splice(i, 1)
    }
    const entry: SpoolEntry = { name: String(this.n++), kind: p.kind, count: p.count, bytes: p.body.byteLength, encoding: p.encoding }
    this.files.push({ entry, payload: p })
    return { evicted, stored: true }
  }
  async read(e: SpoolEntry): Promise<Payload> {
    const f = this.files.find((x) => x.entry === e)
    if (!f) throw new Error('gone')
    return f.payload
  }
  async remove(e: SpoolEntry): Promise<void> {
    const i = this.files.findIndex((x) => x.entry === e)
    if (i !== -1) this.files.splice(i, 1)
  }
  pin(e: SpoolEntry, p: boolean): void {
    if (p) this.pinned.add(e)
    else this.pinned.delete(e)
  }
}

/** Waits until `cond` holds, polling. */
export async function waitFor(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * Fakes the clocks the SDK waits on (setTimeout/setInterval: backoff, batch interval, flush
 * timeouts) and reads (Date, performance.now). setImmediate and I/O stay real, so the batcher and
 * gzip run as usual; move time with {@link advanceUntil}. Undo with `vi.useRealTimers()`.
 */
export function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] })
}

/**
 * Moves fake time forward `stepMs` at a time, letting real I/O and setImmediate callbacks run in
 * between, until `cond` holds. Throws after `realLimitMs` of real time (a stuck test fails).
 */
export async function advanceUntil(cond: () => boolean, what = 'condition', stepMs = 5, realLimitMs = 10_000): Promise<void> {
  const end = process.hrtime.bigint() + BigInt(realLimitMs) * 1_000_000n
  while (!cond()) {
    if (process.hrtime.bigint() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setImmediate(r))
    await vi.advanceTimersByTimeAsync(stepMs)
  }
}

/** Resolves with `p` once settled, advancing fake time meanwhile (see {@link advanceUntil}). */
export async function settle<T>(p: Promise<T>, what = 'promise'): Promise<T> {
  let done = false
  const tracked = p.finally(() => {
    done = true
  })
  await advanceUntil(() => done, what)
  return tracked
}
