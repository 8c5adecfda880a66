import type Database from 'better-sqlite3'
import type { CompiledWrite } from '../ports/derived-store.js'
import type { ErasedRow, RowRef } from '../ports/erasure-log.js'
import { LOOKUP_KINDS } from './sqlite-lookups.js'

const IDS = 'SELECT value FROM json_each(?)'

/**
 * Statements deleting rows of one project from the SQLite file: first the look-up copies of
 * their session, user and arm (keyed by value and row number, so each goes by its primary key),
 * then the rows through their unique (project, id) index.
 */
export function sqliteErasureWrites(project: string, rows: readonly RowRef[]): CompiledWrite[] {
  const events = JSON.stringify(rows.filter((r) => r.kind === 'event').map((r) => r.id))
  const feedback = JSON.stringify(rows.filter((r) => r.kind === 'feedback').map((r) => r.id))
  const out: CompiledWrite[] = []
  if (events !== '[]') {
    for (const k of LOOKUP_KINDS) {
      // (key, seq) pairs, not key IN … AND seq IN …: without planner statistics SQLite would probe
      // every key with every row number (2 500 rows: 6 M probes, 12 s).
      out.push({
        sql: `DELETE FROM event_keys WHERE project = ? AND kind = ${k.kind}
                AND (key, seq) IN (SELECT ${k.column}, seq FROM events WHERE project = ? AND id IN (${IDS}) AND ${k.column} IS NOT NULL)`,
        parameters: [project, project, events],
      })
    }
    out.push({ sql: `DELETE FROM events WHERE project = ? AND id IN (${IDS})`, parameters: [project, events] })
  }
  if (feedback !== '[]') out.push({ sql: `DELETE FROM feedback WHERE project = ? AND id IN (${IDS})`, parameters: [project, feedback] })
  for (const [kind, ids] of [
    ['event', events],
    ['feedback', feedback],
  ] as const) {
    if (ids !== '[]')
      out.push({ sql: `DELETE FROM sent_digests WHERE kind = '${kind}' AND project = ? AND id IN (${IDS})`, parameters: [project, ids] })
  }
  return out
}

/** Tombstone reads over the SQLite file (the store's read connection). */
export class SqliteErasureReader {
  constructor(private readonly db: Database.Database) {}

  async *scanTombstones(project: string, upTo: number, chunkSize = 1000): AsyncIterable<ErasedRow[]> {
    const page = this.db.prepare(
      `SELECT kind, project, id, batch, leaf, record FROM audit_tombstones
        WHERE project = ? AND batch <= ? AND (batch, kind, id) > (?, ?, ?)
        ORDER BY batch, kind, id LIMIT ?`,
    )
    let at: [number, string, string] = [-1, '', '']
    for (;;) {
      const rows = page.all(project, upTo, ...at, chunkSize) as ErasedRow[]
      if (rows.length === 0) return
      const last = rows[rows.length - 1]!
      at = [last.batch, last.kind, last.id]
      yield rows
      if (rows.length < chunkSize) return
    }
  }
}
