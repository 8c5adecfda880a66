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
import { idSpan, spanLimit } from '../id-span.js'
import { eventWhere } from '../sql-filters.js'
import { pgText } from './pg-text.js'
import type { PostgresAuditLog } from './postgres-audit.js'
import type { PgClient, PgPool } from './pg-types.js'

export const EVENT_COLUMNS = `e.project, e.id, e.seq, e.ts_ms AS "tsMs", e.received_ms AS "receivedMs", e.model, e.version, e.stage, e.status,
  e.session_id AS "sessionId", e.user_id AS "userId", e.arm, e.shadow_of AS "shadowOf", e.body`
export const FEEDBACK_COLUMNS = `f.project, f.id, f.seq, f.event_id AS "eventId", f.name, f.ts_ms AS "tsMs", f.received_ms AS "receivedMs", f.body`

/** Most event rows a scan reads with one query (one group of batches), unless one batch holds more. */
const SCAN_GROUP_ROWS = 20_000
/** `work_mem` of a scan's transaction: enough to sort one group of ~1.2 KB events in memory. */
const SCAN_WORK_MEM = '64MB'

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

  /**
   * A scan walks commit positions from `batches` (small, indexed by `commit_seq`) and reads the
   * events of a few batches at a time (`e.batch = ANY(…)`, at most {@link SCAN_GROUP_ROWS} rows
   * unless one batch holds more), all inside one REPEATABLE READ snapshot. No query ever sorts
   * more than one group: ordering the whole window by commit position made PostgreSQL sort every
   * row, bodies included (an external sort of 1.3 GB for 1M events, `npm run bench:scan`).
   * A group only holds batches whose sequence numbers rise with their positions, so `ORDER BY
   * e.batch, e.seq` inside it is commit order even where writers committed out of sequence order.
   */
  private async *scan<T extends { batch: number }>(
    columns: string,
    project: string,
    filter: EventFilter,
    bounds: ScanBounds,
    chunkSize: number,
  ): AsyncIterable<T[]> {
    const w = eventWhere(project, filter, undefined, (i) => `$${i + 1}`)
    const params = w.params.map((p) => (typeof p === 'string' ? pgText(p) : p))
    const text = `SELECT ${columns}, e.batch FROM events e WHERE e.batch = ANY($1::int8[]) AND ${w.sql} ORDER BY e.batch, e.seq`
    const Cursor = await this.cursor()
    const client = await this.pool.connect()
    let failed: Error | undefined
    let cursor: PgCursor | undefined
    // One snapshot for the whole scan; a group's rows come through a server-side cursor, so this
    // process holds one chunk. A group is sorted in memory (raised work_mem), never spilled.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    try {
      await client.query(`SET LOCAL work_mem = '${SCAN_WORK_MEM}'; SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0`)
      let out: T[] = []
      for await (const group of batchGroups(client, bounds, Math.max(chunkSize, SCAN_GROUP_ROWS))) {
        cursor = (client as PgClient & { query(c: PgCursor): PgCursor }).query(new Cursor(text, [group.seqs, ...params]))
        for (;;) {
          const want = chunkSize - out.length
          const rows = (await cursor.read(want)) as T[]
          for (const r of rows) {
            r.batch = group.positions.get(r.batch)!
            out.push(r)
          }
          if (out.length === chunkSize) {
            yield out
            out = []
          }
          if (rows.length < want) break
        }
        await cursor.close()
        cursor = undefined
      }
      if (out.length > 0) yield out
    } catch (e) {
      failed = e as Error
      throw e
    } finally {
      await cursor?.close().catch(() => undefined)
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
    return this.feedbackOfIds<LoggedFeedback>('inferlog_feedback_for_events', FEEDBACK_COLUMNS, project, eventIds, upTo)
  }

  async feedbackBodies(project: string, eventIds: readonly string[], upTo: number, names?: readonly string[]): Promise<FeedbackBody[]> {
    return this.feedbackOfIds<FeedbackBody>(
      'inferlog_feedback_bodies',
      'f.id, f.event_id AS "eventId", f.name, f.ts_ms AS "tsMs", f.seq, f.body',
      project,
      eventIds,
      upTo,
      names,
    )
  }

  /**
   * Feedback of these events committed at or before `upTo`: one walk of their id range when it is
   * dense (see id-span.ts: the events in it counted from the `event_ids` key alone), else one
   * `= ANY(ids)` index scan.
   */
  private async feedbackOfIds<T extends { eventId: string; batch: number }>(
    name: string,
    columns: string,
    project: string,
    eventIds: readonly string[],
    upTo: number,
    names?: readonly string[],
  ): Promise<T[]> {
    if (eventIds.length === 0 || names?.length === 0) return []
    const keys = eventIds.map((id) => pgText(id))
    const named = names === undefined ? '' : ' AND f.name = ANY($5::text[])'
    const nameValues = names === undefined ? [] : [names.map((x) => pgText(x))]
    const span = idSpan(keys)
    let rows: T[] | undefined
    if (span !== undefined) {
      const limit = spanLimit(keys.length)
      const inSpan = await this.pool.query<{ n: number }>({
        name: 'inferlog_events_in_span',
        text: 'SELECT count(*)::int AS n FROM (SELECT 1 FROM event_ids WHERE project = $1 AND id >= $2 AND id <= $3 LIMIT $4) s',
        values: [project, span.lo, span.hi, limit + 1],
      })
      if (inSpan.rows[0]!.n <= limit) {
        const wanted = new Set(keys)
        const r = await this.pool.query<T>({
          name: `${name}_span${names === undefined ? '' : '_named'}`,
          text: `SELECT ${columns}, b.commit_seq AS batch FROM feedback f JOIN batches b ON b.seq = f.batch
                  WHERE f.project = $1 AND f.event_id >= $2 AND f.event_id <= $3 AND b.commit_seq <= $4${named}`,
          values: [project, span.lo, span.hi, upTo, ...nameValues],
        })
        rows = r.rows.filter((f) => wanted.has(f.eventId))
      }
    }
    if (rows === undefined) {
      rows = (
        await this.pool.query<T>({
          name: `${name}${names === undefined ? '' : '_named'}`,
          text: `SELECT ${columns}, b.commit_seq AS batch FROM feedback f JOIN batches b ON b.seq = f.batch
                  WHERE f.project = $1 AND f.event_id = ANY($2::text[]) AND b.commit_seq <= $3${named.replace('$5', '$4')}`,
          values: [project, keys, upTo, ...nameValues],
        })
      ).rows
    }
    for (const f of rows) f.batch = Number(f.batch)
    return rows
  }
}

