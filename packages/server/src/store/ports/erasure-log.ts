import type { CompiledWrite } from './derived-store.js'

/**
 * Removing records from the log (privacy erasure, retention) and reading what was removed. The
 * removal itself is an administrative record of the audit chain (`appendAuditRecord`): it keeps
 * each removed row's leaf hash as a tombstone and runs the statements this port provides in the
 * same transaction, so rows and tombstones never get out of step. Ingest consults the tombstones:
 * a re-send of a removed id, a feedback item for a removed event and a shadow of a removed event
 * are refused (`erased`), never stored again.
 */

/** A row to remove. */
export interface RowRef {
  kind: 'event' | 'feedback'
  id: string
}

/** What is kept of a removed row. */
export interface ErasedRow {
  kind: 'event' | 'feedback'
  project: string
  id: string
  /** Commit position of the batch that had inserted it. */
  batch: number
  /** Its audit leaf hash, hex. */
  leaf: string
  /** Id of the audit record that removed it. */
  record: string
}

/** Erasure support of a store. */
export interface ErasureLog {
  /**
   * The statements that delete these rows of `project`, and every copy the store keeps of their
   * indexed columns (session and user look-ups), in this store's dialect. Pass them as `writes`
   * to `appendAuditRecord` with the rows' tombstones. A row already gone is skipped.
   */
  erasureWrites(project: string, rows: readonly RowRef[]): CompiledWrite[]
  /**
   * Removed rows of a project whose batch is at or below `upTo`, ordered by batch, then kind,
   * then id, `chunkSize` at a time (default 1 000).
   */
  scanTombstones(project: string, upTo: number, chunkSize?: number): AsyncIterable<ErasedRow[]>
}
