import { createHash } from 'node:crypto'
import pg from 'pg'
import { sameJsonContent } from '../same-content.js'
import { eventWhere, feedbackWhere } from '../sql-filters.js'
import type {
  ApiKeyRecord,
  Cursor,
  EventFilter,
  EventRecord,
  FeedbackFilter,
  FeedbackRecord,
  Page,
  Store,
  StoredRow,
  WriteBatch,
  WriteOutcome,
  WriteResult,
} from '../store.js'
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js'
import { PartitionManager, type PartitionWindowOptions } from './postgres-partitions.js'
import { pack, packable, unpackSql } from './pg-pack.js'
import type { PgClient, PgPool, PgQueryable } from './pg-types.js'
import { page, toKey, type KeyRow } from '../store-rows.js'

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  connectionString: string
  /**
   * Schema holding the tables (created if missing). Default: the server's search path, normally
   * `public`. Lower-case letters, digits and `_`.
   */
  schema?: string
  /** Most connections this process opens. Default 8. */
  poolSize?: number
  /** Window of months in which monthly partitions are created; see {@link PartitionManager}. */
  partitions?: Omit<PartitionWindowOptions, 'onWarning'>
  /** Told about conditions worth an operator's look (a month kept in the default partition, a dropped idle connection). */
  onWarning?: (message: string) => void
  /** A pool to use instead of opening one (tests); the store then does not end it. */
  pool?: PgPool
}

/** One refused re-send, as kept in the `conflicts` table. */
export interface ConflictRecord {
  seq: number
  kind: 'event' | 'feedback'
  project: string
  id: string
  seenMs: number
  batch: number
  /** The refused content; the stored one is unchanged. */
  body: string
}

const ROW_COLUMNS = 'seq, ts_ms AS "tsMs", received_ms AS "receivedMs", body'

const INT8_OID = 20

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
function pgText(s: string): string
function pgText(s: string | null): string | null
function pgText(s: string | null): string | null {
  if (s === null) return null
  let v = s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s
  if (v.length > MAX_KEY_CHARS) v = `${v.slice(0, 192)}#${createHash('sha256').update(v).digest('hex')}`
  return v
}

type ColType = 'text' | 'int8'
/** How a column parameter appears in SQL: a plain array, or a packed text split on the server. */
type ParamStyle = (n: number, type: ColType) => string
const asArray: ParamStyle = (n, type) => `$${n}::${type}[]`
const asPacked: ParamStyle = (n, type) => unpackSql(`$${n}`, type)

