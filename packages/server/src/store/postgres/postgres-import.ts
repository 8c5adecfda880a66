import type { ImportedBatch } from '../ports/log-import.js'
import type { PartitionManager } from './postgres-partitions.js'
import { pgTextOnce as pgText } from './pg-text.js'
import type { PgPool } from './pg-types.js'

const INSERT_EVENTS = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::text[], $13::text[]) WITH ORDINALITY
    AS t(project, id, ts_ms, received_ms, model, version, stage, status, session_id, user_id, arm, shadow_of, body, ord)
), keys AS (
  INSERT INTO event_ids (project, id, ts_ms, seq)
  SELECT project, id, ts_ms, nextval('events_seq') FROM input ORDER BY ord
  ON CONFLICT DO NOTHING
  RETURNING project, id, seq
), stored AS (
  INSERT INTO events (seq, project, id, ts_ms, received_ms, model, version, stage, status, session_id, user_id, arm, shadow_of, batch, body)
  SELECT k.seq, i.project, i.id, i.ts_ms, i.received_ms, i.model, i.version, i.stage, i.status, i.session_id, i.user_id, i.arm,
         i.shadow_of, $14, i.body
    FROM input i JOIN keys k ON k.project = i.project AND k.id = i.id
  RETURNING 1
)
SELECT count(*)::int AS n FROM stored`

const INSERT_FEEDBACK = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::text[]) WITH ORDINALITY
    AS t(project, id, event_id, name, ts_ms, received_ms, body, ord)
), keys AS (
  INSERT INTO feedback_ids (project, id, ts_ms, seq)
  SELECT project, id, ts_ms, nextval('feedback_seq') FROM input ORDER BY ord
  ON CONFLICT DO NOTHING
  RETURNING project, id, seq
), stored AS (
  INSERT INTO feedback (seq, project, id, event_id, name, ts_ms, received_ms, batch, body)
  SELECT k.seq, i.project, i.id, i.event_id, i.name, i.ts_ms, i.received_ms, $8, i.body
    FROM input i JOIN keys k ON k.project = i.project AND k.id = i.id
  RETURNING 1
)
SELECT count(*)::int AS n FROM stored`

/**
 * Writes batches of an export into PostgreSQL with their commit positions: one transaction per
 * batch holding the commit sequencer's lock, so no stamping interleaves, and the sequencer moved
 * past the imported position.
 */
export class PostgresImporter {
  constructor(
    private readonly pool: PgPool,
    private readonly partitions: PartitionManager,
  ) {}

  async importBatch(b: ImportedBatch): Promise<void> {
    await this.partitions.ensure([...b.events.map((e) => e.tsMs), ...b.feedback.map((f) => f.tsMs)])
    const client = await this.pool.connect()
    let failed: Error | undefined
    try {
      await client.query('BEGIN')
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('inferlog.commit_seq'))`)
      const last = Number((await client.query<{ n: number }>('SELECT coalesce(max(commit_seq), 0) AS n FROM batches')).rows[0]!.n)
      if (b.position <= last) throw new Error(`batch ${b.position} is not after the store's last batch ${last}`)
      const internal = Number((await client.query<{ seq: number }>(`SELECT nextval('batches_seq') AS seq`)).rows[0]!.seq)
      const es = b.events
      if (es.length > 0) {
        const r = await client.query<{ n: number }>(INSERT_EVENTS, [
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
          internal,
        ])
        if (r.rows[0]!.n !== es.length) throw new Error(`batch ${b.position}: ${es.length - r.rows[0]!.n} of its events are already stored`)
      }
      const fs = b.feedback
      if (fs.length > 0) {
        const r = await client.query<{ n: number }>(INSERT_FEEDBACK, [
          fs.map((f) => f.project),
          fs.map((f) => pgText(f.id)),
          fs.map((f) => pgText(f.eventId)),
          fs.map((f) => pgText(f.name)),
          fs.map((f) => f.tsMs),
          fs.map((f) => f.receivedMs),
          fs.map((f) => f.body),
          internal,
        ])
        if (r.rows[0]!.n !== fs.length)
          throw new Error(`batch ${b.position}: ${fs.length - r.rows[0]!.n} of its feedback items are already stored`)
      }
      for (const a of b.audit) {
        await client.query('INSERT INTO audit_records (project, id, ts_ms, batch, body) VALUES ($1, $2, $3, $4, $5)', [
          a.project,
          pgText(a.id),
          a.tsMs,
          internal,
          a.body,
        ])
      }
      const ts = b.tombstones
      if (ts.length > 0) {
        await client.query(
          `INSERT INTO audit_tombstones (kind, project, id, batch, leaf, record)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[])`,
          [
            ts.map((t) => t.kind),
            ts.map((t) => t.project),
            ts.map((t) => pgText(t.id)),
            ts.map((t) => t.batch),
            ts.map((t) => t.leaf),
            ts.map((t) => pgText(t.record)),
          ],
        )
      }
      await client.query('INSERT INTO batches (seq, committed_ms, events, feedback, commit_seq) VALUES ($1, $2, $3, $4, $5)', [
        internal,
        b.committedMs,
        es.length,
        fs.length,
        b.position,
      ])
      // Positions stamped later (by ordinary commits) come after the imported ones.
      await client.query(`SELECT setval('commit_seq', greatest($1::bigint, (SELECT last_value FROM commit_seq)))`, [b.position])
      await client.query('COMMIT')
    } catch (e) {
      failed = e as Error
      await client.query('ROLLBACK').catch(() => undefined)
      throw e
    } finally {
      client.release(failed)
    }
  }
}
