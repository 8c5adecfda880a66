import type { CommittedBatch } from './log-scanner.js'

/**
 * What `verify` reads: every stored row, wherever it is, grouped by the batch it claims. Separate
 * from the commit feed's `readBatches` (which trusts the store's own bookkeeping to find a batch's
 * rows) because a tampered store is exactly one whose bookkeeping cannot be trusted.
 */

/** A row that claims no committed batch in the scanned range, or sits out of commit order. */
export interface StrayRow {
  kind: 'event' | 'feedback' | 'audit'
  project: string
  id: string
  seq: number
  /** The batch number the row claims (a commit position, or the internal number on PostgreSQL). */
  claims: number
}

/** One step of {@link AuditScan.scanForVerify}. */
export interface VerifyChunk {
  /** Consecutive committed batches in commit order with every row that claims them. */
  batches: CommittedBatch[]
  /** Rows found out of place so far (reported once). */
  stray: StrayRow[]
}

/** The verify scan. */
export interface AuditScan {
  /**
   * Committed batches with positions in `(after, upTo]`, in commit order, each with every row of
   * every kind that claims it; and, along the way or at the end, rows that claim a batch in that
   * range but are not where that batch's rows are, or claim no committed batch at all.
   */
  scanForVerify(after: number, upTo: number, chunkRows?: number): AsyncIterable<VerifyChunk>
}
