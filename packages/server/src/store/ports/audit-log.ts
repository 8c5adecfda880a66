import type { AuditScan } from './audit-log-scan.js'
import type { CompiledWrite } from './derived-store.js'

/**
 * The log's own administrative records and the tombstones of deleted rows: what keeps the audit
 * chain whole when data is erased or expires. Use it through `appendAuditRecord`
 * (`audit/audit-records.ts`), which builds the record; this port is what the adapters implement.
 */

/** An administrative record as written: one row of kind `audit`. */
export interface AuditRecordRow {
  project: string
  /** Unique per project (a UUIDv7). */
  id: string
  /** When it happened, epoch ms. */
  tsMs: number
  /** Its JSON text, hashed as stored. */
  body: string
}

/** An administrative record as the log holds it. */
export interface LoggedAuditRecord extends AuditRecordRow {
  /** Row number, ascending. */
  seq: number
  /** Commit position of its batch. */
  batch: number
}

/**
 * The leaf of a row that erasure or retention deleted (or blanked), kept so the batch that
 * inserted the row still verifies. `verify` and the chain use the tombstone's leaf in place of
 * whatever the row holds now (nothing, or a blanked payload).
 */
export interface Tombstone {
  kind: 'event' | 'feedback'
  project: string
  id: string
  /** Commit position of the batch that inserted the row (`LoggedEvent.batch`). */
  batch: number
  /** The row's leaf hash, 64 hex digits (`leafHashHex(kind, row)` of the row as stored). */
  leaf: string
}

/** A stored tombstone: which administrative record removed the row. */
export interface StoredTombstone extends Tombstone {
  /** Id of the audit record whose batch created the tombstone. */
  record: string
}

/** What {@link AuditLog.appendAudit} commits in one transaction, as one batch of its own. */
export interface AuditAppend {
  record: AuditRecordRow
  /** Tombstones of the rows this operation removes. Default none. */
  tombstones?: readonly Tombstone[]
  /**
   * Statements run in the same transaction, after the record and tombstones (e.g. the deletes
   * themselves), compiled for the store's dialect (`store.derived.db` … `.compile()`). Default none.
   */
  writes?: readonly CompiledWrite[]
}

/** Administrative records and tombstones, and the scan `verify` reads. */
export interface AuditLog extends AuditScan {
  /**
   * Commits the record, its tombstones and `writes` in one transaction as a new batch (so the
   * chain seals it like any other). Rejects, writing nothing, when a tombstone already exists
   * for one of the rows (`kind`, `project`, `id`) or a statement fails. Resolves after commit with
   * the batch's number (`WriteResult.batchSeq` semantics).
   */
  appendAudit(entry: AuditAppend): Promise<{ batchSeq: number }>
  /** Tombstones whose `batch` is in `(after, upTo]`, any order. */
  tombstonesIn(after: number, upTo: number): Promise<StoredTombstone[]>
  /** Tombstones of these rows (one query per call), any order; rows without one are left out. */
  tombstonesOf(kind: 'event' | 'feedback', project: string, ids: readonly string[]): Promise<StoredTombstone[]>
  /** Administrative records of a project, newest first, at most `limit` (default 100). */
  auditRecords(project: string, limit?: number): Promise<LoggedAuditRecord[]>
}
