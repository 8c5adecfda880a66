import { createHash } from 'node:crypto'
import { InferlogError } from '../errors.js'
import type { Cursor } from '../store/store.js'

/**
 * A short fingerprint of the query a cursor belongs to (endpoint and filter), so a cursor made
 * for one list is refused by another instead of silently skipping or repeating rows.
 */
export function queryFingerprint(endpoint: string, filter: object): string {
  const entries = Object.entries(filter)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return createHash('sha256').update(endpoint).update('\0').update(JSON.stringify(entries)).digest('base64url').slice(0, 11)
}

/** Opaque cursor text for a keyset position within one query. */
export function encodeCursor(c: Cursor, fingerprint: string): string {
  return Buffer.from(`${c.tsMs}.${c.seq}.${fingerprint}`).toString('base64url')
}

/** Reads a cursor made by {@link encodeCursor} for the same query; `invalid_parameter` otherwise. */
export function decodeCursor(s: string, fingerprint: string): Cursor {
  const m = /^(-?\d{1,16})\.(\d{1,16})\.([A-Za-z0-9_-]{11})$/.exec(Buffer.from(s, 'base64url').toString())
  if (!m) throw new InferlogError('invalid_parameter', 'cursor is malformed; pass next_cursor from a previous page')
  if (m[3] !== fingerprint) {
    throw new InferlogError(
      'invalid_parameter',
      'cursor belongs to another query; page with the same filters (and endpoint) that produced it',
    )
  }
  return { tsMs: Number(m[1]), seq: Number(m[2]) }
}
