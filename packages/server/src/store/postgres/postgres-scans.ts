import type {
  CommittedBatch,
  EventBody,
  FeedbackBody,
  LogScanner,
  LoggedEvent,
  LoggedFeedback,
  ReadBatchesOptions,
  ScanBounds,
} from '../ports/log-scanner.js'
import type { EventFilter } from '../ports/record-reader.js'
import { eventWhere } from '../sql-filters.js'
import { pgText } from './pg-text.js'
import type { PostgresAuditLog } from './postgres-audit.js'
import type { PgClient, PgPool } from './pg-types.js'

export const EVENT_COLUMNS = `e.project, e.id, e.seq, e.ts_ms AS "tsMs", e.received_ms AS "receivedMs", e.model, e.version, e.stage, e.status,
  e.session_id AS "sessionId", e.user_id AS "userId", e.arm, e.shadow_of AS "shadowOf", e.body`
export const FEEDBACK_COLUMNS = `f.project, f.id, f.seq, f.event_id AS "eventId", f.name, f.ts_ms AS "tsMs", f.received_ms AS "receivedMs", f.body`

/** The part of `pg-cursor` the scans use. */
interface PgCursor {
  read(rows: number): Promise<unknown[]>
  close(): Promise<void>
}
type CursorCtor = new (text: string, values: unknown[]) => PgCursor

/**
 * The committed log in PostgreSQL. Several workers commit out of sequence order, so positions come
 * from `batches.commit_seq`, stamped after commit by one sequencer at a time
 * (`inferlog_stamp_commits()`): a reader that moved past position N can never later find a batch
 * that committed before it without a position above N.
 */
export class PostgresLogScanner implements LogScanner {
  constructor(
    private readonly pool: PgPool,
    private readonly cursor: () => Promise<CursorCtor>,
    private readonly audit: Pick<PostgresAuditLog, 'recordsOfBatches'>,
  ) {}

  async commitHead(): Promise<number> {
    // Stamping here too picks up batches whose writer died between its commit and its stamp.
    const r = await this.pool.query<{ head: number }>('SELECT inferlog_stamp_commits() AS head')
    return Number(r.rows[0]?.head ?? 0)
  }

  async readBatches(after: number, o: ReadBatchesOptions = {}): Promise<CommittedBatch[]> {
    const maxRows = o.maxRows ?? 20_000
    const rows = (
      await this.pool.query<{ seq: number; position: number; committedMs: number; events: number; feedback: number }>({
        name: 'inferlog_feed_batches',
        text: `SELECT seq, commit_seq AS position, committed_ms AS "committedMs", events, feedback
                 FROM batches WHERE commit_seq > $1 ORDER BY commit_seq LIMIT $2`,
        values: [after, o.maxBatches ?? 100],
      })
    ).rows
    const picked: typeof rows = []
    let held = 0
    for (const b of rows) {
      if (picked.length > 0 && held + b.events + b.feedback > maxRows) break
      picked.push(b)
      held += b.events + b.feedback
    }
    if (picked.length === 0) return []
    const byBatch = new Map<number, CommittedBatch>()
    const out = picked.map((b) => {
      const c: CommittedBatch = { position: b.position, committedMs: b.committedMs, events: [], feedback: [] }
      byBatch.set(b.seq, c)
      return c
    })
    const seqs = picked.filter((b) => b.events > 0).map((b) => b.seq)
    if (seqs.length > 0) {
      const ev = await this.pool.query<LoggedEvent & { internal: number }>({
        name: 'inferlog_feed_events',
        text: `SELECT ${EVENT_COLUMNS}, e.batch AS internal FROM events e WHERE e.batch = ANY($1::int8[]) ORDER BY e.batch, e.seq`,
        values: [seqs],
      })
      for (const e of ev.rows) {
        const b = byBatch.get(e.internal)!
        b.events.push(toEvent(e, b.position))
      }
    }
    const fseqs = picked.filter((b) => b.feedback > 0).map((b) => b.seq)
    if (fseqs.length > 0) {
      const fb = await this.pool.query<LoggedFeedback & { internal: number }>({
        name: 'inferlog_feed_feedback',
        text: `SELECT ${FEEDBACK_COLUMNS}, f.batch AS internal FROM feedback f WHERE f.batch = ANY($1::int8[]) ORDER BY f.batch, f.seq`,
        values: [fseqs],
      })
      for (const f of fb.rows) {
        const b = byBatch.get(f.internal)!
        b.feedback.push(toFeedback(f, b.position))
      }
    }
    // Administrative records are batches of their own with no events or feedback.
    const aseqs = picked.filter((b) => b.events === 0 && b.feedback === 0).map((b) => b.seq)
    if (aseqs.length > 0) {
      for (const r of await this.audit.recordsOfBatches(aseqs)) {
        const b = byBatch.get(Number(r.internal))!
        const { internal: _i, ...rest } = r
        ;(b.audit ??= []).push({ ...rest, batch: b.position })
      }
    }
    return out
  }

  scanEvents(project: string, filter: EventFilter, bounds: ScanBounds, chunkSize = 1000): AsyncIterable<LoggedEvent[]> {
    return this.scan<LoggedEvent>(EVENT_COLUMNS, project, filter, bounds, chunkSize)
  }

