import type { PARSED_BODY } from './parsed-body.js'

/**
 * The event log: what ingest writes. Bodies are the client's JSON text of one item (or its
 * re-serialization when the collector had to add an id). Whether a re-send is a duplicate or a
 * conflict is decided by canonical comparison (RFC 8785, `same-content.ts`) only when an id is
 * already taken.
 */

/** One event ready to write: indexed columns plus the canonical body. */
export interface EventRecord {
  project: string
  id: string
  /** Event time (from `ts`, else receipt), epoch milliseconds. */
  tsMs: number
  receivedMs: number
  model: string
  version: string
  stage: string
  status: string
  sessionId: string | null
  userId: string | null
  arm: string | null
  shadowOf: string | null
  body: string
  /**
   * Set when `body` is not what the client sent (the collector redacted it): the client's item
   * as `sentDigest` (SHA-256 of its canonical form), so that a re-send is still told duplicate or
   * conflict by what the client sent. Absent when the body is the client's.
   */
  sentDigest?: string
  /** `body` parsed, when the maker has it (never sent to another thread; see `parsed-body.ts`). */
  [PARSED_BODY]?: unknown
}

/** One feedback item ready to write. */
export interface FeedbackRecord {
  project: string
  id: string
  eventId: string
  name: string
  tsMs: number
  receivedMs: number
  body: string
  /** As {@link EventRecord.sentDigest}. */
  sentDigest?: string
  /** As on {@link EventRecord}. */
  [PARSED_BODY]?: unknown
}

/** Items of many requests, written in one transaction. */
export interface WriteBatch {
  events: EventRecord[]
  feedback: FeedbackRecord[]
}

/**
 * What happened to one item: stored now, already stored with identical content, already stored
 * with different content (left unchanged), refused by the store as data (never stored; see
 * `writeIsolating`), or refused because the record, or the event it belongs to (a feedback's
 * `event_id`, a shadow's `shadow_of`), was erased (see `ErasureLog`).
 */
export type WriteOutcome = 'inserted' | 'duplicate' | 'conflict' | 'rejected' | 'erased'

/** Result of {@link Store.writeBatch}; outcome arrays are parallel to the batch's arrays. */
export interface WriteResult {
  /** Sequence number of the committed batch (the future audit-chain unit). */
  batchSeq: number
  events: WriteOutcome[]
  feedback: WriteOutcome[]
}

/** Writing the log: one durable transaction per group commit. */
export interface EventLogWriter {
  /** Writes all items in one durable transaction; resolves only after commit. */
  writeBatch(batch: WriteBatch): Promise<WriteResult>
  /**
   * True when `error` (thrown by {@link writeBatch}) was caused by the data itself, so retrying
   * the same items can never succeed (the caller isolates the bad item instead); false for faults
   * of the store (busy, disk, connection) that a retry may outlive.
   */
  isDataError(error: unknown): boolean
}
