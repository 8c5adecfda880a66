import type { IngestReply } from './error-codes.js'

/** Which record a direct ingest carries. */
export type DirectIngestKind = 'event' | 'feedback'

/**
 * What a direct ingest answered: the same status and reply as `POST /v1/events` (or
 * `/v1/feedback`) would give, without HTTP. Request-level failures are answered, not thrown.
 */
export interface DirectIngestResult {
  /** 200 all stored, 207 some rejected; otherwise the status of the request-level error (413, 503…). */
  status: number
  /** The per-item reply of a 200 or 207. */
  reply?: IngestReply
  /** The stable `error.code` of a request-level failure (`too_many_items`, `overloaded`…). */
  errorCode?: string
  message?: string
  /** How long the store asks to wait before retrying (the `Retry-After` of HTTP), ms. */
  retryAfterMs?: number
}

/** An open direct-to-store ingest: the collector's own pipeline (validation, idempotency, group commit) in this process. */
export interface DirectIngest {
  /**
   * Ingests an NDJSON body (one item per line, uncompressed) for a project; resolves after the
   * commit that holds its items.
   */
  ingestNdjson(kind: DirectIngestKind, project: string, body: Uint8Array): Promise<DirectIngestResult>
  /** Waits for queued writes to commit and closes the store. Idempotent. */
  close(): Promise<void>
}

/** Options of {@link DirectIngestModule.openDirectIngest}. */
export interface DirectIngestOptions {
  /** Receives the store's warnings and the ingest pipeline's error lines. Default: dropped. */
  onWarning?: (message: string) => void
}

/**
 * The entry point `@inferlog/server` exports for in-process ingest (the SDK's `store` option).
 * Declared here, once, so the SDK depends on this shape and never on the server's internals.
 */
export interface DirectIngestModule {
  /**
   * Opens (and migrates) the store at `storeUrl` (`sqlite:<path>`, `postgres://…`) and the ingest
   * pipeline over it. Rejects when the store cannot be opened.
   */
  openDirectIngest(storeUrl: string, options?: DirectIngestOptions): Promise<DirectIngest>
}
