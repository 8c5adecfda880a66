import { createHash } from 'node:crypto'

/** Longest indexed text value stored as is (UTF-16 units); longer ones are folded. */
const MAX_KEY_CHARS = 256

/**
 * The form of an indexed text value (id, event_id, model, session…) in PostgreSQL. Two limits
 * that SQLite does not have are absorbed here, so every value SQLite stores can be stored:
 * - text cannot hold U+0000; JSON bodies never contain it raw (it is escaped), but an id parsed from
 *   `"\u0000"` can: it is stored with U+FFFD in its place;
 * - a B-tree index row holds at most ~2.7 kB: a value longer than {@link MAX_KEY_CHARS} is stored
 *   as its first 192 characters, `#` and its SHA-256 (257 characters, so it can never equal a value
 *   stored as is).
 * Every write and every look-up goes through this function, so matching stays exact; the body
 * keeps the original.
 */
export function pgText(s: string): string
export function pgText(s: string | null): string | null
export function pgText(s: string | null): string | null {
  if (s === null) return null
  let v = s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s
  if (v.length > MAX_KEY_CHARS) v = `${v.slice(0, 192)}#${createHash('sha256').update(v).digest('hex')}`
  return v
}

/** A value already in folded form: 192 characters, `#`, a SHA-256 in hex. */
const FOLDED = /^[\s\S]{192}#[0-9a-f]{64}$/

/**
 * {@link pgText}, leaving a value already in folded form as it is: for values read back from
 * PostgreSQL (an export of a PostgreSQL store imported into another), so folding is done once.
 */
export function pgTextOnce(s: string): string
export function pgTextOnce(s: string | null): string | null
export function pgTextOnce(s: string | null): string | null {
  if (s === null) return null
  // The common case first: short and without U+0000, the value is its own key form.
  if (s.length <= MAX_KEY_CHARS && !s.includes('\0')) return s
  const v = s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s
  return FOLDED.test(v) ? v : pgText(v)
}
