import type { AuditAppend, LoggedAuditRecord, StoredTombstone } from '../ports/audit-log.js'
import type { LeafScanBatch, LeafScanChunk, LeafScanRow, StrayRow, VerifyChunk } from '../ports/audit-log-scan.js'
import type { CommittedBatch, LoggedEvent, LoggedFeedback } from '../ports/log-scanner.js'
import { verifyStep } from '../verify-step.js'
import { EVENT_COLUMNS, FEEDBACK_COLUMNS } from './postgres-scans.js'
import { pgText } from './pg-text.js'
import type { PgPool } from './pg-types.js'

const TOMBSTONE_COLUMNS = 'kind, project, id, batch, leaf, record'
const RECORD_COLUMNS = `r.project, r.id, r.seq, b.commit_seq AS batch, r.ts_ms AS "tsMs", r.body`

/** `field(c)` of the leaf encoding (docs/audit.md): u32 byte length, then the UTF-8 bytes. */
const field = (c: string) => `int4send(octet_length(${c})) || convert_to(${c}, 'UTF8')`
const nullable = (c: string) => `coalesce(${field(c)}, decode('ffffffff', 'hex'))`
const int = (c: string) => field(`${c}::text`)
/** A key column whose key form is itself: at most 256 bytes (so at most 256 UTF-16 units); text holds no U+0000. */
const plain = (c: string) => `octet_length(${c}) <= 256`
const plainNullable = (c: string) => `(${c} IS NULL OR octet_length(${c}) <= 256)`
const safe = (c: string) => `${c} BETWEEN -9007199254740991 AND 9007199254740991`
/**
 * Each kind's leaf computed by the server (`sha256`), the bytes exactly as `LeafHasher` builds
 * them, and whether the row's key columns are all plain (else the leaf is left to `LeafHasher`,
 * which folds long values).
 */
const LEAF_SQL = {
  event: {
    table: 'events',
    leaf: `sha256(decode('00', 'hex') || ${field(`'event'`)} || ${field('t.project')} || ${field('t.id')} || ${int('t.ts_ms')} || ${int('t.received_ms')}
      || ${field('t.model')} || ${field('t.version')} || ${field('t.stage')} || ${field('t.status')} || ${nullable('t.session_id')}
      || ${nullable('t.user_id')} || ${nullable('t.arm')} || ${nullable('t.shadow_of')} || ${field('t.body')})`,
    plain: [
      plain('t.project'),
      plain('t.id'),
      safe('t.ts_ms'),
      safe('t.received_ms'),
      plain('t.model'),
      plain('t.version'),
      plain('t.stage'),
      plain('t.status'),
      plainNullable('t.session_id'),
      plainNullable('t.user_id'),
      plainNullable('t.arm'),
      plainNullable('t.shadow_of'),
    ].join(' AND '),
  },
  feedback: {
    table: 'feedback',
    leaf: `sha256(decode('00', 'hex') || ${field(`'feedback'`)} || ${field('t.project')} || ${field('t.id')} || ${field('t.event_id')}
      || ${field('t.name')} || ${int('t.ts_ms')} || ${int('t.received_ms')} || ${field('t.body')})`,
    plain: [plain('t.project'), plain('t.id'), plain('t.event_id'), plain('t.name'), safe('t.ts_ms'), safe('t.received_ms')].join(' AND '),
  },
  audit: {
    table: 'audit_records',
    leaf: `sha256(decode('00', 'hex') || ${field(`'audit'`)} || ${field('t.project')} || ${field('t.id')} || ${int('t.ts_ms')} || ${field('t.body')})`,
    plain: [plain('t.project'), plain('t.id'), safe('t.ts_ms')].join(' AND '),
  },
} as const

/**
 * Administrative records and tombstones in PostgreSQL. A record is a batch of its own: the same
 * transaction shape as a group commit (internal batch number, rows, `batches` row), stamped with
 * its commit position after commit.
 */
export class PostgresAuditLog {
  constructor(private readonly pool: PgPool) {}