/** Batches of one scan group: internal sequence numbers, and their commit positions. */
interface BatchGroup {
  seqs: number[]
  positions: Map<number, number>
}

/**
 * Batches with events in `bounds`, in commit order, in groups of consecutive batches holding at
 * most `maxRows` events (a larger batch alone) whose sequence numbers rise with their positions.
 * Reads `batches` by pages on its `commit_seq` index.
 */
async function* batchGroups(client: PgClient, bounds: ScanBounds, maxRows: number): AsyncIterable<BatchGroup> {
  let after = bounds.after ?? 0
  let group: BatchGroup = { seqs: [], positions: new Map() }
  let rows = 0
  let last = -1
  for (;;) {
    const page = (
      await client.query<{ seq: number; position: number; events: number }>({
        name: 'inferlog_scan_batches',
        text: `SELECT seq, commit_seq AS position, events FROM batches
                WHERE commit_seq > $1 AND commit_seq <= $2 AND events > 0 ORDER BY commit_seq LIMIT 1000`,
        values: [after, bounds.upTo],
      })
    ).rows
    for (const b of page) {
      if (group.seqs.length > 0 && (rows + b.events > maxRows || b.seq < last)) {
        yield group
        group = { seqs: [], positions: new Map() }
        rows = 0
      }
      group.seqs.push(b.seq)
      group.positions.set(b.seq, b.position)
      rows += b.events
      last = b.seq
    }
    if (page.length < 1000) break
    after = page[page.length - 1]!.position
  }
  if (group.seqs.length > 0) yield group
}

function toEvent(r: LoggedEvent & { internal?: number }, position: number): LoggedEvent {
  const { internal: _i, ...e } = r
  return { ...e, batch: position }
}

function toFeedback(r: LoggedFeedback & { internal?: number }, position: number): LoggedFeedback {
  const { internal: _i, ...f } = r
  return { ...f, batch: position }
}
