import pg from 'pg'
import type { AuditAppend, LoggedAuditRecord, StoredTombstone } from '../ports/audit-log.js'
import type { LeafScanChunk, VerifyChunk } from '../ports/audit-log-scan.js'
import type { CompiledWrite } from '../ports/derived-store.js'
import type { ErasedRow, RowRef, TimePartition, TimePosition } from '../ports/erasure-log.js'
import type { WriteBatch, WriteResult } from '../ports/event-log.js'
import type { ImportedBatch } from '../ports/log-import.js'
import type { ApiKeyRecord } from '../ports/key-store.js'
import type {
  CommittedBatch,
  EventBody,
  FeedbackBody,
  LoggedEvent,
  LoggedFeedback,
  ReadBatchesOptions,
  ScanBounds,
} from '../ports/log-scanner.js'
import type { Cursor, EventFilter, FeedbackFilter, Page, StoredRow } from '../ports/record-reader.js'
import type { Store } from '../store.js'
import type { PgPool, PgQueryable } from './pg-types.js'
import { PostgresAuditLog } from './postgres-audit.js'
import { PostgresDerivedStore } from './postgres-derived.js'
import { PostgresImporter } from './postgres-import.js'
import { PostgresErasureReader, postgresErasureWrites } from './postgres-erasure.js'
import { PostgresKeyStore } from './postgres-keys.js'
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js'
import { PartitionManager, type PartitionWindowOptions } from './postgres-partitions.js'
import { PostgresRecordReader } from './postgres-reads.js'
import { PostgresLogScanner } from './postgres-scans.js'
import { isPostgresDataError, PostgresWriter } from './postgres-writer.js'
import { PostgresRetention } from './postgres-retention.js'

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  connectionString: string
  /**
   * Schema holding the tables (created if missing). Default: the server's search path, normally
   * `public`. Lower-case letters, digits and `_`.
   */
  schema?: string
  /** Most connections this process opens. Default 8. */
  poolSize?: number
  /** Window of months in which monthly partitions are created; see {@link PartitionManager}. */
  partitions?: Omit<PartitionWindowOptions, 'onWarning'>
  /** Told about conditions worth an operator's look (a month kept in the default partition, a dropped idle connection). */
  onWarning?: (message: string) => void
  /** A pool to use instead of opening one (tests); the store then does not end it. */
  pool?: PgPool
}

/** One refused re-send, as kept in the `conflicts` table. */
export interface ConflictRecord {
  seq: number
  kind: 'event' | 'feedback'
  project: string
  id: string
  seenMs: number
  batch: number
  /** The refused content; the stored one is unchanged. */
  body: string
}

const INT8_OID = 20