  async appendAudit(entry: AuditAppend): Promise<{ batchSeq: number }> {
    const client = await this.pool.connect()
    let failed: Error | undefined
    let batchSeq: number
    try {
      await client.query('BEGIN')
      batchSeq = Number((await client.query<{ seq: number }>(`SELECT nextval('batches_seq') AS seq`)).rows[0]!.seq)
      const r = entry.record
      await client.query('INSERT INTO audit_records (project, id, ts_ms, batch, body) VALUES ($1, $2, $3, $4, $5)', [
        r.project,
        pgText(r.id),
        r.tsMs,
        batchSeq,
        r.body,
      ])
      const ts = entry.tombstones ?? []
      if (ts.length > 0) {
        await client.query(
          `INSERT INTO audit_tombstones (kind, project, id, batch, leaf, record)
           SELECT k, p, i, b, l, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[]) AS t(k, p, i, b, l)`,
          [
            ts.map((t) => t.kind),
            ts.map((t) => t.project),
            ts.map((t) => pgText(t.id)),
            ts.map((t) => t.batch),
            ts.map((t) => t.leaf),
            pgText(r.id),
          ],
        )
      }
      for (const w of entry.writes ?? []) await client.query(w.sql, w.parameters as unknown[])
      await client.query('INSERT INTO batches (seq, committed_ms, events, feedback) VALUES ($1, $2, 0, 0)', [batchSeq, Date.now()])
      await client.query('COMMIT')
    } catch (e) {
      failed = e as Error
      await client.query('ROLLBACK').catch(() => undefined)
      client.release(failed)
      throw e
    }
    // As after a group commit: durable now; a batch left unstamped is stamped by the next caller.
    try {
      await client.query('SELECT inferlog_stamp_commits()')
      client.release()
    } catch (e) {
      client.release(e as Error)
    }
    return { batchSeq }
  }

  async tombstonesIn(after: number, upTo: number): Promise<StoredTombstone[]> {
    const r = await this.pool.query<StoredTombstone>({
      name: 'inferlog_tombstones_in',
      text: `SELECT ${TOMBSTONE_COLUMNS} FROM audit_tombstones WHERE batch > $1 AND batch <= $2`,
      values: [after, upTo],
    })
    return r.rows
  }

  async tombstonesOf(kind: 'event' | 'feedback', project: string, ids: readonly string[]): Promise<StoredTombstone[]> {
    if (ids.length === 0) return []
    const r = await this.pool.query<StoredTombstone>({
      name: 'inferlog_tombstones_of',
      // A join on the ids, not `id = ANY($3)`: with a generic plan on a large table that became a
      // sequential scan testing every row against every id (10 000 ids × 100 000 tombstones: 10 s).
      text: `SELECT t.kind, t.project, t.id, t.batch, t.leaf, t.record
               FROM unnest($3::text[]) AS q(id) JOIN audit_tombstones t ON t.kind = $1 AND t.project = $2 AND t.id = q.id`,
      values: [kind, project, ids.map((id) => pgText(id))],
    })
    return r.rows
  }

  async auditRecords(project: string, limit = 100): Promise<LoggedAuditRecord[]> {
    const r = await this.pool.query<LoggedAuditRecord>({
      name: 'inferlog_audit_records',
      text: `SELECT ${RECORD_COLUMNS} FROM audit_records r LEFT JOIN batches b ON b.seq = r.batch
              WHERE r.project = $1 ORDER BY r.seq DESC LIMIT $2`,
      values: [project, limit],
    })
    return r.rows
  }

  /** Records of these internal batch numbers, in batch then row order (the feed's read). */
  async recordsOfBatches(internal: readonly number[]): Promise<(Omit<LoggedAuditRecord, 'batch'> & { internal: number })[]> {
    const r = await this.pool.query<Omit<LoggedAuditRecord, 'batch'> & { internal: number }>({
      name: 'inferlog_feed_audit',
      text: `SELECT project, id, seq, ts_ms AS "tsMs", body, batch AS internal FROM audit_records
              WHERE batch = ANY($1::int8[]) ORDER BY batch, seq`,
      values: [internal],
    })
    return r.rows
  }