  scanEventBodies(project: string, filter: EventFilter, bounds: ScanBounds, chunkSize = 1000): AsyncIterable<EventBody[]> {
    return this.scan<EventBody>('e.id, e.seq, e.ts_ms AS "tsMs", e.body', project, filter, bounds, chunkSize)
  }

  private async *scan<T extends { batch: number }>(
    columns: string,
    project: string,
    filter: EventFilter,
    bounds: ScanBounds,
    chunkSize: number,
  ): AsyncIterable<T[]> {
    const w = eventWhere(project, filter, undefined, (i) => `$${i}`)
    const params = w.params.map((p) => (typeof p === 'string' ? pgText(p) : p))
    const n = params.length
    const text = `SELECT ${columns}, b.commit_seq AS batch
                    FROM events e JOIN batches b ON b.seq = e.batch
                   WHERE ${w.sql} AND b.commit_seq > $${n + 1} AND b.commit_seq <= $${n + 2}
                   ORDER BY b.commit_seq, e.seq`
    const Cursor = await this.cursor()
    const client = await this.pool.connect()
    let failed: Error | undefined
    // One snapshot for the whole scan, and a server-side cursor: PostgreSQL holds the result,
    // this process one chunk.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    const cursor = (client as PgClient & { query(c: PgCursor): PgCursor }).query(
      new Cursor(text, [...params, bounds.after ?? 0, bounds.upTo]),
    )
    try {
      for (;;) {
        const rows = (await cursor.read(chunkSize)) as T[]
        if (rows.length === 0) return
        for (const r of rows) r.batch = Number(r.batch)
        yield rows
        if (rows.length < chunkSize) return
      }
    } catch (e) {
      failed = e as Error
      throw e
    } finally {
      await cursor.close().catch(() => undefined)
      await client.query('ROLLBACK').catch(() => undefined)
      client.release(failed)
    }
  }

  async shadowsFor(project: string, primaryIds: readonly string[], upTo: number): Promise<LoggedEvent[]> {
    if (primaryIds.length === 0) return []
    const r = await this.pool.query<LoggedEvent>({
      name: 'inferlog_shadows_for',
      text: `SELECT ${EVENT_COLUMNS}, b.commit_seq AS batch FROM events e JOIN batches b ON b.seq = e.batch
              WHERE e.project = $1 AND e.shadow_of = ANY($2::text[]) AND b.commit_seq <= $3`,
      values: [project, primaryIds.map((id) => pgText(id)), upTo],
    })
    for (const e of r.rows) e.batch = Number(e.batch)
    return r.rows
  }

  async eventsByIds(project: string, ids: readonly string[]): Promise<LoggedEvent[]> {
    if (ids.length === 0) return []
    const r = await this.pool.query<LoggedEvent>({
      name: 'inferlog_events_by_ids',
      text: `SELECT ${EVENT_COLUMNS}, b.commit_seq AS batch
               FROM event_ids k JOIN events e ON e.project = k.project AND e.ts_ms = k.ts_ms AND e.seq = k.seq
               JOIN batches b ON b.seq = e.batch
              WHERE k.project = $1 AND k.id = ANY($2::text[])`,
      values: [project, ids.map((id) => pgText(id))],
    })
    for (const e of r.rows) e.batch = Number(e.batch)
    return r.rows
  }

  async feedbackForEvents(project: string, eventIds: readonly string[], upTo: number): Promise<LoggedFeedback[]> {
    if (eventIds.length === 0) return []
    const r = await this.pool.query<LoggedFeedback>({
      name: 'inferlog_feedback_for_events',
      text: `SELECT ${FEEDBACK_COLUMNS}, b.commit_seq AS batch FROM feedback f JOIN batches b ON b.seq = f.batch
              WHERE f.project = $1 AND f.event_id = ANY($2::text[]) AND b.commit_seq <= $3`,
      values: [project, eventIds.map((id) => pgText(id)), upTo],
    })
    for (const f of r.rows) f.batch = Number(f.batch)
    return r.rows
  }

  async feedbackBodies(project: string, eventIds: readonly string[], upTo: number, names?: readonly string[]): Promise<FeedbackBody[]> {
    if (eventIds.length === 0) return []
    const r = await this.pool.query<FeedbackBody>({
      name: names === undefined ? 'inferlog_feedback_bodies' : 'inferlog_feedback_bodies_named',
      text: `SELECT f.id, f.event_id AS "eventId", f.name, f.ts_ms AS "tsMs", b.commit_seq AS batch, f.seq, f.body
               FROM feedback f JOIN batches b ON b.seq = f.batch
              WHERE f.project = $1 AND f.event_id = ANY($2::text[]) AND b.commit_seq <= $3${names === undefined ? '' : ' AND f.name = ANY($4::text[])'}`,
      values: [project, eventIds.map((id) => pgText(id)), upTo, ...(names === undefined ? [] : [names.map((x) => pgText(x))])],
    })
    for (const f of r.rows) f.batch = Number(f.batch)
    return r.rows
  }
}

function toEvent(r: LoggedEvent & { internal?: number }, position: number): LoggedEvent {
  const { internal: _i, ...e } = r
  return { ...e, batch: position }
}

function toFeedback(r: LoggedFeedback & { internal?: number }, position: number): LoggedFeedback {
  const { internal: _i, ...f } = r
  return { ...f, batch: position }
}
