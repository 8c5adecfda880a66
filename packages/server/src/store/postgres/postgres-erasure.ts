import type { CompiledWrite } from '../ports/derived-store.js'
import type { ErasedRow, RowRef } from '../ports/erasure-log.js'
import { pgText } from './pg-text.js'
import type { PgQueryable } from './pg-types.js'

// Rows are found through their gate (event_ids / feedback_ids), which names the partition (ts_ms)
// and the row (seq), so each delete touches one partition's time index. The gate rows stay: a
// re-send collides there and is then told `erased` (see `PostgresWriter`).
// The ids are joined (unnest), never tested with `= ANY(array)`, which a plan may turn into a scan
// testing every row against every id.
const deleteRows = (table: 'events' | 'feedback') => `
DELETE FROM ${table} r
 USING unnest($2::text[]) AS q(id) JOIN ${table === 'events' ? 'event_ids' : 'feedback_ids'} k ON k.project = $1 AND k.id = q.id
 WHERE r.project = k.project AND r.ts_ms = k.ts_ms AND r.seq = k.seq`

/** Statements deleting rows of one project from PostgreSQL (indexes there hold nothing else). */
export function postgresErasureWrites(project: string, rows: readonly RowRef[]): CompiledWrite[] {
  const out: CompiledWrite[] = []
  for (const [kind, table] of [
    ['event', 'events'],
    ['feedback', 'feedback'],
  ] as const) {
    const ids = rows.filter((r) => r.kind === kind).map((r) => pgText(r.id))
    if (ids.length > 0) {
      out.push({ sql: deleteRows(table), parameters: [project, ids] })
      out.push({
        sql: `DELETE FROM sent_digests WHERE kind = '${kind}' AND project = $1 AND id = ANY($2::text[])`,
        parameters: [project, ids],
      })
    }
  }
  return out
}

/** Tombstone reads in PostgreSQL. */
export class PostgresErasureReader {
  constructor(private readonly pool: PgQueryable) {}

  async *scanTombstones(project: string, upTo: number, chunkSize = 1000): AsyncIterable<ErasedRow[]> {
    let at: [number, string, string] = [-1, '', '']
    for (;;) {
      const r = await this.pool.query<ErasedRow>({
        name: 'inferlog_scan_tombstones',
        text: `SELECT kind, project, id, batch, leaf, record FROM audit_tombstones
                WHERE project = $1 AND batch <= $2 AND (batch, kind, id) > ($3::int8, $4::text, $5::text)
                ORDER BY batch, kind, id LIMIT $6`,
        values: [project, upTo, ...at, chunkSize],
      })
      const rows = r.rows.map((t) => ({ ...t, batch: Number(t.batch) }))
      if (rows.length === 0) return
      const last = rows[rows.length - 1]!
      at = [last.batch, last.kind, last.id]
      yield rows
      if (rows.length < chunkSize) return
    }
  }
}