  /** Up to 500 committed batches after `position` (through `upTo`), in commit order: what verify walks. */
  private async verifyBatches(position: number, upTo: number) {
    return (
      await this.pool.query<{ internal: number; position: number; committedMs: number; rows: number }>({
        name: 'inferlog_verify_batches',
        text: `SELECT seq AS internal, commit_seq AS position, committed_ms AS "committedMs", events + feedback AS rows
                 FROM batches WHERE commit_seq > $1 AND commit_seq <= $2 ORDER BY commit_seq LIMIT 500`,
        values: [position, upTo],
      })
    ).rows
  }

  async *scanForVerify(after: number, upTo: number, chunkRows = 20_000): AsyncIterable<VerifyChunk> {
    let position = after
    for (;;) {
      const list = await this.verifyBatches(position, upTo)
      if (list.length === 0) break
      const picked = verifyStep(list, chunkRows)
      const byInternal = new Map<number, CommittedBatch>()
      const batches = picked.map((b) => {
        const cb: CommittedBatch = { position: Number(b.position), committedMs: Number(b.committedMs), events: [], feedback: [], audit: [] }
        byInternal.set(Number(b.internal), cb)
        return cb
      })
      const internal = picked.map((b) => Number(b.internal))
      const [ev, fb, au] = await Promise.all([
        this.pool.query<LoggedEvent & { internal: number }>({
          name: 'inferlog_verify_events',
          text: `SELECT ${EVENT_COLUMNS}, e.batch AS internal FROM events e WHERE e.batch = ANY($1::int8[]) ORDER BY e.batch, e.seq`,
          values: [internal],
        }),
        this.pool.query<LoggedFeedback & { internal: number }>({
          name: 'inferlog_verify_feedback',
          text: `SELECT ${FEEDBACK_COLUMNS}, f.batch AS internal FROM feedback f WHERE f.batch = ANY($1::int8[]) ORDER BY f.batch, f.seq`,
          values: [internal],
        }),
        this.recordsOfBatches(internal),
      ])
      for (const { internal: i, ...e } of ev.rows) {
        const b = byInternal.get(Number(i))!
        b.events.push({ ...e, batch: b.position })
      }
      for (const { internal: i, ...f } of fb.rows) {
        const b = byInternal.get(Number(i))!
        b.feedback.push({ ...f, batch: b.position })
      }
      for (const { internal: i, ...r } of au) {
        const b = byInternal.get(Number(i))!
        b.audit!.push({ ...r, batch: b.position })
      }
      position = batches[batches.length - 1]!.position
      yield { batches, stray: [] }
    }
    // Rows that claim no batch at all (a batch never committed, or whose row was removed).
    const stray: StrayRow[] = []
    for (const [kind, table] of [
      ['event', 'events'],
      ['feedback', 'feedback'],
      ['audit', 'audit_records'],
    ] as const) {
      const r = await this.pool.query<{ project: string; id: string; seq: number; batch: number }>(
        `SELECT project, id, seq, batch FROM ${table} t WHERE NOT EXISTS (SELECT 1 FROM batches b WHERE b.seq = t.batch) LIMIT 100`,
      )
      for (const x of r.rows) stray.push({ kind, project: x.project, id: x.id, seq: Number(x.seq), claims: Number(x.batch) })
    }
    if (stray.length > 0) yield { batches: [], stray }
  }

  async rowsBySeq(
    kind: 'event' | 'feedback' | 'audit',
    seqs: readonly number[],
  ): Promise<(LoggedEvent | LoggedFeedback | LoggedAuditRecord)[]> {
    if (seqs.length === 0) return []
    const text =
      kind === 'event'
        ? `SELECT ${EVENT_COLUMNS}, b.commit_seq AS batch FROM unnest($1::int8[]) AS q(seq) JOIN events e ON e.seq = q.seq
             LEFT JOIN batches b ON b.seq = e.batch ORDER BY e.seq`
        : kind === 'feedback'
          ? `SELECT ${FEEDBACK_COLUMNS}, b.commit_seq AS batch FROM unnest($1::int8[]) AS q(seq) JOIN feedback f ON f.seq = q.seq
               LEFT JOIN batches b ON b.seq = f.batch ORDER BY f.seq`
          : `SELECT ${RECORD_COLUMNS} FROM unnest($1::int8[]) AS q(seq) JOIN audit_records r ON r.seq = q.seq
               LEFT JOIN batches b ON b.seq = r.batch ORDER BY r.seq`
    const r = await this.pool.query<LoggedEvent | LoggedFeedback | LoggedAuditRecord>({ text, values: [seqs] })
    return r.rows.map((row) => ({ ...row, batch: Number(row.batch) }))
  }

