import { InferlogError } from '../errors.js'
import type { Cursor } from '../store/store.js'

/** Opaque cursor text for a keyset position. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.tsMs}.${c.seq}`).toString('base64url')
}

/** Reads a cursor made by {@link encodeCursor}; `invalid_parameter` otherwise. */
export function decodeCursor(s: string): Cursor {
  const m = /^(-?\d+)\.(\d+)$/.exec(Buffer.from(s, 'base64url').toString())
  if (!m) throw new InferlogError('invalid_parameter', 'cursor is malformed; pass next_cursor from a previous page')
  return { tsMs: Number(m[1]), seq: Number(m[2]) }
}
