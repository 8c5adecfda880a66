import type { Cursor, EventFilter, FeedbackFilter } from './ports/record-reader.js'

/** A WHERE clause and its parameters, with placeholders made by the dialect. */
export interface SqlWhere {
  sql: string
  params: unknown[]
}

/** Makes the next placeholder (`?` for SQLite, `$n` for PostgreSQL). */
export type Placeholder = (index: number) => string

class WhereBuilder {
  readonly parts: string[] = []
  readonly params: unknown[] = []
  constructor(private readonly ph: Placeholder) {}
  add(sqlWithMarks: string, ...values: unknown[]): void {
    let i = 0
    this.parts.push(sqlWithMarks.replace(/\?/g, () => this.ph(this.params.length + i++ + 1)))
    this.params.push(...values)
  }
  build(): SqlWhere {
    return { sql: this.parts.join(' AND '), params: this.params }
  }
}

/**
 * Rows after the cursor in (ts_ms DESC, seq DESC) order, as one row-value comparison: both SQLite
 * and PostgreSQL read it as a range on an index ending in (ts_ms, seq) and stop after the page.
 * The equivalent `ts < ? OR (ts = ? AND seq < ?)` made SQLite read every row from the window's start
 * to the cursor and sort them (23 s for the second page of a week of one model over 1M events).
 */
function addCursor(w: WhereBuilder, alias: string, cursor: Cursor | undefined): void {
  if (cursor) w.add(`(${alias}.ts_ms, ${alias}.seq) < (?, ?)`, cursor.tsMs, cursor.seq)
}

/**
 * WHERE clause over `events AS e` for a filter and a keyset cursor. Feedback conditions are
 * EXISTS sub-queries on the (project, event_id, name) index, so feedback that arrived before its
 * event counts as soon as the event exists.
 */
export function eventWhere(
  project: string,
  f: EventFilter,
  cursor: Cursor | undefined,
  ph: Placeholder,
  /** SQLite only: `+` before each column keeps the planner off its indexes (a rowid-range scan). */
  unindexed = false,
): SqlWhere {
  const w = new WhereBuilder(ph)
  const e = unindexed ? '+e.' : 'e.'
  w.add(`${e}project = ?`, project)
  if (f.model !== undefined) w.add(`${e}model = ?`, f.model)
  if (f.version !== undefined) w.add(`${e}version = ?`, f.version)
  if (f.versions !== undefined) {
    if (f.versions.length === 0) w.add('1 = 0')
    else w.add(`${e}version IN (${f.versions.map(() => '?').join(', ')})`, ...f.versions)
  }
  if (f.stage !== undefined) w.add(`${e}stage = ?`, f.stage)
  if (f.status !== undefined) w.add(`${e}status = ?`, f.status)
  if (f.sessionId !== undefined) w.add(`${e}session_id = ?`, f.sessionId)
  if (f.userId !== undefined) w.add(`${e}user_id = ?`, f.userId)
  if (f.arm !== undefined) w.add(`${e}arm = ?`, f.arm)
  if (f.fromMs !== undefined) w.add(`${e}ts_ms >= ?`, f.fromMs)
  if (f.toMs !== undefined) w.add(`${e}ts_ms < ?`, f.toMs)
  const exists = 'EXISTS (SELECT 1 FROM feedback f WHERE f.project = e.project AND f.event_id = e.id'
  if (f.feedbackName !== undefined) w.add(`${exists} AND f.name = ?)`, f.feedbackName)
  if (f.hasFeedback === true) w.add(`${exists})`)
  if (f.hasFeedback === false) w.add(`NOT ${exists})`)
  addCursor(w, 'e', cursor)
  return w.build()
}

/** WHERE clause over `feedback AS f` for a filter and a keyset cursor. */
export function feedbackWhere(project: string, f: FeedbackFilter, cursor: Cursor | undefined, ph: Placeholder): SqlWhere {
  const w = new WhereBuilder(ph)
  w.add('f.project = ?', project)
  if (f.eventId !== undefined) w.add('f.event_id = ?', f.eventId)
  if (f.name !== undefined) w.add('f.name = ?', f.name)
  if (f.fromMs !== undefined) w.add('f.ts_ms >= ?', f.fromMs)
  if (f.toMs !== undefined) w.add('f.ts_ms < ?', f.toMs)
  addCursor(w, 'f', cursor)
  return w.build()
}