  /**
   * {@link scanForVerify} with every row's leaf hashed by the server (`sha256()` over the leaf's
   * bytes, built in SQL exactly as `LeafHasher` builds them): one row per batch and kind comes
   * back (the leaves in row order, the row numbers), not the rows. A batch with a key column longer
   * than 256 bytes comes without leaves (`LeafScanBatch.leaves`): `verify` reads its rows.
   */
  async *scanLeafRows(after: number, upTo: number, chunkRows = 20_000, strays: 'end' | 'range' = 'end'): AsyncIterable<LeafScanChunk> {
    let position = after
    for (;;) {
      const list = await this.verifyBatches(position, upTo)
      if (list.length === 0) break
      const picked = verifyStep(list, chunkRows)
      const internal = picked.map((b) => Number(b.internal))
      const kinds = ['event', 'feedback', 'audit'] as const
      const found = await Promise.all(
        kinds.map(async (kind) => {
          const q = LEAF_SQL[kind]
          const r = await this.pool.query<{ internal: number; leaves: Buffer | null; seqs: number[]; plain: boolean }>({
            name: `inferlog_verify_leaves_${kind}`,
            text: `SELECT t.batch AS internal, string_agg(CASE WHEN ${q.plain} THEN ${q.leaf} END, ''::bytea ORDER BY t.seq) AS leaves,
                          array_agg(t.seq::float8 ORDER BY t.seq) AS seqs, bool_and(${q.plain}) AS plain
                     FROM ${q.table} t WHERE t.batch = ANY($1::int8[]) GROUP BY t.batch`,
            values: [internal],
          })
          return new Map(r.rows.map((x) => [Number(x.internal), x]))
        }),
      )
      const batches = picked.map((b): LeafScanBatch => {
        const pos = Number(b.position)
        const lb: LeafScanBatch = { position: pos, committedMs: Number(b.committedMs), events: [], feedback: [], audit: [] }
        const parts: Buffer[] = []
        let plainAll = true
        kinds.forEach((kind, k) => {
          const x = found[k]!.get(Number(b.internal))
          if (!x) return
          const rows: LeafScanRow[] = x.seqs.map((seq) => [seq, pos, '', null] as const)
          if (kind === 'event') lb.events = rows
          else if (kind === 'feedback') lb.feedback = rows
          else lb.audit = rows
          if (x.plain && x.leaves) parts.push(x.leaves)
          else plainAll = false
        })
        if (plainAll) lb.leaves = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
        return lb
      })
      position = batches[batches.length - 1]!.position
      yield { batches, stray: [] }
    }
    // Rows claiming no batch are not in any range: looked for once, by the last range.
    if (strays === 'range') return
    const stray = await this.unbatched()
    if (stray.length > 0) yield { batches: [], stray }
  }

  /** Rows that claim no batch at all (a batch never committed, or whose row was removed). */
  private async unbatched(): Promise<StrayRow[]> {
    const stray: StrayRow[] = []
    for (const [kind, table] of [
      ['event', 'events'],
      ['feedback', 'feedback'],
      ['audit', 'audit_records'],
    ] as const) {
      const r = await this.pool.query<{ project: string; id: string; seq: number; batch: number }>(
        `SELECT project, id, seq, batch FROM ${table} t WHERE NOT EXISTS (SELECT 1 FROM batches b WHERE b.seq = t.batch) LIMIT 100`,
      )
      for (const x of r.rows) stray.push({ kind, project: x.project, id: x.id, seq: Number(x.seq), claims: Number(x.batch) })
    }
    return stray
  }
}
