import fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { IngestReply } from '@inferlog/schema'
import { ApiError } from '../http-client.js'
import { clientFrom, printJson, type ClientFlags, type Io } from '../common.js'

/** Flags of `inferlog ingest`. */
export interface IngestFlags extends ClientFlags {
  /** The file holds feedback items instead of events. */
  feedback?: boolean
  /** Items per request. Default 1000. */
  batch?: string
  /** Bytes per request before a batch is sent early. Default 4 MiB. */
  batchBytes?: string
  /** Give up on a batch after this many 503/network retries. Default 20. */
  retries?: string
}

interface Batch {
  lines: string[]
  /** 1-based line number in the file of each item. */
  lineNos: number[]
  bytes: number
}

/** Summary of an ingest run (`--json`). */
export interface IngestSummary {
  file: string
  items: number
  accepted: number
  duplicates: number
  rejected: number
  seconds: number
  /** First rejections, with the file line number. */
  errors: { line: number; code: string; message: string }[]
}

async function* batches(file: string, maxItems: number, maxBytes: number, onBytes: (n: number) => void): AsyncGenerator<Batch> {
  let cur: Batch = { lines: [], lineNos: [], bytes: 0 }
  let lineNo = 0
  let rest = ''
  for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    onBytes(Buffer.byteLength(chunk as string))
    const text = rest + (chunk as string)
    const parts = text.split('\n')
    rest = parts.pop()!
    for (const line of parts) {
      lineNo++
      if (line.trim() === '') continue
      const size = Buffer.byteLength(line) + 1
      if (cur.lines.length > 0 && (cur.lines.length >= maxItems || cur.bytes + size > maxBytes)) {
        yield cur
        cur = { lines: [], lineNos: [], bytes: 0 }
      }
      cur.lines.push(line)
      cur.lineNos.push(lineNo)
      cur.bytes += size
    }
  }
  if (rest.trim() !== '') {
    cur.lines.push(rest)
    cur.lineNos.push(lineNo + 1)
  }
  if (cur.lines.length > 0) yield cur
}

function bar(done: number, total: number, items: number, secs: number): string {
  const frac = total > 0 ? Math.min(1, done / total) : 0
  const width = 30
  const full = Math.round(frac * width)
  return `\r[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${items} items  ${Math.round(items / Math.max(secs, 0.001))}/s `
}

/**
 * `inferlog ingest FILE.ndjson`: streams the file in NDJSON batches, retries 503/network errors
 * with `Retry-After`, shows a progress bar on a terminal and ends with a summary line. Exits 1
 * when any item was rejected.
 */
export async function ingestCommand(file: string, f: IngestFlags, io: Io): Promise<number> {
  const stat = fs.statSync(file)
  const client = clientFrom(f, process.env, io)
  const path = f.feedback ? '/v1/feedback' : '/v1/events'
  const maxItems = Number(f.batch ?? 1000)
  const maxBytes = Number(f.batchBytes ?? 4 * 1024 * 1024)
  const maxRetries = Number(f.retries ?? 20)
  const started = performance.now()
  const s: IngestSummary = { file, items: 0, accepted: 0, duplicates: 0, rejected: 0, seconds: 0, errors: [] }
  let readBytes = 0
  let lastDraw = 0
  const draw = (force = false) => {
    if (!io.isTTY || f.json) return
    const now = performance.now()
    if (!force && now - lastDraw < 100) return
    lastDraw = now
    process.stderr.write(bar(readBytes, stat.size, s.items, (now - started) / 1000))
  }
  for await (const b of batches(file, maxItems, maxBytes, (n) => (readBytes += n))) {
    const body = b.lines.join('\n') + '\n'
    let reply: IngestReply | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        reply = (await client.request<IngestReply>('POST', path, body, 'application/x-ndjson')).json
        break
      } catch (e) {
        const retryable = e instanceof ApiError && (e.status === 0 || e.status === 503 || e.status === 429)
        if (!retryable || attempt >= maxRetries) throw e
        await sleep(Math.min(30_000, (e.retryAfter ?? 0.2 * 2 ** Math.min(attempt, 7)) * 1000))
      }
    }
    s.items += b.lines.length
    s.accepted += reply.accepted
    s.duplicates += reply.duplicates
    s.rejected += reply.rejected.length
    for (const r of reply.rejected) {
      if (s.errors.length < 20) s.errors.push({ line: b.lineNos[r.index] ?? -1, code: r.code, message: r.message })
    }
    draw()
  }
  s.seconds = Number(((performance.now() - started) / 1000).toFixed(3))
  if (io.isTTY && !f.json) {
    draw(true)
    process.stderr.write('\n')
  }
  if (f.json) {
    printJson(io, s, true)
  } else {
    for (const e of s.errors) io.err(`line ${e.line}: ${e.code}: ${e.message}`)
    const rate = Math.round(s.items / Math.max(s.seconds, 0.001))
    io.out(
      `ingested ${file}: ${s.items} items, ${s.accepted} accepted, ${s.duplicates} duplicates, ${s.rejected} rejected in ${s.seconds}s (${rate}/s)`,
    )
  }
  return s.rejected > 0 ? 1 : 0
}
