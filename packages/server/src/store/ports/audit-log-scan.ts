import type { LoggedAuditRecord } from './audit-log.js'
import type { CommittedBatch, LoggedEvent, LoggedFeedback } from './log-scanner.js'

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

/**
 * One row as the leaf scan ({@link AuditScan.scanLeafRows}) reads it: its row number, the batch it
 * claims, its leaf columns before the body as one text, and its body as stored.
 *
 * The text holds each leaf column in the leaf's order (docs/audit.md, without the kind and the
 * body) as `v` and the value (an integer as decimal text), or `n` alone for a null, or `x` alone
 * for a value of another type than the column's (a blob in a text column, text in an integer
 * column…), each ended by U+0000. A value that holds U+0000 itself makes more fields than the
 * kind has, which tells the reader to hash that row from its columns instead.
 */
export type LeafScanRow = readonly [seq: number, batch: number, fields: string, body: unknown]

/** A committed batch as the leaf scan reads it: its rows of each kind in row order. */
export interface LeafScanBatch {
  position: number
  committedMs: number
  events: LeafScanRow[]
  feedback: LeafScanRow[]
  audit: LeafScanRow[]
  /**
   * The rows' leaf hashes when the store computed them itself (PostgreSQL's `sha256()`): 32 bytes
   * per row, events then feedback then records, each in row order; the rows then carry an empty
   * text and a null body. Absent when the store did not, or could not for every row (a key column
   * longer than 256 bytes): the rows' text is then hashed, or the rows are read as objects.
   */
  leaves?: Buffer
}

/** One step of {@link AuditScan.scanLeafRows}. */
export interface LeafScanChunk {
  /** Consecutive committed batches in commit order with every row that claims them. */
  batches: LeafScanBatch[]
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

  /**
   * {@link scanForVerify} reading only what a leaf hashes, without making an object per row (see
   * {@link LeafScanRow}): the same batches, rows and stray rows. Optional: `verify` uses it when
   * the store has it and {@link rowsBySeq} to name rows and to hash unusual ones.
   *
   * `strays`: rows stored past the range that claim a batch in it are looked for to the end of
   * the log (`end`, the default), or only among the rows the range's batches span (`range`: for a
   * range followed by another one whose own scan finds the rest, as `verify --jobs` splits it).
   */
  scanLeafRows?(after: number, upTo: number, chunkRows?: number, strays?: 'end' | 'range'): AsyncIterable<LeafScanChunk>
  /** Rows of `kind` by row number (those that exist), in row order, with their stored columns. */
  rowsBySeq?(kind: StrayRow['kind'], seqs: readonly number[]): Promise<(LoggedEvent | LoggedFeedback | LoggedAuditRecord)[]>
}
