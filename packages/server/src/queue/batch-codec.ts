import { createHash } from 'node:crypto'
import type { EventRecord, FeedbackRecord, WriteBatch } from '../store/store.js'

/**
 * Wire format of one queued group (`inferlog.batch/v1`), the contract between collectors and
 * workers:
 *
 * ```
 * inferlog.batch/v1\n
 * {"e":[[project,id,tsMs,receivedMs,model,version,stage,status,sessionId,userId,arm,shadowOf,len(,sentDigest)],…],
 *  "f":[[project,id,eventId,name,tsMs,receivedMs,len(,sentDigest)],…]}\n
 * <body of event 0><body of event 1>…<body of feedback 0>…
 * ```
 *
 * Bodies travel as they are, one after the other, with their lengths (UTF-16 code units) in the
 * header: no second JSON escaping of JSON text, and decoding is one `slice` per item. A record the
 * collector redacted carries its sent digest as a last element (absent otherwise, so groups
 * without redaction are byte-identical to those of earlier collectors).
 */
export const BATCH_FORMAT = 'inferlog.batch/v1'

type EventHead = [
  string,
  string,
  number,
  number,
  string,
  string,
  string,
  string,
  string | null,
  string | null,
  string | null,
  string | null,
  number,
  string?,
]
type FeedbackHead = [string, string, string, string, number, number, number, string?]

/** Encodes a group to bytes. Throws on text that UTF-8 cannot carry unchanged (lone surrogates). */
export function encodeBatch(batch: WriteBatch): Buffer {
  const e: EventHead[] = batch.events.map((r) => {
    const h: EventHead = [
      r.project,
      r.id,
      r.tsMs,
      r.receivedMs,
      r.model,
      r.version,
      r.stage,
      r.status,
      r.sessionId,
      r.userId,
      r.arm,
      r.shadowOf,
      r.body.length,
    ]
    if (r.sentDigest) h.push(r.sentDigest)
    return h
  })
  const f: FeedbackHead[] = batch.feedback.map((r) => {
    const h: FeedbackHead = [r.project, r.id, r.eventId, r.name, r.tsMs, r.receivedMs, r.body.length]
    if (r.sentDigest) h.push(r.sentDigest)
    return h
  })
  const parts = [BATCH_FORMAT, '\n', JSON.stringify({ e, f }), '\n']
  for (const r of batch.events) parts.push(r.body)
  for (const r of batch.feedback) parts.push(r.body)
  const text = parts.join('')
  // The header is JSON (escapes lone surrogates itself); a body with one would not survive UTF-8.
  if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw new Error('an item holds a lone UTF-16 surrogate, which UTF-8 cannot carry')
  }
  return Buffer.from(text, 'utf8')
}

/** Decodes bytes made by {@link encodeBatch}; throws on anything else. */
export function decodeBatch(bytes: Uint8Array): WriteBatch {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  const first = text.indexOf('\n')
  if (first < 0 || text.slice(0, first) !== BATCH_FORMAT) throw new Error(`not an ${BATCH_FORMAT} message`)
  const second = text.indexOf('\n', first + 1)
  if (second < 0) throw new Error(`truncated ${BATCH_FORMAT} message`)
  const head = JSON.parse(text.slice(first + 1, second)) as { e: EventHead[]; f: FeedbackHead[] }
  let at = second + 1
  const take = (len: number) => {
    const body = text.slice(at, at + len)
    if (body.length !== len) throw new Error(`truncated ${BATCH_FORMAT} message`)
    at += len
    return body
  }
  const events: EventRecord[] = head.e.map((h) => ({
    project: h[0],
    id: h[1],
    tsMs: h[2],
    receivedMs: h[3],
    model: h[4],
    version: h[5],
    stage: h[6],
    status: h[7],
    sessionId: h[8],
    userId: h[9],
    arm: h[10],
    shadowOf: h[11],
    body: take(h[12]),
    ...(h[13] ? { sentDigest: h[13] } : {}),
  }))
  const feedback: FeedbackRecord[] = head.f.map((h) => ({
    project: h[0],
    id: h[1],
    eventId: h[2],
    name: h[3],
    tsMs: h[4],
    receivedMs: h[5],
    body: take(h[6]),
    ...(h[7] ? { sentDigest: h[7] } : {}),
  }))
  if (at !== text.length) throw new Error(`${BATCH_FORMAT} message has ${text.length - at} trailing characters`)
  return { events, feedback }
}

/** Content hash of an encoded group: its message id, so a re-publish of the same bytes is dropped. */
export function batchId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url')
}

/**
 * Splits a group into encoded parts of at most `maxBytes` each (a message size limit), keeping item
 * order. Deterministic: the same group always splits the same way, so part ids repeat on a retry.
 * A single item larger than `maxBytes` is returned alone (and the queue will refuse it).
 */
export function encodeInParts(batch: WriteBatch, maxBytes: number): Buffer[] {
  const whole = encodeBatch(batch)
  const n = batch.events.length + batch.feedback.length
  if (whole.length <= maxBytes || n <= 1) return [whole]
  // Aim below the limit so that uneven item sizes rarely need a second split.
  const parts = Math.min(n, Math.ceil(whole.length / (maxBytes * 0.85)))
  const out: Buffer[] = []
  const ne = batch.events.length
  for (let p = 0; p < parts; p++) {
    const from = Math.floor((p * n) / parts)
    const to = Math.floor(((p + 1) * n) / parts)
    const part: WriteBatch = {
      events: batch.events.slice(Math.min(from, ne), Math.min(to, ne)),
      feedback: batch.feedback.slice(Math.max(0, from - ne), Math.max(0, to - ne)),
    }
    const bytes = encodeBatch(part)
    if (bytes.length <= maxBytes || to - from <= 1) out.push(bytes)
    else out.push(...encodeInParts(part, maxBytes))
  }
  return out
}
