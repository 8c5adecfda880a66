import type { CompiledWrite } from './derived-store.js'
import type { LoggedEvent, LoggedFeedback } from './log-scanner.js'

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

/** Where a row stands in time order, for paging: after this (ts, row number). */
export interface TimePosition {
  tsMs: number
  seq: number
}

/**
 * A whole time partition of the log (PostgreSQL keeps one table per month for events and one for
 * feedback): retention drops it when every project holding rows in it lets them go.
 */
export interface TimePartition {
  kind: 'event' | 'feedback'
  /** The partition's table, e.g. `events_202601`. */
  table: string
  /** Its range of event times, `fromMs` inclusive, `toMs` exclusive. */
  fromMs: number
  toMs: number
  /** Projects with rows in it. */
  projects: string[]
}

/** What retention reads and runs on a store. */
export interface RetentionLog {
  /**
   * Rows of a project whose time is before `beforeMs`, oldest first (time, then row number),
   * strictly after `after` when given, at most `limit`, as the log holds them (commit positions).
   */
  expiredEvents(project: string, beforeMs: number, limit: number, after?: TimePosition): Promise<LoggedEvent[]>
  /** As {@link expiredEvents}, for feedback. */
  expiredFeedback(project: string, beforeMs: number, limit: number, after?: TimePosition): Promise<LoggedFeedback[]>
  /** Whole partitions whose time range ends at or before `beforeMs`; empty for a store without partitions. */
  partitionsBefore(beforeMs: number): Promise<TimePartition[]>
  /**
   * Every row of a partition, in (project, time, row number) order, `chunkSize` at a time, from one
   * snapshot (finish or abandon the iteration before dropping the partition).
   */
  scanPartition(p: TimePartition, chunkSize: number): AsyncIterable<(LoggedEvent | LoggedFeedback)[]>
  /** Statements dropping a partition, run in the audit record that closes its removal. */
  dropPartitionWrites(p: TimePartition): CompiledWrite[]
}
