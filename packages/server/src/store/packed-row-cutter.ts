import type { EventBody, FeedbackBody, LoggedEvent, LoggedFeedback } from './ports/log-scanner.js'

/**
 * Log rows read as **one string per row**, for both stores. A driver builds a row with one
 * property store and one string per column: for a 15-column event that is about a third of what
 * reading it costs (better-sqlite3), more with `pg` (one buffer slice per field). Instead the
 * database joins the columns with U+001F (`concat_ws`, which skips NULLs), each row arrives as one
 * string, and {@link PackedRowCutter} cuts it with `indexOf`/`slice` (slices of one string share
 * its memory).
 *
 * Layout: the integer columns first, then (events) a NULL mask (session_id 1, user_id 2, arm 4,
 * shadow_of 8) so the positions of the strings are known, then the strings, the stored JSON text
 * last. JSON holds no raw control character, so a row whose text after the last short column still
 * holds a U+001F (a separator inside an id or a name, or a body that is not JSON) cannot be cut
 * exactly and is answered `undefined`, as is one whose integer column is not a plain integer of at
 * most 15 digits: the store reads those rows again the ordinary way.
 */
export const PACK_SEPARATOR = '\u001f'
const SEP = PACK_SEPARATOR
const SEP_CODE = 0x1f

/** Cuts one packed row: integers, strings, then the rest of the row. */
class Cutter {
  s = ''
  i = 0
  ok = true

  reset(s: string): void {
    this.s = s
    this.i = 0
    this.ok = true
  }

  /** A decimal integer of at most 15 digits (exact as a double); anything else clears `ok`. */
  int(): number {
    const s = this.s
    let i = this.i
    const neg = s.charCodeAt(i) === 45
    if (neg) i++
    const start = i
    let v = 0
    for (;;) {
      const c = s.charCodeAt(i)
      if (c === SEP_CODE) break
      const d = c - 48
      // NaN past the end of the string fails this too.
      if (!(d >= 0 && d <= 9)) {
        this.ok = false
        return 0
      }
      v = v * 10 + d
      i++
    }
    if (i === start || i - start > 15) this.ok = false
    this.i = i + 1
    return neg ? -v : v
  }

  text(): string {
    const e = this.s.indexOf(SEP, this.i)
    if (e < 0) {
      this.ok = false
      return ''
    }
    const v = this.s.slice(this.i, e)
    this.i = e + 1
    return v
  }

  /** A column that is NULL when `bit` is set in `nulls` (NULLs are not in the string at all). */
  nullable(nulls: number, bit: number): string | null {
    return (nulls & bit) !== 0 ? null : this.text()
  }

  /** The last column: the rest of the row, which must hold no separator. */
  rest(): string {
    if (this.s.indexOf(SEP, this.i) >= 0) this.ok = false
    return this.s.slice(this.i)
  }
}

/** Cuts packed rows (see the module comment for the layouts); `undefined` for a row it cannot cut exactly. */
export class PackedRowCutter {
  private readonly c = new Cutter()

  /** The first column of a packed row (the row number, always a plain integer). */
  seqOf(s: string): number {
    return Number(s.slice(0, s.indexOf(SEP)))
  }

  /** seq, batch, ts_ms, received_ms, NULL mask, project, id, model, version, stage, status, [session_id, user_id, arm, shadow_of], body. */
  event(s: string): LoggedEvent | undefined {
    const c = this.c
    c.reset(s)
    const seq = c.int()
    const batch = c.int()
    const tsMs = c.int()
    const receivedMs = c.int()
    const nulls = c.int()
    const project = c.text()
    const id = c.text()
    const model = c.text()
    const version = c.text()
    const stage = c.text()
    const status = c.text()
    const sessionId = c.nullable(nulls, 1)
    const userId = c.nullable(nulls, 2)
    const arm = c.nullable(nulls, 4)
    const shadowOf = c.nullable(nulls, 8)
    const body = c.rest()
    return c.ok
      ? { project, id, seq, batch, tsMs, receivedMs, model, version, stage, status, sessionId, userId, arm, shadowOf, body }
      : undefined
  }

  /** seq, batch, ts_ms, received_ms, project, id, event_id, name, body. */
  feedback(s: string): LoggedFeedback | undefined {
    const c = this.c
    c.reset(s)
    const seq = c.int()
    const batch = c.int()
    const tsMs = c.int()
    const receivedMs = c.int()
    const project = c.text()
    const id = c.text()
    const eventId = c.text()
    const name = c.text()
    const body = c.rest()
    return c.ok ? { project, id, seq, batch, eventId, name, tsMs, receivedMs, body } : undefined
  }

  /** seq, batch, ts_ms, id, body. */
  eventBody(s: string): EventBody | undefined {
    const c = this.c
    c.reset(s)
    const seq = c.int()
    const batch = c.int()
    const tsMs = c.int()
    const id = c.text()
    const body = c.rest()
    // The packed row ends with the body: the dataset compiler scans it there (see EventBody.host).
    return c.ok ? { id, batch, seq, tsMs, body, host: s } : undefined
  }

  /** seq, batch, ts_ms, id, event_id, name, body. */
  feedbackBody(s: string): FeedbackBody | undefined {
    const c = this.c
    c.reset(s)
    const seq = c.int()
    const batch = c.int()
    const tsMs = c.int()
    const id = c.text()
    const eventId = c.text()
    const name = c.text()
    const body = c.rest()
    return c.ok ? { id, eventId, name, tsMs, batch, seq, body, host: s } : undefined
  }
}
