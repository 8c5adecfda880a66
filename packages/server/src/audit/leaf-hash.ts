import crypto from 'node:crypto'
import { pgTextOnce } from '../store/postgres/pg-text.js'

/**
 * What a leaf of the audit chain can be: an event, a feedback item, or an administrative record
 * (erasure, retention run, key created or revoked, redaction rule changed).
 */
export type LeafKind = 'event' | 'feedback' | 'audit'

/** An event row's stored columns, as the log holds them (`LoggedEvent` fits). */
export interface EventLeafRow {
  project: string
  id: string
  tsMs: number
  receivedMs: number
  model: string
  version: string
  stage: string
  status: string
  sessionId: string | null
  userId: string | null
  arm: string | null
  shadowOf: string | null
  body: string
}

/** A feedback row's stored columns (`LoggedFeedback` fits). */
export interface FeedbackLeafRow {
  project: string
  id: string
  eventId: string
  name: string
  tsMs: number
  receivedMs: number
  body: string
}

/** An audit record row's stored columns (`LoggedAuditRecord` fits). */
export interface AuditLeafRow {
  project: string
  id: string
  tsMs: number
  body: string
}

/** Marks a null column in the leaf encoding (a length no field can have). */
const NULL_LENGTH = 0xffffffff

/**
 * The form in which an indexed text column enters a leaf, the same whichever store holds the row:
 * PostgreSQL's key form (`pg-text.ts`: U+0000 becomes U+FFFD; a value longer than 256 UTF-16
 * units becomes its first 192, `#` and the SHA-256 hex of the whole). A value already in folded
 * form is left as is, so hashing a row read back from PostgreSQL gives the same leaf as hashing
 * it before it was written. Ordinary values (no U+0000, at most 256 units) are unchanged.
 */
export function keyForm(s: string): string {
  return pgTextOnce(s)
}

/**
 * Computes leaf hashes, reusing one scratch buffer: use one instance per loop that hashes many
 * rows (the chain consumer, `verify`). Not shared between concurrent callers.
 *
 * A leaf is `SHA-256(0x00 || field_1 || … || field_k)` where each field is its UTF-8 bytes
 * prefixed with their length as a 4-byte big-endian integer, integers are written as decimal
 * text, a null column is the 4 bytes `ff ff ff ff` alone, and every text column but `body` enters
 * in its {@link keyForm} (itself for ordinary values). The fields, in order:
 * - event: `"event"`, project, id, ts_ms, received_ms, model, version, stage, status,
 *   session_id, user_id, arm, shadow_of, body
 * - feedback: `"feedback"`, project, id, event_id, name, ts_ms, received_ms, body
 * - audit: `"audit"`, project, id, ts_ms, body
 * (docs/audit.md has the same definition with test vectors.)
 */
export class LeafHasher {
  private buf = Buffer.allocUnsafe(16 * 1024)
  private at = 0

  /** The leaf hash (32 bytes) of a row of `kind`. */
  hash(kind: 'event', row: EventLeafRow): Buffer
  hash(kind: 'feedback', row: FeedbackLeafRow): Buffer
  hash(kind: 'audit', row: AuditLeafRow): Buffer
  hash(kind: LeafKind, row: EventLeafRow | FeedbackLeafRow | AuditLeafRow): Buffer
  hash(kind: LeafKind, row: EventLeafRow | FeedbackLeafRow | AuditLeafRow): Buffer {
    return sha256(this.encode(kind, row))
  }

  /**
   * {@link hash} as a 32-character latin1 string (one character per byte, `'binary'`): cheaper to
   * make and to collect than a Buffer, and the default string order sorts such strings as their
   * bytes (`sortedLeafBytes` takes them).
   */
  hashBinary(kind: LeafKind, row: EventLeafRow | FeedbackLeafRow | AuditLeafRow): string {
    return crypto.hash('sha256', this.encode(kind, row), 'binary')
  }

  /** The leaf's input bytes (`0x00 || fields`), in the scratch buffer: valid until the next call. */
  private encode(kind: LeafKind, row: EventLeafRow | FeedbackLeafRow | AuditLeafRow): Buffer {
    this.at = 0
    this.ensure(1)
    this.buf[this.at++] = 0x00
    this.text(kind)
    this.key(row.project)
    this.key(row.id)
    if (kind === 'event') {
      const e = row as EventLeafRow
      this.int(e.tsMs)
      this.int(e.receivedMs)
      this.key(e.model)
      this.key(e.version)
      this.key(e.stage)
      this.key(e.status)
      this.key(e.sessionId)
      this.key(e.userId)
      this.key(e.arm)
      this.key(e.shadowOf)
    } else if (kind === 'feedback') {
      const f = row as FeedbackLeafRow
      this.key(f.eventId)
      this.key(f.name)
      this.int(f.tsMs)
      this.int(f.receivedMs)
    } else {
      this.int((row as AuditLeafRow).tsMs)
    }
    this.text(row.body)
    return this.buf.subarray(0, this.at)
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n))
    this.buf.copy(next, 0, 0, this.at)
    this.buf = next
  }

  /** An indexed column: in key form. */
  private key(s: string | null): void {
    this.text(s === null ? null : keyForm(s))
  }

  private text(s: string | null): void {
    if (s === null) {
      this.ensure(4)
      this.buf.writeUInt32BE(NULL_LENGTH, this.at)
      this.at += 4
      return
    }
    // At most 3 UTF-8 bytes per UTF-16 code unit.
    this.ensure(4 + s.length * 3)
    const buf = this.buf
    const start = this.at + 4
    // Short ASCII values (ids, names, numbers) are copied here: cheaper than a call into the
    // encoder for a few bytes. Anything else goes through it.
    if (s.length <= 64) {
      let i = 0
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) break
        buf[start + i] = c
      }
      if (i === s.length) {
        buf.writeUInt32BE(i, this.at)
        this.at = start + i
        return
      }
    }
    const n = buf.write(s, start, 'utf8')
    buf.writeUInt32BE(n, this.at)
    this.at = start + n
  }

  private int(n: number): void {
    if (!Number.isSafeInteger(n)) throw new Error(`audit leaf: ${n} is not an integer`)
    this.text(String(n))
  }
}

/**
 * The leaf hash of one row, as 64 lower-case hex digits: what a tombstone keeps for a row that
 * erasure or retention deletes (see `Tombstone`). Compute it from the row **as stored, before
 * deleting it**; for many rows, reuse a {@link LeafHasher}.
 *
 * @example leafHashHex('event', loggedEvent)
 */
export function leafHashHex(kind: LeafKind, row: EventLeafRow | FeedbackLeafRow | AuditLeafRow): string {
  return new LeafHasher().hash(kind, row).toString('hex')
}

/** SHA-256 of `data` as a Buffer (one-shot `crypto.hash`: about 3× cheaper than a Hash object for a row). */
export function sha256(data: Uint8Array): Buffer {
  return crypto.hash('sha256', data, 'buffer')
}
