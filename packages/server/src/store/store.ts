/**
 * The Store port, split by concern so each feature widens only its part: the event log that ingest
 * writes, point reads and pages, the committed log for readers that derive state, API keys, and a
 * place for derived data. Adapters (`sqlite/`, `postgres/`) implement every part and pass one
 * conformance suite per part (`*-conformance.test-suite.ts` beside this file). Code that needs one
 * part depends on that part only.
 */
import type { AuditLog } from './ports/audit-log.js'
import type { DerivedStore } from './ports/derived-store.js'
import type { ErasureLog, RetentionLog } from './ports/erasure-log.js'
import type { EventLogWriter } from './ports/event-log.js'
import type { KeyStore } from './ports/key-store.js'
import type { LogImporter } from './ports/log-import.js'
import type { LogScanner } from './ports/log-scanner.js'
import type { RecordReader } from './ports/record-reader.js'

export type * from './ports/audit-log.js'
export type * from './ports/audit-log-scan.js'
export type * from './ports/derived-store.js'
export type * from './ports/erasure-log.js'
export type * from './ports/event-log.js'
export type * from './ports/key-store.js'
export type * from './ports/log-import.js'
export type * from './ports/log-scanner.js'
export { PARSED_BODY, parsedBody, type WithParsedBody } from './ports/parsed-body.js'
export type * from './ports/record-reader.js'

/** Opening, upgrading and closing a store. */
export interface StoreLifecycle {
  /** Adapter name, e.g. `sqlite`. */
  readonly kind: string
  /** Creates or upgrades the schema; safe to call on every start. */
  migrate(): Promise<void>
  /** Cheap liveness check of the storage. */
  ping(): Promise<void>
  close(): Promise<void>
}

/** Every part of the storage port. */
export interface Store
  extends StoreLifecycle,
    EventLogWriter,
    RecordReader,
    LogScanner,
    KeyStore,
    AuditLog,
    ErasureLog,
    RetentionLog,
    LogImporter {
  /** Derived data of feed consumers. */
  readonly derived: DerivedStore
}