/**
 * The scale-out store: PostgreSQL through `pg`. Each concern lives in its own file
 * (`postgres-writer`, `-reads`, `-scans`, `-keys`, `-derived`); this class opens the pool, runs
 * migrations and wires them together. See `postgres-migrations.ts` for the layout.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres'
  readonly schema: string | undefined
  readonly derived: PostgresDerivedStore
  private readonly pool: PgPool
  private readonly ownsPool: boolean
  private readonly partitions: PartitionManager
  private readonly writer: PostgresWriter
  private readonly reads: PostgresRecordReader
  private readonly scans: PostgresLogScanner
  private readonly keys: PostgresKeyStore
  private readonly audit: PostgresAuditLog
  private readonly importer: PostgresImporter
  private readonly retention: PostgresRetention
  private readonly erasure: PostgresErasureReader
  private closed: Promise<void> | undefined

  constructor(options: PostgresStoreOptions) {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new Error(`schema name ${JSON.stringify(options.schema)} must be lower-case letters, digits and _`)
    }
    this.schema = options.schema
    const warn = options.onWarning ?? (() => {})
    if (options.pool) {
      this.pool = options.pool
      this.ownsPool = false
    } else {
      const pool = new pg.Pool({
        connectionString: options.connectionString,
        max: options.poolSize ?? 8,
        ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
        // Epoch milliseconds and sequence numbers fit a double exactly (< 2^53).
        types: {
          getTypeParser: ((oid: number, format: 'text' | 'binary') =>
            oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
        },
      })
      // A connection dropped by a server restart must not crash the process, whether it is idle in
      // the pool or checked out between two statements; the statement in flight fails, the next
      // one reconnects.
      pool.on('error', (e) => warn(`postgres: idle connection lost: ${e.message}`))
      pool.on('connect', (client) => client.on('error', (e) => warn(`postgres: connection lost: ${e.message}`)))
      this.pool = pool as unknown as PgPool
      this.ownsPool = true
    }
    this.partitions = new PartitionManager(this.pool, { ...options.partitions, onWarning: warn })
    this.writer = new PostgresWriter(this.pool, this.partitions)
    this.reads = new PostgresRecordReader(this.pool)
    this.audit = new PostgresAuditLog(this.pool)
    this.importer = new PostgresImporter(this.pool, this.partitions)
    this.scans = new PostgresLogScanner(this.pool, async () => (await import('pg-cursor')).default as never, this.audit)
    this.keys = new PostgresKeyStore(this.pool)
    this.retention = new PostgresRetention(this.pool, async () => (await import('pg-cursor')).default as never)
    this.erasure = new PostgresErasureReader(this.pool)
    this.derived = new PostgresDerivedStore(this.pool, this.pool)
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`inferlog.migrate.${this.schema ?? ''}`])
      if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`)
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_ms bigint NOT NULL)')
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version))
      for (const m of POSTGRES_MIGRATIONS) {
        if (done.has(m.version)) continue
        await client.query(m.sql)
        await client.query('INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)', [m.version, Date.now()])
      }
      await client.query('COMMIT')
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {})
      throw e
    } finally {
      client.release()
    }
    await this.partitions.load()
    await this.partitions.ensure([Date.now()])
  }

  writeBatch(batch: WriteBatch): Promise<WriteResult> {
    return this.writer.writeBatch(batch)
  }
  isDataError(error: unknown): boolean {
    return isPostgresDataError(error)
  }

  getEvent(project: string, id: string): Promise<StoredRow | undefined> {
    return this.reads.getEvent(project, id)
  }
  feedbackForEvent(project: string, eventId: string): Promise<StoredRow[]> {
    return this.reads.feedbackForEvent(project, eventId)
  }
  shadowsOf(project: string, id: string): Promise<StoredRow[]> {
    return this.reads.shadowsOf(project, id)
  }
  listEvents(project: string, filter: EventFilter, limit: number, cursor?: Cursor): Promise<Page> {
    return this.reads.listEvents(project, filter, limit, cursor)
  }
  listFeedback(project: string, filter: FeedbackFilter, limit: number, cursor?: Cursor): Promise<Page> {
    return this.reads.listFeedback(project, filter, limit, cursor)
  }

  commitHead(): Promise<number> {
    return this.scans.commitHead()
  }
  readBatches(after: number, options?: ReadBatchesOptions): Promise<CommittedBatch[]> {
    return this.scans.readBatches(after, options)
  }
  scanEvents(project: string, filter: EventFilter, bounds: ScanBounds, chunkSize?: number): AsyncIterable<LoggedEvent[]> {
    return this.scans.scanEvents(project, filter, bounds, chunkSize)
  }
  feedbackForEvents(project: string, eventIds: readonly string[], upTo: number): Promise<LoggedFeedback[]> {
    return this.scans.feedbackForEvents(project, eventIds, upTo)
  }
  scanEventBodies(project: string, filter: EventFilter, bounds: ScanBounds, chunkSize?: number): AsyncIterable<EventBody[]> {
    return this.scans.scanEventBodies(project, filter, bounds, chunkSize)
  }
  feedbackBodies(project: string, eventIds: readonly string[], upTo: number, names?: readonly string[]): Promise<FeedbackBody[]> {
    return this.scans.feedbackBodies(project, eventIds, upTo, names)
  }
  eventsByIds(project: string, ids: readonly string[]): Promise<LoggedEvent[]> {
    return this.scans.eventsByIds(project, ids)
  }
  shadowsFor(project: string, primaryIds: readonly string[], upTo: number): Promise<LoggedEvent[]> {
    return this.scans.shadowsFor(project, primaryIds, upTo)
  }

  importBatch(batch: ImportedBatch): Promise<void> {
    return this.importer.importBatch(batch)
  }
  appendAudit(entry: AuditAppend): Promise<{ batchSeq: number }> {
    return this.audit.appendAudit(entry)
  }
  tombstonesIn(after: number, upTo: number): Promise<StoredTombstone[]> {
    return this.audit.tombstonesIn(after, upTo)
  }
  tombstonesOf(kind: 'event' | 'feedback', project: string, ids: readonly string[]): Promise<StoredTombstone[]> {
    return this.audit.tombstonesOf(kind, project, ids)
  }
  auditRecords(project: string, limit?: number): Promise<LoggedAuditRecord[]> {
    return this.audit.auditRecords(project, limit)
  }
  scanForVerify(after: number, upTo: number, chunkRows?: number): AsyncIterable<VerifyChunk> {
    return this.audit.scanForVerify(after, upTo, chunkRows)
  }
  scanLeafRows(after: number, upTo: number, chunkRows?: number, strays?: 'end' | 'range'): AsyncIterable<LeafScanChunk> {
    return this.audit.scanLeafRows(after, upTo, chunkRows, strays)
  }
  rowsBySeq(kind: 'event' | 'feedback' | 'audit', seqs: readonly number[]): Promise<(LoggedEvent | LoggedFeedback | LoggedAuditRecord)[]> {
    return this.audit.rowsBySeq(kind, seqs)
  }
  erasureWrites(project: string, rows: readonly RowRef[]): CompiledWrite[] {
    return postgresErasureWrites(project, rows)
  }
  scanTombstones(project: string, upTo: number, chunkSize?: number): AsyncIterable<ErasedRow[]> {
    return this.erasure.scanTombstones(project, upTo, chunkSize)
  }
  expiredEvents(project: string, beforeMs: number, limit: number, after?: TimePosition): Promise<LoggedEvent[]> {
    return this.retention.expiredEvents(project, beforeMs, limit, after)
  }
  expiredFeedback(project: string, beforeMs: number, limit: number, after?: TimePosition): Promise<LoggedFeedback[]> {
    return this.retention.expiredFeedback(project, beforeMs, limit, after)
  }
  partitionsBefore(beforeMs: number): Promise<TimePartition[]> {
    return this.retention.partitionsBefore(beforeMs)
  }
  scanPartition(p: TimePartition, chunkSize: number): AsyncIterable<(LoggedEvent | LoggedFeedback)[]> {
    return this.retention.scanPartition(p, chunkSize)
  }
  dropPartitionWrites(p: TimePartition): CompiledWrite[] {
    return this.retention.dropPartitionWrites(p)
  }

  createApiKey(k: ApiKeyRecord): Promise<void> {
    return this.keys.createApiKey(k)
  }
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.keys.findApiKeyByHash(hash)
  }
  listApiKeys(project?: string): Promise<ApiKeyRecord[]> {
    return this.keys.listApiKeys(project)
  }
  revokeApiKey(id: string, atMs: number): Promise<boolean> {
    return this.keys.revokeApiKey(id, atMs)
  }
  countActiveApiKeys(nowMs: number): Promise<number> {
    return this.keys.countActiveApiKeys(nowMs)
  }

  /** Refused re-sends, newest first (operators: `SELECT * FROM conflicts ORDER BY seq DESC`). */
  async listConflicts(limit = 100): Promise<ConflictRecord[]> {
    const r = await this.pool.query<ConflictRecord>(
      `SELECT seq, kind, project, id, seen_ms AS "seenMs", batch, body FROM conflicts ORDER BY seq DESC LIMIT $1`,
      [limit],
    )
    return r.rows
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1')
  }

  /** The pool, for tools and tests that inspect the tables. */
  get queryable(): PgQueryable {
    return this.pool
  }

  async close(): Promise<void> {
    this.closed ??= this.ownsPool ? this.pool.end() : Promise.resolve()
    return this.closed
  }
}
