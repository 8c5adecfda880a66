import fs from 'node:fs'
import type { MessagePort } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import type Database from 'better-sqlite3'
import type { AuditAppend, LoggedAuditRecord, StoredTombstone } from '../ports/audit-log.js'
import type { LeafScanChunk, VerifyChunk } from '../ports/audit-log-scan.js'
import type { CompiledWrite } from '../ports/derived-store.js'
import type { ErasedRow, RowRef, TimePartition, TimePosition } from '../ports/erasure-log.js'
import type { WriteBatch, WriteResult } from '../ports/event-log.js'
import type { ImportedBatch } from '../ports/log-import.js'
import type { ApiKeyRecord } from '../ports/key-store.js'
import type {
  CommitListener,
  CommitTap,
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
import { isSqliteDataError, openSqliteConnection, type SqliteConnectionOptions } from './sqlite-connection.js'
import { SqliteAuditReader } from './sqlite-audit.js'
import { SqliteCheckpointer } from './sqlite-checkpointer.js'
import { SqliteCommitTap } from './sqlite-commit-tap.js'
import { SqliteDerivedStore } from './sqlite-derived.js'
import { SqliteErasureReader, sqliteErasureWrites } from './sqlite-erasure.js'
import { SqliteKeyStore } from './sqlite-keys.js'
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js'
import { SqliteRecordReader } from './sqlite-reads.js'
import { SqliteLogScanner } from './sqlite-scans.js'
import { SqliteWriter } from './sqlite-writer.js'
import { SqliteWriterClient } from './sqlite-writer-client.js'
import { SqliteRetention } from './sqlite-retention.js'

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions extends SqliteConnectionOptions {
  /**
   * How often the background pass indexes session/user/arm look-ups, ms. Default 1000; 0 turns
   * the timer off (call {@link SqliteStore.indexLookups} yourself). Queries are exact either way.
   */
  lookupIndexIntervalMs?: number
  /**
   * Where commits run. `thread` (what `openStore` uses): a worker thread with its own
   * connection, so request parsing goes on while a commit waits for fsync. `inline`: on the
   * calling thread. `{port}`: the writer thread of another store on the same file, reached over
   * a port its {@link SqliteStore.connectWriter} made (the commit feed's thread); this store then
   * runs no timers or checkpoints of its own. Default `inline`.
   */
  writer?: 'inline' | 'thread' | { port: MessagePort }
  /** Worker script for `writer: 'thread'`. Default: the compiled `sqlite-writer-thread.js` beside this file. */
  writerScript?: URL
}

/**
 * The embedded store: one SQLite file in WAL mode through better-sqlite3. Calls are synchronous
 * under the async port; a batch of 1 000 items commits in a few milliseconds. Each concern lives
 * in its own file (`sqlite-writer`, `-reads`, `-scans`, `-keys`, `-derived`); this class opens
 * the connection, runs migrations and wires them together.
 */
export class SqliteStore implements Store, CommitTap {
  readonly kind = 'sqlite'
  readonly filename: string
  readonly derived: SqliteDerivedStore
  private readonly readonly: boolean
  private readonly db: Database.Database
  private readonly inline: SqliteWriter | undefined
  private readonly writerClient: SqliteWriterClient | undefined
  private readonly reads: SqliteRecordReader
  private readonly scans: SqliteLogScanner
  private readonly keys: SqliteKeyStore
  private readonly audit: SqliteAuditReader
  private readonly retention: SqliteRetention
  private readonly erasure: SqliteErasureReader
  private timer: NodeJS.Timeout | undefined
  private checkpointer: SqliteCheckpointer | undefined
  private indexing = false
  private readonly tap: SqliteCommitTap
  /** Commits run in another store's writer thread (`writer: {port}`). */
  private readonly remoteWriter: boolean

  /** What the store was opened with, less the writer (for another thread opening the same file). */
  readonly connection: SqliteConnectionOptions & { lookupIndexIntervalMs?: number }

  constructor(options: SqliteStoreOptions) {
    this.filename = options.filename
    this.readonly = options.readonly ?? false
    const { writer: _writer, writerScript: _script, ...connection } = options
    this.connection = connection
    // Worker threads load compiled JS only: run from TypeScript sources (tests, tsx), the script
    // is absent and commits stay inline rather than failing every write.
    const script = options.writerScript ?? new URL('./sqlite-writer-thread.js', import.meta.url)
    const threaded =
      options.writer === 'thread' && !this.readonly && options.filename !== ':memory:' && fs.existsSync(fileURLToPath(script))
    const conn = openSqliteConnection(options)
    this.db = conn.db
    this.remoteWriter = typeof options.writer === 'object'
    if (typeof options.writer === 'object') {
      // Someone else's writer thread: it commits, indexes and is checkpointed by its owner.
      this.writerClient = new SqliteWriterClient(options.writer.port)
    } else if (threaded) {
      // The writer thread commits and indexes look-ups; this connection reads and writes keys; a
      // third thread checkpoints the WAL (PASSIVE checkpoints never block the writer).
      this.writerClient = new SqliteWriterClient({ options: { ...connection, autoCheckpoint: false }, script })
      this.checkpointer = new SqliteCheckpointer(connection, new URL('./sqlite-checkpoint-thread.js', script), () => this.checkpoint())
    } else if (!this.readonly) {
      this.inline = new SqliteWriter(this.db, conn.limitWal)
      const every = options.lookupIndexIntervalMs ?? 1000
      if (every > 0) {
        this.timer = setInterval(() => this.indexLookupsInBackground(), every)
        this.timer.unref()
      }
    }
    this.tap = new SqliteCommitTap((on) => {
      if (this.writerClient) this.writerClient.setTap(on).catch(() => undefined)
      else this.inline?.setTap(on)
    })
    this.reads = new SqliteRecordReader(this.db)
    this.audit = new SqliteAuditReader(this.db)
    this.scans = new SqliteLogScanner(this.db, this.audit)
    this.keys = new SqliteKeyStore(this.db)
    this.retention = new SqliteRetention(this.db)
    this.erasure = new SqliteErasureReader(this.db)
    this.derived = new SqliteDerivedStore(this.db, {
      advance: async (consumer, from, to, writes) =>
        this.writerClient
          ? this.writerClient.advance(consumer, from, to, writes, Date.now())
          : this.writer().advance(consumer, from, to, writes, Date.now()),
      exec: async (writes) => (this.writerClient ? this.writerClient.exec(writes) : this.writer().exec(writes)),
      claim: async (consumer, holder, ttlMs, takeOverFrom) =>
        this.writerClient
          ? this.writerClient.claim(consumer, holder, Date.now(), ttlMs, takeOverFrom)
          : this.writer().claim(consumer, holder, Date.now(), ttlMs, takeOverFrom),
    })
  }

  /**
   * A port to this store's writer thread, for a store opened on the same file in another thread
   * with `writer: {port}`; `undefined` when commits do not run in a thread of this store's.
   */
  async connectWriter(): Promise<MessagePort | undefined> {
    if (!this.hasWriterThread) return undefined
    return this.writerClient!.connect()
  }

  /** True when commits run in a writer thread this store started (`writer: 'thread'`). */
  get hasWriterThread(): boolean {
    return this.writerClient !== undefined && !this.remoteWriter
  }

  private checkpoint(): void {
    try {
      if (this.db.open) this.db.pragma('wal_checkpoint(PASSIVE)')
    } catch {
      // Busy: the next tick tries again; the WAL only grows meanwhile.
    }
  }

  private indexLookupsInBackground(): void {
    if (this.indexing || !this.db.open) return
    this.indexing = true
    const step = () => {
      try {
        if (this.db.open && this.indexLookups() > 0) {
          setImmediate(step) // more to do: let requests in between chunks
          return
        }
      } catch {
        // Busy or closing: the next tick retries; queries stay exact meanwhile.
      }
      this.indexing = false
    }
    step()
  }

  /** Indexes look-ups of up to one chunk of new events (inline writer only). Returns how many it covered. */
  indexLookups(maxRows?: number): number {
    return this.inline ? this.inline.indexLookups(maxRows) : 0
  }

  private writer(): SqliteWriter {
    if (!this.inline) throw new Error(`${this.filename} is open read-only`)
    return this.inline
  }

  async migrate(): Promise<void> {
    if (this.readonly) {
      // A read-only open never changes the file: it only checks the schema is current.
      const applied = this.db.prepare('SELECT max(version) FROM schema_migrations').pluck().get() as number | null
      const latest = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]?.version ?? 0
      if ((applied ?? 0) < latest)
        throw new Error(`${this.filename} has schema version ${applied ?? 0}; start the server once to upgrade it to ${latest}`)
      return
    }
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)')
    const done = new Set(this.db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[])
    for (const m of SQLITE_MIGRATIONS) {
      if (done.has(m.version)) continue
      this.db
        .transaction(() => {
          this.db.exec(m.sql)
          this.db.prepare('INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)').run(m.version, Date.now())
        })
        .immediate()
    }
    // Keeps planner statistics fresh so filters pick the right index (cheap; SQLite's advice).
    this.db.pragma('optimize=0x10002')
  }

  async writeBatch(batch: WriteBatch): Promise<WriteResult> {
    const r = this.writerClient ? await this.writerClient.writeBatch(batch) : this.writer().writeBatch(batch)
    if (r.commit === undefined) return r
    const { commit, ...result } = r
    this.tap.committed(batch, result, commit)
    return result
  }

  /**
   * Hands every ingest batch this store commits to `listener`, rows as stored (see `CommitTap`):
   * the commit feed's consumers then read none of them back.
   */
  tapCommits(listener: CommitListener): () => void {
    // Over another store's writer the commits are that store's: nothing to hand over here.
    if (this.remoteWriter) return () => undefined
    return this.tap.add(listener)
  }

  isDataError(error: unknown): boolean {
    return isSqliteDataError(error)
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

  async importBatch(batch: ImportedBatch): Promise<void> {
    if (this.writerClient) return this.writerClient.importBatch(batch)
    this.writer().importBatch(batch)
  }
  async appendAudit(entry: AuditAppend): Promise<{ batchSeq: number }> {
    if (this.writerClient) return this.writerClient.appendAudit(entry)
    return this.writer().appendAudit(entry)
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
    return sqliteErasureWrites(project, rows)
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

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get()
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.checkpointer?.close()
    await this.writerClient?.close()
    if (!this.db.open) return
    // Statistics are the writing owner's to refresh (PRAGMA optimize may write).
    if (!this.readonly && !this.remoteWriter) {
      try {
        this.db.pragma('optimize')
      } catch {
        // Closing must not fail because statistics could not be refreshed.
      }
    }
    this.db.close()
  }
}
