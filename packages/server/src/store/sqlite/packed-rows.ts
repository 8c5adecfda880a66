import type { LoggedEvent, LoggedFeedback } from '../ports/log-scanner.js'

/**
 * Log rows read as **one string per row**. better-sqlite3 builds a row (array or object) with one
 * V8 property store and one string per column: for a 15-column event that is about a third of the
 * cost of reading it. SQLite instead joins the columns with U+001F (`concat_ws`, which keeps every
 * byte of a value, NUL included, and skips NULLs), the statement returns that one string
 * (`.pluck()`), and the readers below cut it with `indexOf`/`slice` (slices of one string share its
 * memory). Measured on 1M 1.2 KB events: 1.9–2.0 against 2.4–2.6 µs per row for raw arrays turned
 * into objects (`npm run bench:scan`).
 *
 * Exactness: integers come first and every column that may be NULL has a bit in a mask, so the
 * positions are known; the stored JSON text comes last, and JSON holds no raw control character,
 * so a row whose text after the last short column still holds a U+001F (a separator inside an id,
 * a name, or a body that is not JSON) is not cut but handed back as `undefined`, as is one whose
 * integer column is not a plain integer of at most 15 digits: the caller reads those rows again
 * the ordinary way ({@link PackedEventReader.fallback}).
 */
const SEP = '\u001f'
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

/**
 * The packed event expression over `events AS e`: seq, batch, ts_ms, received_ms, a NULL mask
 * (session_id 1, user_id 2, arm 4, shadow_of 8), project, id, model, version, stage, status, the
 * non-NULL ones of session_id, user_id, arm, shadow_of, and body.
 */
export const PACKED_EVENT = `concat_ws(char(31), e.seq, e.batch, e.ts_ms, e.received_ms,
  (e.session_id IS NULL) | (e.user_id IS NULL) << 1 | (e.arm IS NULL) << 2 | (e.shadow_of IS NULL) << 3,
  e.project, e.id, e.model, e.version, e.stage, e.status, e.session_id, e.user_id, e.arm, e.shadow_of, e.body)`

/** The packed feedback expression over `feedback AS f`: seq, batch, ts_ms, received_ms, project, id, event_id, name, body. */
export const PACKED_FEEDBACK = `concat_ws(char(31), f.seq, f.batch, f.ts_ms, f.received_ms, f.project, f.id, f.event_id, f.name, f.body)`

/** The packed expression of what a dataset build reads of an event: seq, batch, ts_ms, id, body. */
export const PACKED_EVENT_BODY = 'concat_ws(char(31), e.seq, e.batch, e.ts_ms, e.id, e.body)'

/** The packed expression of what a dataset build reads of feedback: seq, batch, ts_ms, id, event_id, name, body. */
export const PACKED_FEEDBACK_BODY = 'concat_ws(char(31), f.seq, f.batch, f.ts_ms, f.id, f.event_id, f.name, f.body)'

/** Reads packed rows into the row objects of the log, with a way back for the rows it cannot cut. */
export class PackedRowReader {
  private readonly c = new Cutter()

  /**
   * @param fallbackEvent reads one event row the ordinary way, by its row number
   * @param fallbackFeedback the same for a feedback row
   */
  constructor(
    private readonly fallbackEvent: (seq: number) => LoggedEvent,
    private readonly fallbackFeedback: (seq: number) => LoggedFeedback,
  ) {}

  /** The seq of a packed row (its first column, always a plain integer). */
  private seqOf(s: string): number {
    return Number(s.slice(0, s.indexOf(SEP)))
  }

  /** Events from rows of {@link PACKED_EVENT}, in the same order. */
  events(rows: readonly string[]): LoggedEvent[] {
    const c = this.c
    const out = new Array<LoggedEvent>(rows.length)
    for (let k = 0; k < rows.length; k++) {
      const s = rows[k]!
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
      out[k] = c.ok
        ? { project, id, seq, batch, tsMs, receivedMs, model, version, stage, status, sessionId, userId, arm, shadowOf, body }
        : this.fallbackEvent(this.seqOf(s))
    }
    return out
  }

  /** Feedback from rows of {@link PACKED_FEEDBACK}, in the same order. */
  feedback(rows: readonly string[]): LoggedFeedback[] {
    const c = this.c
    const out = new Array<LoggedFeedback>(rows.length)
    for (let k = 0; k < rows.length; k++) {
      const s = rows[k]!
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
      out[k] = c.ok ? { project, id, seq, batch, eventId, name, tsMs, receivedMs, body } : this.fallbackFeedback(this.seqOf(s))
    }
    return out
  }

  /**
   * Event bodies from rows of {@link PACKED_EVENT_BODY}: `{ id, batch, seq, tsMs, body }`, taken
   * from the full row where a row cannot be cut.
   */
  eventBodies(rows: readonly string[]): { id: string; batch: number; seq: number; tsMs: number; body: string }[] {
    const c = this.c
    const out = new Array<{ id: string; batch: number; seq: number; tsMs: number; body: string }>(rows.length)
    for (let k = 0; k < rows.length; k++) {
      const s = rows[k]!
      c.reset(s)
      const seq = c.int()
      const batch = c.int()
      const tsMs = c.int()
      const id = c.text()
      const body = c.rest()
      if (c.ok) out[k] = { id, batch, seq, tsMs, body }
      else {
        const e = this.fallbackEvent(this.seqOf(s))
        out[k] = { id: e.id, batch: e.batch, seq: e.seq, tsMs: e.tsMs, body: e.body }
      }
    }
    return out
  }

  /** Feedback bodies from rows of {@link PACKED_FEEDBACK_BODY}, with their full rows' values where a row cannot be cut. */
  feedbackBodies(
    rows: readonly string[],
  ): { id: string; eventId: string; name: string; tsMs: number; batch: number; seq: number; body: string }[] {
    const c = this.c
    const out = new Array<{ id: string; eventId: string; name: string; tsMs: number; batch: number; seq: number; body: string }>(
      rows.length,
    )
    for (let k = 0; k < rows.length; k++) {
      const s = rows[k]!
      c.reset(s)
      const seq = c.int()
      const batch = c.int()
      const tsMs = c.int()
      const id = c.text()
      const eventId = c.text()
      const name = c.text()
      const body = c.rest()
      if (c.ok) out[k] = { id, eventId, name, tsMs, batch, seq, body }
      else {
        const f = this.fallbackFeedback(this.seqOf(s))
        out[k] = { id: f.id, eventId: f.eventId, name: f.name, tsMs: f.tsMs, batch: f.batch, seq: f.seq, body: f.body }
      }
    }
    return out
  }
}
