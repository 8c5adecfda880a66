/**
 * The port the compiler reads the log through. The server implements it over each store
 * (SQLite, PostgreSQL); {@link createMemorySource} implements it in memory for tests.
 *
 * The log is ordered by commit: `batch` (the committed transaction, increasing) then `seq` (the
 * row's order inside the store). A build pins `watermark()` once and reads only rows at or below
 * it, events and feedback alike, which is what makes a rebuild at the same watermark identical.
 */

/** A stored event as the store keeps it: the exact JSON text the client sent (or its re-serialization). */
export interface SourceEvent {
  id: string
  /** The committed batch (transaction) that stored it. */
  batch: number
  /** Its order in the store; unique per project, increasing inside a batch. */
  seq: number
  /** `ts` as epoch ms (the receipt time when the client sent none). */
  tsMs: number
  /** The stored JSON text of the event. */
  body: string
  /**
   * Optional: a string that ends with `body`, the one it was cut from (a store's packed row). The
   * compiler then reads the body inside it: V8 reads a sliced string's characters more slowly than
   * those of the string it points into (objectSpans of a 1.2 KB body: ~30% slower).
   */
  host?: string
}

/** A stored feedback item. */
export interface SourceFeedback {
  id: string
  eventId: string
  name: string
  /** `ts` as epoch ms (the receipt time when the client sent none). */
  tsMs: number
  batch: number
  seq: number
  /** The stored JSON text of the item. */
  body: string
  /** Optional: a string that ends with `body` (see {@link SourceEvent.host}). */
  host?: string
  /**
   * Optional: the position of its event in the `eventIds` of the {@link DatasetSource.feedbackFor}
   * call that returned it (in the chunk's `events` for a {@link JoinedChunk}). A source sets it on
   * every item of an answer or on none; the compiler then groups the items by it instead of by
   * `eventId` (a map keyed by id strings: hashing and comparing ids cut out of stored rows).
   */
  eventIndex?: number
}

/**
 * The indexed part of a selection, applied by the store. Times are epoch ms, `fromMs` inclusive and
 * `toMs` exclusive on the event's `ts` (as `GET /v1/events`). Every key is an exact match; `status`
 * is always set by the compiler (`ok` unless the spec selects `error`).
 */
export interface ScanFilter {
  model?: string
  /** Any of these `model.version`s. */
  versions?: string[]
  /** `model.stage`, `primary` when the event has none. */
  stage?: string
  /** `ok` when the event has none. */
  status?: string
  fromMs?: number
  toMs?: number
  sessionId?: string
  userId?: string
  /** `context.experiment.arm`. */
  arm?: string
}

/** Which committed batches a scan reads: `afterBatch < batch <= upToBatch`. */
export interface ScanBounds {
  /** Exclusive lower bound; default: from the start of the log. */
  afterBatch?: number
  /** Inclusive upper bound: the pinned watermark. */
  upToBatch: number
}

/** A record erased (or removed by retention) whose batch is at or below a watermark. */
export interface ErasedRecord {
  kind: 'event' | 'feedback'
  id: string
  batch: number
}

/** One chunk of a {@link DatasetSource.scanJoined} scan: events and the feedback of those events. */
export interface JoinedChunk {
  events: SourceEvent[]
  /** What `feedbackFor(project, ids of events, upToBatch, names)` returns for these events, in any order. */
  feedback: SourceFeedback[]
}

/** Read access to one store's log, as the dataset compiler needs it. */
export interface DatasetSource {
  /** Highest committed batch of the project's log now: the watermark a build pins. 0 for an empty log. */
  watermark(project: string): Promise<number>
  /**
   * Events matching `filter` with `afterBatch < batch <= upToBatch`, in ascending commit order
   * (batch, then seq), in chunks of about `chunkSize` (default 1000), holding one chunk at a time.
   * The compiler may stop early (`limit`); the iterator's `return()` must release the cursor.
   */
  scanEvents(project: string, filter: ScanFilter, bounds: ScanBounds, chunkSize?: number): AsyncIterable<SourceEvent[]>
  /**
   * Feedback items of these events with `batch <= upToBatch`, in any order. Called once per chunk
   * of events (never once per event). `names`, when given, is a hint: the compiler only needs
   * items with one of these names and ignores the others, so a store may filter on it.
   */
  feedbackFor(project: string, eventIds: string[], upToBatch: number, names?: string[]): Promise<SourceFeedback[]>
  /**
   * Optional: `scanEvents` with each chunk's feedback (`names`, `batch <= bounds.upToBatch`) read
   * along, so a source can read ahead of the compiler (e.g. on another thread). When present, the
   * compiler uses it instead of `scanEvents` + `feedbackFor` whenever the spec joins feedback; it
   * must yield the same events in the same chunks' order, and for every event the same items.
   */
  scanJoined?(project: string, filter: ScanFilter, bounds: ScanBounds, chunkSize: number, names: string[]): AsyncIterable<JoinedChunk>
  /**
   * Records committed at or below `upToBatch` that were erased or removed by retention since, so a
   * manifest can record what a rebuild left out, in chunks, ordered by batch then id (the manifest
   * hashes them in that order). Optional: a store without erasure omits it.
   */
  erased?(project: string, upToBatch: number): AsyncIterable<ErasedRecord[]>
}
