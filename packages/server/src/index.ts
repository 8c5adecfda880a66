export { createApp, stderrLogger, type AppOptions, type InferlogApp, type Logger } from './app.js'
export { startServer, type RunningServer } from './server.js'
export {
  resolveServerConfig,
  isLoopbackHost,
  DEFAULT_LIMITS,
  DEFAULT_WRITE_QUEUE,
  type ServerConfig,
  type ServerConfigInput,
  type LimitsConfig,
  type WriteQueueConfig,
} from './config.js'
export { InferlogError, isInferlogError } from './errors.js'
export { createMetrics, type ServerMetrics } from './metrics.js'
export { IngestService, type IngestKind } from './ingest/ingest-service.js'
export { WriteQueue, type CommitListener } from './ingest/write-queue.js'
export { parseNdjson, parseJsonBody, isNdjson, type ParsedItem } from './ingest/parse-items.js'
export { ReadService, materializeEvent, materializeFeedback, type EventDetail, type ListReply } from './query/read-service.js'
export { openStore, parsePostgresUrl, type OpenStoreOptions } from './store/open-store.js'
export { PostgresStore, type PostgresStoreOptions, type ConflictRecord } from './store/postgres/postgres-store.js'
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite/sqlite-store.js'
export type * from './store/store.js'
export { createApiKey, hashApiKey, parseScopes, SCOPES } from './auth/api-keys.js'
export { Authenticator, type Principal } from './auth/authenticator.js'
