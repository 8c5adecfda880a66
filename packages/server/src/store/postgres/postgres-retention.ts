import type { CompiledWrite } from '../ports/derived-store.js'
import type { RetentionLog, TimePartition, TimePosition } from '../ports/erasure-log.js'
import type { LoggedEvent, LoggedFeedback } from '../ports/log-scanner.js'
import type { PgClient, PgPool } from './pg-types.js'
import { EVENT_COLUMNS, FEEDBACK_COLUMNS } from './postgres-scans.js'

/** A monthly partition's table name (as `postgres-partitions.ts` makes them). */
const MONTHLY = /^(events|feedback)_(\d{4})(\d{2})$/

const SOURCES = {
  event: { table: 'events', alias: 'e', columns: EVENT_COLUMNS },
  feedback: { table: 'feedback', alias: 'f', columns: FEEDBACK_COLUMNS },
} as const

/**
 * Retention reads in PostgreSQL. Expired rows come through the (project, ts_ms, seq) index with
 * their commit positions; whole monthly partitions are found by name in the catalog, with the
 * projects holding rows in each found by a skip scan of that index (one probe per project).
 */
/** The part of `pg-cursor` a partition scan uses. */
interface PgCursor {
  read(rows: number): Promise<unknown[]>
  close(): Promise<void>
}
type CursorCtor = new (text: string, values: unknown[]) => PgCursor

export class PostgresRetention implements RetentionLog {
  constructor(
    private readonly pool: PgPool,
    private readonly cursor: () => Promise<CursorCtor>,
  ) {}

  private async expired<R>(
    kind: 'event' | 'feedback',
    project: string,
    beforeMs: number,
    limit: number,
    after?: TimePosition,
  ): Promise<R[]> {
    const { table, alias: x, columns } = SOURCES[kind]
    const a = after ?? { tsMs: Number.MIN_SAFE_INTEGER, seq: 0 }
    const r = await this.pool.query<R & { batch: number }>({
      name: `inferlog_expired_${table}`,
      text: `SELECT ${columns}, b.commit_seq AS batch FROM ${table} ${x} JOIN batches b ON b.seq = ${x}.batch
              WHERE ${x}.project = $1 AND ${x}.ts_ms < $2 AND (${x}.ts_ms, ${x}.seq) > ($3::int8, $4::int8)
              ORDER BY ${x}.ts_ms, ${x}.seq LIMIT $5`,
      values: [project, beforeMs, a.tsMs, a.seq, limit],
    })
    for (const row of r.rows) row.batch = Number(row.batch)
    return r.rows
  }

  expiredEvents(project: string, beforeMs: number, limit: number, after?: TimePosition): Promise<LoggedEvent[]> {
    return this.expired<LoggedEvent>('event', project, beforeMs, limit, after)
  }

  expiredFeedback(project: string, beforeMs: number, limit: number, after?: TimePosition): Promise<LoggedFeedback[]> {
    return this.expired<LoggedFeedback>('feedback', project, beforeMs, limit, after)
  }

  async partitionsBefore(beforeMs: number): Promise<TimePartition[]> {
    const r = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname IN ('events', 'feedback') AND p.relnamespace = current_schema()::regnamespace
        ORDER BY c.relname`,
    )
    const out: TimePartition[] = []
    for (const { name } of r.rows) {
      const m = MONTHLY.exec(name)
      if (!m) continue
      const month = (Number(m[2]) * 12 + Number(m[3]) - 1) as number
      const fromMs = Date.UTC(Math.floor(month / 12), month % 12, 1)
      const toMs = Date.UTC(Math.floor((month + 1) / 12), (month + 1) % 12, 1)
      if (toMs > beforeMs) continue
      const projects = await this.pool.query<{ project: string }>(
        `WITH RECURSIVE p AS (
           (SELECT project FROM ${name} ORDER BY project LIMIT 1)
           UNION ALL
           SELECT (SELECT project FROM ${name} WHERE project > p.project ORDER BY project LIMIT 1) FROM p WHERE p.project IS NOT NULL
         ) SELECT project FROM p WHERE project IS NOT NULL`,
      )
      out.push({ kind: m[1] === 'events' ? 'event' : 'feedback', table: name, fromMs, toMs, projects: projects.rows.map((p) => p.project) })
    }
    return out
  }

  async *scanPartition(p: TimePartition, chunkSize: number): AsyncIterable<(LoggedEvent | LoggedFeedback)[]> {
    if (!MONTHLY.test(p.table)) throw new Error(`not a monthly partition: ${p.table}`)
    const { alias: x, columns } = SOURCES[p.kind]
    const Cursor = await this.cursor()
    const client = await this.pool.connect()
    let failed: Error | undefined
    // One pass over the table from one snapshot, PostgreSQL holding the result (a keyset page
    // would sort the partition again for every page).
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    const cursor = (client as PgClient & { query(c: PgCursor): PgCursor }).query(
      new Cursor(
        `SELECT ${columns}, b.commit_seq AS batch FROM ${p.table} ${x} JOIN batches b ON b.seq = ${x}.batch
          ORDER BY ${x}.project, ${x}.ts_ms, ${x}.seq`,
        [],
      ),
    )
    try {
      for (;;) {
        const rows = (await cursor.read(chunkSize)) as ((LoggedEvent | LoggedFeedback) & { batch: number })[]
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

  dropPartitionWrites(p: TimePartition): CompiledWrite[] {
    const m = MONTHLY.exec(p.table)
    if (!m) throw new Error(`not a monthly partition: ${p.table}`)
    // Detaching takes the parent's lock: wait a bounded time for readers rather than queueing ingest behind it.
    return [
      { sql: `SET LOCAL lock_timeout = '10s'`, parameters: [] },
      { sql: `ALTER TABLE ${m[1]} DETACH PARTITION ${p.table}`, parameters: [] },
      { sql: `DROP TABLE ${p.table}`, parameters: [] },
    ]
  }
}