const EVENT_COLS: ColType[] = ['text', 'text', 'int8', 'int8', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text']
const insertEventsSql = (p: ParamStyle) => `
WITH input AS (
  SELECT * FROM unnest(${EVENT_COLS.map((t, i) => p(i + 1, t)).join(', ')}) WITH ORDINALITY
    AS t(project, id, ts_ms, received_ms, model, version, stage, status, session_id, user_id, arm, shadow_of, body, ord)
), keys AS (
  INSERT INTO event_ids (project, id, ts_ms, seq)
  SELECT project, id, ts_ms, nextval('events_seq') FROM input ORDER BY project, id, ord
  ON CONFLICT DO NOTHING
  RETURNING project, id, seq
), stored AS (
  INSERT INTO events (seq, project, id, ts_ms, received_ms, model, version, stage, status, session_id, user_id, arm, shadow_of, batch, body)
  SELECT DISTINCT ON (i.project, i.id) k.seq, i.project, i.id, i.ts_ms, i.received_ms, i.model, i.version, i.stage, i.status,
         i.session_id, i.user_id, i.arm, i.shadow_of, $14, i.body
    FROM input i JOIN keys k ON k.project = i.project AND k.id = i.id
   ORDER BY i.project, i.id, i.ord
)
SELECT project, id FROM keys`

const FEEDBACK_COLS: ColType[] = ['text', 'text', 'text', 'text', 'int8', 'int8', 'text']
const insertFeedbackSql = (p: ParamStyle) => `
WITH input AS (
  SELECT * FROM unnest(${FEEDBACK_COLS.map((t, i) => p(i + 1, t)).join(', ')}) WITH ORDINALITY
    AS t(project, id, event_id, name, ts_ms, received_ms, body, ord)
), keys AS (
  INSERT INTO feedback_ids (project, id, ts_ms, seq)
  SELECT project, id, ts_ms, nextval('feedback_seq') FROM input ORDER BY project, id, ord
  ON CONFLICT DO NOTHING
  RETURNING project, id, seq
), stored AS (
  INSERT INTO feedback (seq, project, id, event_id, name, ts_ms, received_ms, batch, body)
  SELECT DISTINCT ON (i.project, i.id) k.seq, i.project, i.id, i.event_id, i.name, i.ts_ms, i.received_ms, $8, i.body
    FROM input i JOIN keys k ON k.project = i.project AND k.id = i.id
   ORDER BY i.project, i.id, i.ord
)
SELECT project, id FROM keys`

/**
 * The statement and parameters inserting `columns`: packed when every value allows it (the
 * common case), else as escaped arrays. Each style is a named (prepared) statement of its own.
 */
function columnStatement(name: string, sql: (p: ParamStyle) => string, columns: (string | number | null)[][], extra: unknown[]) {
  const packed = columns.every(packable)
  return {
    name: `${name}_${packed ? 'packed' : 'arrays'}`,
    text: sql(packed ? asPacked : asArray),
    values: [...(packed ? columns.map(pack) : columns), ...extra],
  }
}

const storedBodies = (table: 'events' | 'feedback') => `
SELECT k.project, k.id, r.body
  FROM unnest($1::text[], $2::text[]) AS q(project, id)
  JOIN ${table === 'events' ? 'event_ids' : 'feedback_ids'} k ON k.project = q.project AND k.id = q.id
  JOIN ${table} r ON r.project = k.project AND r.ts_ms = k.ts_ms AND r.seq = k.seq`

const INSERT_CONFLICTS = `
INSERT INTO conflicts (kind, project, id, seen_ms, batch, body)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[])
ON CONFLICT DO NOTHING`

/** project → ids, for set membership without string-joining keys. */
class KeySet {
  private readonly m = new Map<string, Set<string>>()
  add(project: string, id: string): void {
    let s = this.m.get(project)
    if (!s) this.m.set(project, (s = new Set()))
    s.add(id)
  }
  has(project: string, id: string): boolean {
    return this.m.get(project)?.has(id) ?? false
  }
  /** Removes and reports whether it was there. */
  take(project: string, id: string): boolean {
    return this.m.get(project)?.delete(id) ?? false
  }
}

interface Keyed {
  project: string
  id: string
  body: string
}

/**
 * The scale-out store: PostgreSQL through `pg`. Writes are set-based (one multi-row statement per
 * record kind per batch), idempotent through the `event_ids`/`feedback_ids` gates, and only the
 * rows that were not inserted are read back to tell duplicates from conflicts. Conflicts are kept
 * in the `conflicts` table. See `postgres-migrations.ts` for the layout.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres'
  readonly schema: string | undefined
  private readonly pool: PgPool
  private readonly ownsPool: boolean
  private readonly partitions: PartitionManager
  private closed: Promise<void> | undefined

  constructor(options: PostgresStoreOptions) {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new Error(`schema name ${JSON.stringify(options.schema)} must be lower-case letters, digits and _`)
    }
    this.schema = options.schema
    const warn = options.onWarning ?? (() => {})
    if (options.pool) {
      this.pool = options.pool
      this.ownsPool = false
    } else {
      const pool = new pg.Pool({
        connectionString: options.connectionString,
        max: options.poolSize ?? 8,
        ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
        // Epoch milliseconds and sequence numbers fit a double exactly (< 2^53).
        types: {
          getTypeParser: ((oid: number, format: 'text' | 'binary') =>
            oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
        },
      })
      // A connection dropped by a server restart must not crash the process, whether it is idle in
      // the pool or checked out between two statements; the statement in flight fails, the next
      // one reconnects.
      pool.on('error', (e) => warn(`postgres: idle connection lost: ${e.message}`))
      pool.on('connect', (client) => client.on('error', (e) => warn(`postgres: connection lost: ${e.message}`)))
      this.pool = pool as unknown as PgPool
      this.ownsPool = true
    }
    this.partitions = new PartitionManager(this.pool, { ...options.partitions, onWarning: warn })
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`inferlog.migrate.${this.schema ?? ''}`])
      if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`)
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_ms bigint NOT NULL)')
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version))
      for (const m of POSTGRES_MIGRATIONS) {
        if (done.has(m.version)) continue
        await client.query(m.sql)
        await client.query('INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)', [m.version, Date.now()])
      }
      await client.query('COMMIT')
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {})
      throw e
    } finally {
      client.release()
    }
    await this.partitions.load()
    await this.partitions.ensure([Date.now()])
  }

  async writeBatch(batch: WriteBatch): Promise<WriteResult> {
    const times: number[] = []
    for (const e of batch.events) times.push(e.tsMs)
    for (const f of batch.feedback) times.push(f.tsMs)
    await this.partitions.ensure(times)
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect()
      try {
        const result = await this.writeIn(client, batch)
        client.release()
        return result
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {})
        const code = (e as { code?: string }).code
        // Two writers touching the same ids in one instant: retry; the gate then sees the winner.
        const retry = (code === '40P01' || code === '40001') && attempt < 5
        client.release(retry ? undefined : (e as Error))
        if (!retry) throw e
      }
    }
  }

  private async writeIn(client: PgClient, batch: WriteBatch): Promise<WriteResult> {
    await client.query('BEGIN')
    const batchSeq = (await client.query<{ seq: number }>(`SELECT nextval('batches_seq') AS seq`)).rows[0]!.seq
    const now = Date.now()
    const conflicts: { kind: 'event' | 'feedback'; item: Keyed }[] = []

    let events: WriteOutcome[] = []
    if (batch.events.length > 0) {
      const es = batch.events
      const inserted = await client.query<{ project: string; id: string }>(
        columnStatement(
          'inferlog_insert_events',
          insertEventsSql,
          [
            es.map((e) => e.project),
            es.map((e) => pgText(e.id)),
            es.map((e) => e.tsMs),
            es.map((e) => e.receivedMs),
            es.map((e) => pgText(e.model)),
            es.map((e) => pgText(e.version)),
            es.map((e) => pgText(e.stage)),
            es.map((e) => pgText(e.status)),
            es.map((e) => pgText(e.sessionId)),
            es.map((e) => pgText(e.userId)),
            es.map((e) => pgText(e.arm)),
            es.map((e) => pgText(e.shadowOf)),
            es.map((e) => e.body),
          ],
          [batchSeq],
        ),
      )
      events = await this.outcomes(client, 'events', es, inserted.rows, (item) => conflicts.push({ kind: 'event', item }))
    }

    let feedback: WriteOutcome[] = []
    if (batch.feedback.length > 0) {
      const fs = batch.feedback
      const inserted = await client.query<{ project: string; id: string }>(
        columnStatement(
          'inferlog_insert_feedback',
          insertFeedbackSql,
          [
            fs.map((f) => f.project),
            fs.map((f) => pgText(f.id)),
            fs.map((f) => pgText(f.eventId)),
            fs.map((f) => pgText(f.name)),
            fs.map((f) => f.tsMs),
            fs.map((f) => f.receivedMs),
            fs.map((f) => f.body),
          ],
          [batchSeq],
        ),
      )
      feedback = await this.outcomes(client, 'feedback', fs, inserted.rows, (item) => conflicts.push({ kind: 'feedback', item }))
    }

    if (conflicts.length > 0) {
      await client.query({
        name: 'inferlog_insert_conflicts',
        text: INSERT_CONFLICTS,
        values: [
          conflicts.map((c) => c.kind),
          conflicts.map((c) => c.item.project),
          conflicts.map((c) => pgText(c.item.id)),
          conflicts.map(() => now),
          conflicts.map(() => batchSeq),
          conflicts.map((c) => c.item.body),
        ],
      })
    }
    const nEvents = events.filter((o) => o === 'inserted').length
    const nFeedback = feedback.filter((o) => o === 'inserted').length
    await client.query('INSERT INTO batches (seq, committed_ms, events, feedback) VALUES ($1, $2, $3, $4)', [
      batchSeq,
      now,
      nEvents,
      nFeedback,
    ])
    await client.query('COMMIT')
    return { batchSeq, events, feedback }
  }

  /**
   * Per-item outcomes: the first occurrence of each key the gate accepted is `inserted`; every
   * other item is compared with the stored body (read once per key, only for these items).
   */
  private async outcomes(
    client: PgClient,
    table: 'events' | 'feedback',
    items: (EventRecord | FeedbackRecord)[],
    insertedKeys: { project: string; id: string }[],
    onConflict: (item: Keyed) => void,
  ): Promise<WriteOutcome[]> {
    const fresh = new KeySet()
    for (const k of insertedKeys) fresh.add(k.project, k.id)
    const out: WriteOutcome[] = new Array(items.length)
    const pending: number[] = []
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!
      if (fresh.take(it.project, pgText(it.id))) out[i] = 'inserted'
      else pending.push(i)
    }
    if (pending.length === 0) return out
    const projects: string[] = []
    const ids: string[] = []
    const asked = new KeySet()
    for (const i of pending) {
      const it = items[i]!
      const id = pgText(it.id)
      if (asked.has(it.project, id)) continue
      asked.add(it.project, id)
      projects.push(it.project)
      ids.push(id)
    }
    const rows = await client.query<{ project: string; id: string; body: string }>({
      name: `inferlog_bodies_${table}`,
      text: storedBodies(table),
      values: [projects, ids],
    })
    const stored = new Map<string, Map<string, string>>()
    for (const r of rows.rows) {
      let m = stored.get(r.project)
      if (!m) stored.set(r.project, (m = new Map()))
      m.set(r.id, r.body)
    }
    for (const i of pending) {
      const it = items[i]!
      const body = stored.get(it.project)?.get(pgText(it.id))
      if (body === undefined) throw new Error(`postgres: ${table} ${it.project}/${it.id} is neither inserted nor stored`)
      if (sameJsonContent(body, it.body)) out[i] = 'duplicate'
      else {
        out[i] = 'conflict'
        onConflict(it)
      }
    }
    return out
  }

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

  /** Refused re-sends, newest first (operators: `SELECT * FROM conflicts ORDER BY seq DESC`). */
  async listConflicts(limit = 100): Promise<ConflictRecord[]> {
    const r = await this.pool.query<ConflictRecord>(
      `SELECT seq, kind, project, id, seen_ms AS "seenMs", batch, body FROM conflicts ORDER BY seq DESC LIMIT $1`,
      [limit],
    )
    return r.rows
  }

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO api_keys (id, project, name, hash, scopes, created_ms, revoked_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [k.id, k.project, k.name, k.hash, k.scopes.join(','), k.createdMs, k.revokedMs, k.expiresMs],
    )
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.pool.query<KeyRow>('SELECT * FROM api_keys WHERE hash = $1', [hash])
    return r.rows[0] && toKey(r.rows[0])
  }

  async listApiKeys(project?: string): Promise<ApiKeyRecord[]> {
    const r =
      project === undefined
        ? await this.pool.query<KeyRow>('SELECT * FROM api_keys ORDER BY created_ms, id')
        : await this.pool.query<KeyRow>('SELECT * FROM api_keys WHERE project = $1 ORDER BY created_ms, id', [project])
    return r.rows.map(toKey)
  }

  async revokeApiKey(id: string, atMs: number): Promise<boolean> {
    const r = await this.pool.query('UPDATE api_keys SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL', [atMs, id])
    return r.rowCount === 1
  }

  async countActiveApiKeys(nowMs: number): Promise<number> {
    const r = await this.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM api_keys WHERE revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > $1)',
      [nowMs],
    )
    return r.rows[0]!.n
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1')
  }

  /** The pool, for tools and tests that inspect the tables. */
  get queryable(): PgQueryable {
    return this.pool
  }

  async close(): Promise<void> {
    this.closed ??= this.ownsPool ? this.pool.end() : Promise.resolve()
    return this.closed
  }
}
