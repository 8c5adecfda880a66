import type Database from 'better-sqlite3'
import type { Cursor, EventFilter, FeedbackFilter, Page, RecordReader, StoredRow } from '../ports/record-reader.js'
import { eventWhere, feedbackWhere } from '../sql-filters.js'
import { page } from '../store-rows.js'
import { LOOKUP_KINDS } from './sqlite-lookups.js'

const ROW_COLUMNS = 'seq, ts_ms AS tsMs, received_ms AS receivedMs, body'
const E_ROW_COLUMNS = 'e.seq AS seq, e.ts_ms AS tsMs, e.received_ms AS receivedMs, e.body AS body'

/** Point reads and pages over the SQLite file. */
export class SqliteRecordReader implements RecordReader {
  private s: ReturnType<SqliteRecordReader['prepare']> | undefined

  constructor(private readonly db: Database.Database) {}

  private prepare() {
    const db = this.db
    return {
      getEvent: db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE project = ? AND id = ?`),
      feedbackForEvent: db.prepare(`SELECT ${ROW_COLUMNS} FROM feedback WHERE project = ? AND event_id = ? ORDER BY ts_ms, seq`),
      shadowsOf: db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE project = ? AND shadow_of = ? ORDER BY ts_ms, seq`),
    }
  }

  private get st() {
    this.s ??= this.prepare()
    return this.s
  }

  async getEvent(project: string, id: string): Promise<StoredRow | undefined> {
    return this.st.getEvent.get(project, id) as StoredRow | undefined
  }

  async feedbackForEvent(project: string, eventId: string): Promise<StoredRow[]> {
    return this.st.feedbackForEvent.all(project, eventId) as StoredRow[]
  }

  async shadowsOf(project: string, id: string): Promise<StoredRow[]> {
    return this.st.shadowsOf.all(project, id) as StoredRow[]
  }

  async listEvents(project: string, filter: EventFilter, limit: number, cursor?: Cursor): Promise<Page> {
    const w = eventWhere(project, filter, cursor, () => '?')
    // A session/user/arm filter drives the query from the look-up table (indexed part) plus a
    // rowid-range scan of the newest, not yet indexed rows; CROSS JOIN pins that join order and
    // `+project` keeps the tail scan on the rowid range instead of a project index.
    const key = LOOKUP_KINDS.find((k) => filter[k.filter] !== undefined)
    let from = 'events AS e'
    const params: unknown[] = []
    if (key) {
      const value = filter[key.filter]
      from = `(SELECT seq FROM event_keys WHERE project = ? AND kind = ${key.kind} AND key = ?
        UNION ALL SELECT seq FROM events WHERE seq > (SELECT value FROM meta WHERE name = 'lookup_watermark') AND +project = ? AND ${key.column} = ?)
        AS k CROSS JOIN events AS e ON e.seq = k.seq`
      params.push(project, value, project, value)
    }
    const rows = this.db
      .prepare(`SELECT ${E_ROW_COLUMNS} FROM ${from} WHERE ${w.sql} ORDER BY e.ts_ms DESC, e.seq DESC LIMIT ?`)
      .all(...params, ...w.params, limit + 1) as StoredRow[]
    return page(rows, limit)
  }

  async listFeedback(project: string, filter: FeedbackFilter, limit: number, cursor?: Cursor): Promise<Page> {
    const w = feedbackWhere(project, filter, cursor, () => '?')
    const rows = this.db
      .prepare(`SELECT ${ROW_COLUMNS} FROM feedback AS f WHERE ${w.sql} ORDER BY f.ts_ms DESC, f.seq DESC LIMIT ?`)
      .all(...w.params, limit + 1) as StoredRow[]
    return page(rows, limit)
  }
}
