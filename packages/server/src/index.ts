export { createApp, type AppOptions, type InferlogApp } from './http/create-app.js'
export { keyView } from './http/routes/key-routes.js'
export {
  createLogger,
  stderrLogger,
  silentLogger,
  RateLimitedNote,
  type Logger,
  type LoggerOptions,
  type LogFields,
} from './logging/logger.js'
export { MemoryBudget, MemoryHold, parseCost } from './http/memory-budget.js'
export { bodyFormat, type BodyFormat } from './http/content-type.js'
export { startServer, SERVER_INFO_FILE, type RunningServer, type ServerInfo } from './server.js'
export {
  resolveServerConfig,
  isLoopbackHost,
  DEFAULT_LIMITS,
  DEFAULT_WRITE_QUEUE,
  DEFAULT_HTTP,
  DEFAULT_AUTH,
  DEFAULT_PRIVACY,
  type PrivacyConfig,
  type HttpConfig,
  type AuthConfig,
  type ServerConfig,
  type ServerConfigInput,
  type LimitsConfig,
  type WriteQueueConfig,
  type AuditConfig,
} from './config.js'
export { InferlogError, isInferlogError } from './errors.js'
export { createMetrics, type ServerMetrics } from './metrics.js'
export { IngestService, type IngestKind } from './ingest/ingest-service.js'
export { WriteQueue, type GroupWriter } from './ingest/write-queue.js'
export { writeIsolating, type RefusedItem } from './ingest/write-isolating.js'
export { openDirectIngest } from './direct-ingest.js'
export { parseNdjson, parseJsonBody, isNdjson, type ParsedItem } from './ingest/parse-items.js'
export { ReadService, materializeEvent, materializeFeedback, type EventDetail, type ListReply } from './query/read-service.js'
export { openStore, parsePostgresUrl, type OpenStoreOptions } from './store/open-store.js'
export { PostgresStore, type PostgresStoreOptions, type ConflictRecord } from './store/postgres/postgres-store.js'
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite/sqlite-store.js'
export type * from './store/store.js'
export { createApiKey, revokeApiKey, hashApiKey, parseScopes, checkKeyName, checkProjectName, SCOPES } from './auth/api-keys.js'
export { Authenticator, presentedKey, type Principal, type AuthenticatorOptions } from './auth/authenticator.js'
export type { Queue, QueueDelivery } from './queue/queue.js'
export { openQueue, type OpenQueueOptions } from './queue/open-queue.js'
export { MemoryQueue, type MemoryQueueOptions } from './queue/memory/memory-queue.js'
export { NatsQueue, parseNatsUrl, type NatsQueueOptions } from './queue/nats/nats-queue.js'
export { QueueWriter } from './queue/queue-writer.js'
export { encodeBatch, decodeBatch, encodeInParts, batchId, BATCH_FORMAT } from './queue/batch-codec.js'
export { Worker, type WorkerOptions, type WorkerStats } from './worker/worker.js'
export { createWorkerMetrics, type WorkerMetrics } from './worker/worker-metrics.js'
export { startWorker, type WorkerConfig, type RunningWorker } from './worker/start-worker.js'
export { FeedRunner, type FeedRunnerOptions, type FeedProgress } from './feed/feed-runner.js'
export type { CommitFeed } from './feed/commit-feed.js'
export { FeedThread, feedThreadScript, type FeedThreadOptions } from './feed/feed-thread.js'
export type { FeedConsumer, FeedContext } from './feed/feed-consumer.js'
export { CatalogConsumer, type CatalogModel } from './feed/catalog-consumer.js'
export { migrateDerived, type DerivedMigration } from './feed/derived-schema.js'
export { defaultConsumers } from './feed/default-consumers.js'
export { CONSUMER_NAMES, type ConsumerSelection, parseConsumerSelection } from './feed/consumer-selection.js'
export { NoopConsumer } from './feed/noop-consumer.js'
export { ModelConfigs, type ModelConfig, parseModelConfig } from './monitoring/model-config.js'
export { ProfilesConsumer, type ProfilesConsumerOptions } from './monitoring/profiles-consumer.js'
export { HourlyProfiles, coveredSpan, type CoveredSpan, type HourlyWindow } from './monitoring/hourly-profiles.js'
export { feedMetrics } from './feed/feed-metrics.js'
export { storeDatasetSource } from './datasets/store-dataset-source.js'
export { readAheadDatasetSource, type ReadAheadOptions } from './datasets/read-ahead-source.js'
export { buildThreads, DatasetBuilds, type BuiltDataset } from './datasets/dataset-builds.js'
export {
  threadRangeCompiler,
  defaultDatasetWorkers,
  sharableStore,
  type ThreadRangeCompiler,
  type ThreadRangeCompilerOptions,
} from './datasets/thread-range-compiler.js'
export {
  appendAuditRecord,
  type AuditRecordInput,
  type AuditActor,
  type AppendedAuditRecord,
  type AuditRecordType,
} from './audit/audit-records.js'
export { LeafHasher, leafHashHex, keyForm, sha256, type LeafKind } from './audit/leaf-hash.js'
export {
  merkleRoot,
  inclusionPath,
  verifyInclusion,
  chainHead,
  nodeHash,
  sortLeaves,
  tombstonesRoot,
  tombstoneHash,
  GENESIS_HEAD,
  type ChainLink,
  type TombstoneEntry,
} from './audit/merkle.js'
export {
  AuditChainConsumer,
  AUDIT_CONSUMER,
  ensureAuditTables,
  sealedHead,
  batchLeaves,
  type SealedHead,
} from './audit/audit-chain-consumer.js'
export {
  signCheckpoint,
  verifyCheckpoint,
  checkpointMessage,
  keyId,
  loadAuditKey,
  loadPublicKeys,
  CHECKPOINT_ORIGIN,
  type Checkpoint,
  type CheckpointBody,
  type CheckpointCheck,
} from './audit/checkpoint.js'
export { DatasetTriggers, type DatasetTriggersOptions, TRIGGER_LEASE } from './datasets/dataset-triggers.js'
export { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER, DELIVERY_HEADER } from './datasets/trigger-webhook.js'
export { verifyChain, type VerifyReport, type VerifyProblem, type VerifyOptions, type VerifyCode } from './audit/verify-chain.js'
export { latestCheckpoint, readSealed, sealedBatch, storedCheckpoints, type SealedBatch } from './audit/sealed-batches.js'
export { ErasureService, type ErasureServiceOptions, type ErasureReport } from './privacy/erasure-service.js'
export { parseErasureRequest, type ErasureRequest, type ErasureSelector } from './privacy/erasure-request.js'
export { pseudonymizeUserId } from './privacy/pseudonymize.js'
export { storeErasure, storeRedaction, storeRetention, type StoreErasureOptions } from './privacy/store-erasure.js'
export { RedactionRules, parseRedactionRules, type RedactionRuleSet, type RedactionRulesOptions } from './privacy/redaction-rules.js'
export { RetentionPolicies, parseRetentionPolicy, type RetentionPolicy } from './privacy/retention-policies.js'
export { RetentionService, type RetentionReport } from './privacy/retention-service.js'
export { RetentionScheduler, RETENTION_LEASE, type RetentionSchedulerOptions } from './privacy/retention-scheduler.js'
export { buildInclusionProof, eventLeafFields, type InclusionProof, type EventLeafFields, type ProofLink } from './audit/inclusion-proof.js'
export { checkProof, type ProofCheck } from './audit/check-proof.js'
export { AuditCheckpointer, DEFAULT_CHECKPOINT_INTERVAL_MS, type AuditCheckpointerOptions } from './audit/audit-checkpointer.js'
export { auditMetrics } from './audit/audit-metrics.js'
export { exportLog, EXPORT_FORMAT, type ExportLine } from './audit/export-log.js'
export { importLog, ImportStopped, type ImportReport, type ImportOptions } from './audit/import-log.js'
export { verifyChainParallel, type ParallelVerifyOptions } from './audit/verify-parallel.js'
