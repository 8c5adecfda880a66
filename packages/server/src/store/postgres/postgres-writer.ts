import { sameSentContent } from '../same-content.js'
import type { EventRecord, FeedbackRecord, WriteBatch, WriteOutcome, WriteResult } from '../ports/event-log.js'
import type { PartitionManager } from './postgres-partitions.js'
import { pack, packable, unpackSql } from './pg-pack.js'
import { pgText } from './pg-text.js'
import type { PgClient, PgPool } from './pg-types.js'

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
  SELECT project, id, ts_ms, nextval('events_seq') FROM input
   WHERE shadow_of IS NULL
      OR NOT EXISTS (SELECT 1 FROM audit_tombstones t WHERE t.kind = 'event' AND t.project = input.project AND t.id = input.shadow_of)
   ORDER BY project, id, ord
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
  SELECT project, id, ts_ms, nextval('feedback_seq') FROM input
   WHERE NOT EXISTS (SELECT 1 FROM audit_tombstones t WHERE t.kind = 'event' AND t.project = input.project AND t.id = input.event_id)
   ORDER BY project, id, ord
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

// Bodies of stored rows (with what the client sent, when the collector changed it); a gate row
// whose row was erased comes back with a null body.
const storedBodies = (table: 'events' | 'feedback') => `
SELECT k.project, k.id, r.body, d.digest
  FROM unnest($1::text[], $2::text[]) AS q(project, id)
  JOIN ${table === 'events' ? 'event_ids' : 'feedback_ids'} k ON k.project = q.project AND k.id = q.id
  LEFT JOIN ${table} r ON r.project = k.project AND r.ts_ms = k.ts_ms AND r.seq = k.seq
  LEFT JOIN sent_digests d ON d.kind = '${table === 'events' ? 'event' : 'feedback'}' AND d.project = k.project AND d.id = k.id`

const INSERT_DIGESTS = `
INSERT INTO sent_digests (kind, project, id, digest)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
ON CONFLICT (kind, project, id) DO UPDATE SET digest = excluded.digest`

// Which probes name a tombstone: returns the `ord` of each probe that does.
const ERASED_PROBES = `
SELECT q.ord FROM unnest($1::text[], $2::text[], $3::text[], $4::int4[]) AS q(project, kind, id, ord)
 WHERE EXISTS (SELECT 1 FROM audit_tombstones t WHERE t.kind = q.kind AND t.project = q.project AND t.id = q.id)`

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

/** PostgreSQL SQLSTATE classes caused by the data: 22 data exception, 23 integrity, 54 program limit. */
const DATA_SQLSTATE = /^(22|23|54)/

/** True when a PostgreSQL error was caused by the data itself (retrying the same items cannot help). */
export function isPostgresDataError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' && DATA_SQLSTATE.test(code)
}

/**
 * Group commits into PostgreSQL. Writes are set-based (one multi-row statement per record kind per
 * batch), idempotent through the `event_ids`/`feedback_ids` gates, and only the rows that were not
 * inserted are read back to tell duplicates from conflicts. After each commit the batch gets its
 * commit position (see `inferlog_stamp_commits` in the migrations).
 */
export class PostgresWriter {
  constructor(
    private readonly pool: PgPool,
    private readonly partitions: PartitionManager,
  ) {}

  async writeBatch(batch: WriteBatch): Promise<WriteResult> {
    const times: number[] = []
    for (const e of batch.events) times.push(e.tsMs)
    for (const f of batch.feedback) times.push(f.tsMs)
    await this.partitions.ensure(times)
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect()
      let result: WriteResult
      try {
        result = await this.writeIn(client, batch)
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {})
        const code = (e as { code?: string }).code
        // Two writers touching the same ids in one instant: retry; the gate then sees the winner.
        const retry = (code === '40P01' || code === '40001') && attempt < 5
        client.release(retry ? undefined : (e as Error))
        if (!retry) throw e
        continue
      }
      // Commit positions are stamped outside the data transaction: the items are durable now, and
      // a batch left unstamped (this call failing, the process dying) is stamped by the next call
      // anyone makes, readers of the feed included.
      try {
        await client.query('SELECT inferlog_stamp_commits()')
        client.release()
      } catch (e) {
        client.release(e as Error)
      }
      return result
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

    const digests: { kind: string; item: EventRecord | FeedbackRecord }[] = []
    batch.events.forEach((e, i) => e.sentDigest && events[i] === 'inserted' && digests.push({ kind: 'event', item: e }))
    batch.feedback.forEach((f, i) => f.sentDigest && feedback[i] === 'inserted' && digests.push({ kind: 'feedback', item: f }))
    if (digests.length > 0) {
      await client.query({
        name: 'inferlog_insert_digests',
        text: INSERT_DIGESTS,
        values: [
          digests.map((d) => d.kind),
          digests.map((d) => d.item.project),
          digests.map((d) => pgText(d.item.id)),
          digests.map((d) => d.item.sentDigest),
        ],
      })
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
    const rows = await client.query<{ project: string; id: string; body: string | null; digest: string | null }>({
      name: `inferlog_bodies_${table}`,
      text: storedBodies(table),
      values: [projects, ids],
    })
    const stored = new Map<string, Map<string, { body: string | null; digest: string | null }>>()
    for (const r of rows.rows) {
      let m = stored.get(r.project)
      if (!m) stored.set(r.project, (m = new Map()))
      m.set(r.id, r)
    }
    const missing: number[] = []
    for (const i of pending) {
      const it = items[i]!
      const row = stored.get(it.project)?.get(pgText(it.id))
      if (row === undefined || row.body === null) missing.push(i)
      else if (sameSentContent(row.body, row.digest, it.body, it.sentDigest)) out[i] = 'duplicate'
      else {
        out[i] = 'conflict'
        onConflict(it)
      }
    }
    if (missing.length > 0) {
      // Not inserted and no row: the item, or the event it refers to, was erased.
      const erased = await this.erasedItems(client, table, items, missing)
      for (const i of missing) {
        if (!erased.has(i)) throw new Error(`postgres: ${table} ${items[i]!.project}/${items[i]!.id} is neither inserted nor stored`)
        out[i] = 'erased'
      }
    }
    return out
  }

  /** Which of the items at `indexes` are erased, or refer to an erased event (a shadow's primary, a feedback's event). */
  private async erasedItems(
    client: PgClient,
    table: 'events' | 'feedback',
    items: (EventRecord | FeedbackRecord)[],
    indexes: number[],
  ): Promise<Set<number>> {
    const probe: { project: string[]; kind: string[]; id: string[]; ord: number[] } = { project: [], kind: [], id: [], ord: [] }
    const add = (project: string, kind: string, id: string, ord: number) => {
      probe.project.push(project)
      probe.kind.push(kind)
      probe.id.push(pgText(id))
      probe.ord.push(ord)
    }
    for (const i of indexes) {
      const it = items[i]!
      add(it.project, table === 'events' ? 'event' : 'feedback', it.id, i)
      const ref = table === 'events' ? (it as EventRecord).shadowOf : (it as FeedbackRecord).eventId
      if (ref !== null) add(it.project, 'event', ref, i)
    }
    const r = await client.query<{ ord: number }>({
      name: 'inferlog_erased_probes',
      text: ERASED_PROBES,
      values: [probe.project, probe.kind, probe.id, probe.ord],
    })
    return new Set(r.rows.map((x) => Number(x.ord)))
  }
}
