import type { Cursor, EventFilter, FeedbackFilter, Page, RecordReader, StoredRow } from '../ports/record-reader.js'
import { eventWhere, feedbackWhere } from '../sql-filters.js'
import { page } from '../store-rows.js'
import { pgText } from './pg-text.js'
import type { PgQueryable } from './pg-types.js'

const ROW_COLUMNS = 'seq, ts_ms AS "tsMs", received_ms AS "receivedMs", body'

/** Point reads and pages over PostgreSQL. */
export class PostgresRecordReader implements RecordReader {
  constructor(private readonly pool: PgQueryable) {}

  async getEvent(project: string, id: string): Promise<StoredRow | undefined> {
    const r = await this.pool.query<StoredRow>({
      name: 'inferlog_get_event',
      text: `SELECT e.seq, e.ts_ms AS "tsMs", e.received_ms AS "receivedMs", e.body
               FROM event_ids k JOIN events e ON e.project = k.project AND e.ts_ms = k.ts_ms AND e.seq = k.seq
              WHERE k.project = $1 AND k.id = $2`,
      values: [project, pgText(id)],
    })
    return r.rows[0]
  }

  async feedbackForEvent(project: string, eventId: string): Promise<StoredRow[]> {
    const r = await this.pool.query<StoredRow>({
      name: 'inferlog_feedback_for_event',
      text: `SELECT ${ROW_COLUMNS} FROM feedback WHERE project = $1 AND event_id = $2 ORDER BY ts_ms, seq`,
      values: [project, pgText(eventId)],
    })
    return r.rows
  }

  async shadowsOf(project: string, id: string): Promise<StoredRow[]> {
    const r = await this.pool.query<StoredRow>({
      name: 'inferlog_shadows_of',
      text: `SELECT ${ROW_COLUMNS} FROM events WHERE project = $1 AND shadow_of = $2 ORDER BY ts_ms, seq`,
      values: [project, pgText(id)],
    })
    return r.rows
  }

  async listEvents(project: string, filter: EventFilter, limit: number, cursor?: Cursor): Promise<Page> {
    const w = eventWhere(project, filter, cursor, (i) => `$${i}`)
    const r = await this.pool.query<StoredRow>(
      `SELECT ${ROW_COLUMNS} FROM events AS e WHERE ${w.sql} ORDER BY e.ts_ms DESC, e.seq DESC LIMIT $${w.params.length + 1}`,
      [...w.params.map((p) => (typeof p === 'string' ? pgText(p) : p)), limit + 1],
    )
    return page(r.rows, limit)
  }

  async listFeedback(project: string, filter: FeedbackFilter, limit: number, cursor?: Cursor): Promise<Page> {
    const w = feedbackWhere(project, filter, cursor, (i) => `$${i}`)
    const r = await this.pool.query<StoredRow>(
      `SELECT ${ROW_COLUMNS} FROM feedback AS f WHERE ${w.sql} ORDER BY f.ts_ms DESC, f.seq DESC LIMIT $${w.params.length + 1}`,
      [...w.params.map((p) => (typeof p === 'string' ? pgText(p) : p)), limit + 1],
    )
    return page(r.rows, limit)
  }
}
