/**
 * The Store port: what the collector and the readers need from storage. Adapters (`sqlite/`,
 * later `postgres/`) implement it and pass the same conformance suite
 * (`store-conformance.test-suite.ts`).
 *
 * Bodies are the client's JSON text of one item (or its re-serialization when the collector had
 * to add an id). Whether a re-send is a duplicate or a conflict is decided by canonical
 * comparison (RFC 8785, `same-content.ts`) only when an id is already taken.
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
}

/** Items of many requests, written in one transaction. */
export interface WriteBatch {
  events: EventRecord[]
  feedback: FeedbackRecord[]
}

/**
 * What happened to one item: stored now, already stored with identical content, or already
 * stored with different content (left unchanged).
 */
export type WriteOutcome = 'inserted' | 'duplicate' | 'conflict'

/** Result of {@link Store.writeBatch}; outcome arrays are parallel to the batch's arrays. */
export interface WriteResult {
  /** Sequence number of the committed batch (the future audit-chain unit). */
  batchSeq: number
  events: WriteOutcome[]
  feedback: WriteOutcome[]
}

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

/** Scopes an API key can carry. `admin` implies the others. */
export type Scope = 'ingest' | 'read' | 'admin'

/** A stored API key (never the key itself: only its hash). */
export interface ApiKeyRecord {
  id: string
  project: string
  name: string
  /** SHA-256 of the whole key, hex. */
  hash: string
  scopes: Scope[]
  createdMs: number
  revokedMs: number | null
  /** When the key stops working, epoch ms; `null` never. */
  expiresMs: number | null
}

/** The storage port. All methods are async so network databases fit behind it. */
export interface Store {
  /** Adapter name, e.g. `sqlite`. */
  readonly kind: string
  /** Creates or upgrades the schema; safe to call on every start. */
  migrate(): Promise<void>
  /** Writes all items in one durable transaction; resolves only after commit. */
  writeBatch(batch: WriteBatch): Promise<WriteResult>
  getEvent(project: string, id: string): Promise<StoredRow | undefined>
  /** Feedback items of one event, oldest first. */
  feedbackForEvent(project: string, eventId: string): Promise<StoredRow[]>
  /** Events whose `shadow_of` is `id`, oldest first. */
  shadowsOf(project: string, id: string): Promise<StoredRow[]>
  listEvents(project: string, filter: EventFilter, limit: number, cursor?: Cursor): Promise<Page>
  listFeedback(project: string, filter: FeedbackFilter, limit: number, cursor?: Cursor): Promise<Page>
  createApiKey(key: ApiKeyRecord): Promise<void>
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>
  listApiKeys(project?: string): Promise<ApiKeyRecord[]>
  revokeApiKey(id: string, atMs: number): Promise<boolean>
  /** Number of keys neither revoked nor expired at `nowMs`. */
  countActiveApiKeys(nowMs: number): Promise<number>
  /** Cheap liveness check of the storage. */
  ping(): Promise<void>
  close(): Promise<void>
}
