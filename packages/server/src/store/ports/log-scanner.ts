import type { LoggedAuditRecord } from './audit-log.js'
import type { PARSED_BODY } from './parsed-body.js'
import type { EventFilter } from './record-reader.js'

/**
 * The log as readers that derive state see it: committed batches in commit order (the commit
 * feed), and streaming scans bounded by a commit position so rows committed during a scan never
 * appear in it.
 *
 * A **commit position** is a batch's place in commit order: 1, 2, 3… with every position up to
 * the head committed and visible. SQLite's single writer makes its batch numbers that order;
 * PostgreSQL, whose concurrent writers commit out of sequence order, stamps positions after
 * commit with a single sequencer.
 */

/** An event row as the log holds it. */
export interface LoggedEvent {
  project: string
  id: string
  /** Row number: ascending within a batch and across batches of the same store. */
  seq: number
  /** Commit position of the batch that inserted it. */
  batch: number
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
  /** The stored JSON text. */
  body: string
  /** `body` parsed, when this process has it (read it with `parsedBody`, never mutate it). */
  [PARSED_BODY]?: unknown
}

/** A feedback row as the log holds it. */
export interface LoggedFeedback {
  project: string
  id: string
  seq: number
  /** Commit position of the batch that inserted it. */
  batch: number
  eventId: string
  name: string
  tsMs: number
  receivedMs: number
  body: string
  /** As on {@link LoggedEvent}. */
  [PARSED_BODY]?: unknown
}

/** An event's stored text and its place in the log: all a dataset build reads of it. */
export interface EventBody {
  id: string
  /** Commit position of the batch that inserted it. */
  batch: number
  seq: number
  tsMs: number
  /** The stored JSON text. */
  body: string
  /**
   * Optional: a string that ends with `body`, the one the store cut it from (SQLite's packed row).
   * V8 reads a sliced string's characters more slowly than those of the string it points into, so
   * the dataset compiler scans the body there (`SourceEvent.host`).
   */
  host?: string
}

/** A feedback item's stored text and its place in the log. */
export interface FeedbackBody {
  id: string
  eventId: string
  name: string
  tsMs: number
  /** Commit position of the batch that inserted it. */
  batch: number
  seq: number
  body: string
  /** Optional: a string that ends with `body` (see {@link EventBody.host}). */
  host?: string
  /**
   * Optional: the position of its event in the `eventIds` of the {@link LogScanner.feedbackBodies}
   * call that returned it; a store sets it on every item of an answer or on none.
   */
  eventIndex?: number
}

/** One committed batch with the rows it inserted (never the duplicates or conflicts it refused). */
export interface CommittedBatch {
  position: number
  committedMs: number
  events: LoggedEvent[]
  feedback: LoggedFeedback[]
  /** Administrative records it inserted (`appendAudit`); absent or empty for ingest batches. */
  audit?: LoggedAuditRecord[]
}

/** Told of a batch this process just committed, and of the commit position of the batch before it. */
export type CommitListener = (batch: CommittedBatch, after: number) => void

/**
 * Optional capability of a store whose writer runs in this process (the embedded SQLite store):
 * it hands every ingest batch it commits, with exactly the rows it inserted as they are stored,
 * to listeners, so the commit feed's consumers need not read them back. A batch the store cannot
 * vouch for (an administrative batch, a text value SQLite stores differently from the string it
 * was given) is not handed over; readers read it from the store as before. Listeners are called
 * in commit order, synchronously, and must not throw.
 */
export interface CommitTap {
  /** Starts handing committed batches to `listener`; returns the function that stops it. */
  tapCommits(listener: CommitListener): () => void
}

/** Limits of one {@link LogScanner.readBatches} call. */
export interface ReadBatchesOptions {
  /** Most batches returned. Default 100. */
  maxBatches?: number
  /** Stop adding batches once this many rows are held (a batch is never cut). Default 20 000. */
  maxRows?: number
}

/** Commit positions a scan reads: `after < batch <= upTo`. */
export interface ScanBounds {
  /** Exclusive lower bound. Default 0 (from the start). */
  after?: number
  /** Inclusive upper bound, usually the head taken when the scan started. */
  upTo: number
}

/** Reading the committed log in order. */
export interface LogScanner {
  /** The highest commit position; every batch up to it is committed and visible. 0 for an empty log. */
  commitHead(): Promise<number>
  /** Committed batches after `after`, in commit order, with their inserted rows. */
  readBatches(after: number, options?: ReadBatchesOptions): Promise<CommittedBatch[]>
  /**
   * Events of a project matching `filter` (the `GET /v1/events` filters, `versions` too) within
   * `bounds`, streamed in ascending commit order (position, then row number), `chunkSize` rows at a
   * time (default 1 000), holding one chunk in memory.
   */
  scanEvents(project: string, filter: EventFilter, bounds: ScanBounds, chunkSize?: number): AsyncIterable<LoggedEvent[]>
  /** Events whose `shadow_of` is one of these ids (one query per call), committed at or before `upTo`, any order. */
  shadowsFor(project: string, primaryIds: readonly string[], upTo: number): Promise<LoggedEvent[]>
  /** Events of a project with these ids (one query per call), any order; unknown ids are left out. */
  eventsByIds(project: string, ids: readonly string[]): Promise<LoggedEvent[]>
  /** Feedback of these events committed at or before `upTo` (one query per call, not per event), any order. */
  feedbackForEvents(project: string, eventIds: readonly string[], upTo: number): Promise<LoggedFeedback[]>
  /**
   * {@link scanEvents} reading only what a dataset build needs (id, position, row number, time,
   * stored text): the same rows in the same order and chunks, at a fraction of the cost per row
   * (no indexed columns decoded, no row objects built by the driver).
   */
  scanEventBodies(project: string, filter: EventFilter, bounds: ScanBounds, chunkSize?: number): AsyncIterable<EventBody[]>
  /** {@link feedbackForEvents} with only what a dataset build needs, and only items named one of `names` when given. */
  feedbackBodies(project: string, eventIds: readonly string[], upTo: number, names?: readonly string[]): Promise<FeedbackBody[]>
}
