/** Point reads and keyset-paginated lists, newest first: what the query API serves. */

/** A stored row with its position for keyset pagination. */
export interface StoredRow {
  seq: number
  tsMs: number
  receivedMs: number
  body: string
}

/** Keyset position: rows strictly older than this (ts, seq) pair come next. */
export interface Cursor {
  tsMs: number
  seq: number
}

/** Filters of `GET /v1/events`. Times are epoch ms, `from` inclusive, `to` exclusive. */
export interface EventFilter {
  model?: string
  version?: string
  /** Any of these versions (a FILTER's `version` given as a list). */
  versions?: string[]
  stage?: string
  status?: string
  fromMs?: number
  toMs?: number
  sessionId?: string
  userId?: string
  arm?: string
  hasFeedback?: boolean
  /** Only events with at least one feedback item of this name. */
  feedbackName?: string
}

/** Filters of `GET /v1/feedback`. */
export interface FeedbackFilter {
  eventId?: string
  name?: string
  fromMs?: number
  toMs?: number
}

/** One page of a keyset-paginated list, newest first. */
export interface Page {
  rows: StoredRow[]
  next: Cursor | null
}

/** Reads of single records and pages. */
export interface RecordReader {
  getEvent(project: string, id: string): Promise<StoredRow | undefined>
  /** Feedback items of one event, oldest first. */
  feedbackForEvent(project: string, eventId: string): Promise<StoredRow[]>
  /** Events whose `shadow_of` is `id`, oldest first. */
  shadowsOf(project: string, id: string): Promise<StoredRow[]>
  listEvents(project: string, filter: EventFilter, limit: number, cursor?: Cursor): Promise<Page>
  listFeedback(project: string, filter: FeedbackFilter, limit: number, cursor?: Cursor): Promise<Page>
}
