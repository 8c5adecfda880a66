import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { sameJsonContent } from '../same-content.js'
import { eventWhere, feedbackWhere } from '../sql-filters.js'
import type {
  ApiKeyRecord,
  Cursor,
  EventFilter,
  FeedbackFilter,
  Page,
  Store,
  StoredRow,
  WriteBatch,
  WriteOutcome,
  WriteResult,
} from '../store.js'
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js'
import { SqliteWriterClient } from './sqlite-writer-client.js'
import { page, toKey, type KeyRow } from '../store-rows.js'

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file; `:memory:` for a throwaway store. Parent directories are created. */
  filename: string
  /**
   * `PRAGMA synchronous`. Default `FULL`: every commit is fsynced before it is acknowledged.
   * Group commit makes this nearly free; `NORMAL` may lose the last commits on power loss.
   */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF'
  /** Milliseconds to wait for a lock held by another process. Default 5000. */
  busyTimeoutMs?: number
  /** Open read-only (for tools inspecting a live store). Default false. */
  readonly?: boolean
  /**
   * How often the background pass indexes session/user/arm look-ups, ms. Default 1000; 0 turns
   * the timer off (call {@link SqliteStore.indexLookups} yourself). Queries are exact either way.
   */
  lookupIndexIntervalMs?: number
  /**
   * Where commits run. `thread` (what `openStore` uses): a worker thread with its own
   * connection, so request parsing goes on while a commit waits for fsync. `inline`: on the
   * calling thread. Default `inline`.
   */
  writer?: 'inline' | 'thread'
  /**
   * Whether commits also checkpoint the WAL into the database file (SQLite's default). Default
   * true. The writer thread turns it off and the main connection checkpoints instead (PASSIVE
   * checkpoints never block the writer), taking that copy-and-fsync off the commit path.
   */
  autoCheckpoint?: boolean
  /**
   * With `autoCheckpoint: false`: when the WAL file grows past this many bytes (the external
   * checkpoints did not catch up), the committing connection checkpoints and truncates it
   * itself. Default 64 MiB.
   */
  maxWalBytes?: number
  /** Worker script for `writer: 'thread'`. Default: the compiled `sqlite-writer-thread.js` beside this file. */
  writerScript?: URL
}

/**
 * Creates the missing directories above a file one level at a time. `mkdirSync({recursive: true})`
 * loops forever on some paths (under `/proc`, seen with Node 20); this fails with the first real
 * error instead.
 */
function makeParentDirs(file: string): void {
  const missing: string[] = []
  let dir = path.dirname(path.resolve(file))
  while (!fs.existsSync(dir)) {
    missing.push(dir)
    const up = path.dirname(dir)
    if (up === dir) break
    dir = up
  }
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`)
  for (const d of missing.reverse()) fs.mkdirSync(d)
}

/** Look-up keys kept in `event_keys`, by column. */
const LOOKUP_KINDS = [
  { kind: 1, column: 'session_id', filter: 'sessionId' },
  { kind: 2, column: 'user_id', filter: 'userId' },
  { kind: 3, column: 'arm', filter: 'arm' },
] as const

/** Rows indexed per look-up pass (bounds how long one pass holds the event loop). */
const LOOKUP_CHUNK = 20_000

const ROW_COLUMNS = 'seq, ts_ms AS tsMs, received_ms AS receivedMs, body'
const E_ROW_COLUMNS = 'e.seq AS seq, e.ts_ms AS tsMs, e.received_ms AS receivedMs, e.body AS body'

/**
 * The embedded store: one SQLite file in WAL mode through better-sqlite3. Calls are synchronous
 * under the async port; a batch of 1 000 items commits in a few milliseconds.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite'
  readonly filename: string
  private readonly readonly: boolean
  private readonly db: Database.Database
  private prepared: ReturnType<SqliteStore['prepare']> | undefined

  constructor(options: SqliteStoreOptions) {
    this.filename = options.filename
    this.readonly = options.readonly ?? false
    if (options.filename !== ':memory:' && !options.readonly) makeParentDirs(options.filename)
    this.db = new Database(options.filename, { readonly: options.readonly ?? false })
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`)
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL')
      this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`)
      if (options.autoCheckpoint === false && options.filename !== ':memory:') {
        this.db.pragma('wal_autocheckpoint = 0')
        this.walGuard = { file: `${options.filename}-wal`, max: options.maxWalBytes ?? 64 * 1024 * 1024 }
      }
    }
    this.db.pragma('cache_size = -65536')
    this.db.pragma('temp_store = MEMORY')
    const every = options.lookupIndexIntervalMs ?? 1000
    // Worker threads load compiled JS only: run from TypeScript sources (tests, tsx), the script
    // is absent and commits stay inline rather than failing every write.
    const script = options.writerScript ?? new URL('./sqlite-writer-thread.js', import.meta.url)
    if (options.writer === 'thread' && !this.readonly && options.filename !== ':memory:' && fs.existsSync(fileURLToPath(script))) {
      // The writer thread indexes look-ups too; this connection only reads (and writes keys).
      this.writerClient = new SqliteWriterClient({ ...options, autoCheckpoint: false }, script)
      this.checkpointTimer = setInterval(() => this.checkpoint(), 250)
      this.checkpointTimer.unref()
    } else if (!this.readonly && every > 0) {
      this.timer = setInterval(() => this.indexLookupsInBackground(), every)
      this.timer.unref()
    }
  }

  private timer: NodeJS.Timeout | undefined
  private checkpointTimer: NodeJS.Timeout | undefined
  private writerClient: SqliteWriterClient | undefined
  private indexing = false

  private walGuard: { file: string; max: number } | undefined

  private limitWal(): void {
    const g = this.walGuard!
    let size = 0
    try {
      size = fs.statSync(g.file).size
    } catch {
      return
    }
    if (size <= g.max) return
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)')
    } catch {
      // Readers in the way: try again after the next commit.
    }
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
        if (this.db.open && this.indexLookups(LOOKUP_CHUNK) === LOOKUP_CHUNK) {
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

  /**
   * Copies session/user/arm keys of up to `maxRows` not-yet-indexed events into `event_keys`
   * and advances the watermark. Returns how many events it covered.
   */
  indexLookups(maxRows = LOOKUP_CHUNK): number {
    const s = this.s
    return this.db
      .transaction(() => {
        const wm = s.watermark.get() as number
        const max = (s.maxSeq.get() as number | null) ?? 0
        const hi = Math.min(max, wm + maxRows)
        if (hi <= wm) return 0
        for (const ins of s.copyKeys) ins.run(wm, hi)
        s.setWatermark.run(hi)
        return hi - wm
      })
      .immediate()
  }

  private prepare() {
    const db = this.db
    return {
      newBatch: db.prepare('INSERT INTO batches (committed_ms) VALUES (?)'),
      closeBatch: db.prepare('UPDATE batches SET events = ?, feedback = ? WHERE seq = ?'),
      insertEvent: db.prepare(
        `INSERT INTO events (project, id, ts_ms, received_ms, model, version, stage, status, session_id, user_id, arm, shadow_of, batch, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, id) DO NOTHING`,
      ),
      eventBody: db.prepare('SELECT body FROM events WHERE project = ? AND id = ?').pluck(),
      insertFeedback: db.prepare(
        `INSERT INTO feedback (project, id, event_id, name, ts_ms, received_ms, batch, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, id) DO NOTHING`,
      ),
      feedbackBody: db.prepare('SELECT body FROM feedback WHERE project = ? AND id = ?').pluck(),
      getEvent: db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE project = ? AND id = ?`),
      feedbackForEvent: db.prepare(`SELECT ${ROW_COLUMNS} FROM feedback WHERE project = ? AND event_id = ? ORDER BY ts_ms, seq`),
      shadowsOf: db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE project = ? AND shadow_of = ? ORDER BY ts_ms, seq`),
      countKeys: db.prepare('SELECT count(*) FROM api_keys WHERE revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > ?)').pluck(),
      watermark: db.prepare("SELECT value FROM meta WHERE name = 'lookup_watermark'").pluck(),
      setWatermark: db.prepare("UPDATE meta SET value = ? WHERE name = 'lookup_watermark'"),
      maxSeq: db.prepare('SELECT max(seq) FROM events').pluck(),
      copyKeys: LOOKUP_KINDS.map((k) =>
        db.prepare(
          `INSERT OR IGNORE INTO event_keys (project, kind, key, seq)
           SELECT project, ${k.kind}, ${k.column}, seq FROM events WHERE seq > ? AND seq <= ? AND ${k.column} IS NOT NULL`,
        ),
      ),
    }
  }

  private get s() {
    this.prepared ??= this.prepare()
    return this.prepared
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
    if (!this.readonly) this.db.pragma('optimize=0x10002')
  }

  async writeBatch(batch: WriteBatch): Promise<WriteResult> {
    if (this.writerClient) return this.writerClient.writeBatch(batch)
    const s = this.s
    const run = this.db.transaction((): WriteResult => {
      const batchSeq = Number(s.newBatch.run(Date.now()).lastInsertRowid)
      const events: WriteOutcome[] = new Array(batch.events.length)
      const feedback: WriteOutcome[] = new Array(batch.feedback.length)
      let nEvents = 0
      let nFeedback = 0
      for (let i = 0; i < batch.events.length; i++) {
        const e = batch.events[i]!
        const r = s.insertEvent.run(
          e.project,
          e.id,
          e.tsMs,
          e.receivedMs,
          e.model,
          e.version,
          e.stage,
          e.status,
          e.sessionId,
          e.userId,
          e.arm,
          e.shadowOf,
          batchSeq,
          e.body,
        )
        if (r.changes === 1) {
          events[i] = 'inserted'
          nEvents++
        } else {
          events[i] = sameJsonContent(s.eventBody.get(e.project, e.id) as string, e.body) ? 'duplicate' : 'conflict'
        }
      }
      for (let i = 0; i < batch.feedback.length; i++) {
        const f = batch.feedback[i]!
        const r = s.insertFeedback.run(f.project, f.id, f.eventId, f.name, f.tsMs, f.receivedMs, batchSeq, f.body)
        if (r.changes === 1) {
          feedback[i] = 'inserted'
          nFeedback++
        } else {
          feedback[i] = sameJsonContent(s.feedbackBody.get(f.project, f.id) as string, f.body) ? 'duplicate' : 'conflict'
        }
      }
      s.closeBatch.run(nEvents, nFeedback, batchSeq)
      return { batchSeq, events, feedback }
    })
    const result = run.immediate()
    if (this.walGuard) this.limitWal()
    return result
  }

  async getEvent(project: string, id: string): Promise<StoredRow | undefined> {
    return this.s.getEvent.get(project, id) as StoredRow | undefined
  }

  async feedbackForEvent(project: string, eventId: string): Promise<StoredRow[]> {
    return this.s.feedbackForEvent.all(project, eventId) as StoredRow[]
  }

  async shadowsOf(project: string, id: string): Promise<StoredRow[]> {
    return this.s.shadowsOf.all(project, id) as StoredRow[]
  }

  async listEvents(project: string, filter: EventFilter, limit: number, cursor?: Cursor): Promise<Page> {
    const w = eventWhere(project, filter, cursor, () => '?')
    // A session/user/arm filter drives the query from the look-up table (indexed part) plus a
    // rowid-range scan of the newest, not yet indexed rows; CROSS JOIN pins that join order and
    // `+project` keeps the tail scan on the rowid range instead of a project index.
    const key = LOOKUP_KINDS.find((k) => filter[k.filter] !== undefined)
    let from = 'events AS e'
    const params: unknown[] = []
    if (key) {
      const value = filter[key.filter]
      from = `(SELECT seq FROM event_keys WHERE project = ? AND kind = ${key.kind} AND key = ?
        UNION ALL SELECT seq FROM events WHERE seq > (SELECT value FROM meta WHERE name = 'lookup_watermark') AND +project = ? AND ${key.column} = ?)
        AS k CROSS JOIN events AS e ON e.seq = k.seq`
      params.push(project, value, project, value)
    }
    const rows = this.db
      .prepare(`SELECT ${E_ROW_COLUMNS} FROM ${from} WHERE ${w.sql} ORDER BY e.ts_ms DESC, e.seq DESC LIMIT ?`)
      .all(...params, ...w.params, limit + 1) as StoredRow[]
    return page(rows, limit)
  }

  async listFeedback(project: string, filter: FeedbackFilter, limit: number, cursor?: Cursor): Promise<Page> {
    const w = feedbackWhere(project, filter, cursor, () => '?')
    const rows = this.db
      .prepare(`SELECT ${ROW_COLUMNS} FROM feedback AS f WHERE ${w.sql} ORDER BY f.ts_ms DESC, f.seq DESC LIMIT ?`)
      .all(...w.params, limit + 1) as StoredRow[]
    return page(rows, limit)
  }

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO api_keys (id, project, name, hash, scopes, created_ms, revoked_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(k.id, k.project, k.name, k.hash, k.scopes.join(','), k.createdMs, k.revokedMs, k.expiresMs)
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM api_keys WHERE hash = ?').get(hash) as KeyRow | undefined
    return r && toKey(r)
  }

  async listApiKeys(project?: string): Promise<ApiKeyRecord[]> {
    const rows = (
      project === undefined
        ? this.db.prepare('SELECT * FROM api_keys ORDER BY created_ms').all()
        : this.db.prepare('SELECT * FROM api_keys WHERE project = ? ORDER BY created_ms').all(project)
    ) as KeyRow[]
    return rows.map(toKey)
  }

  async revokeApiKey(id: string, atMs: number): Promise<boolean> {
    return this.db.prepare('UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL').run(atMs, id).changes === 1
  }

  async countActiveApiKeys(nowMs: number): Promise<number> {
    return this.s.countKeys.get(nowMs) as number
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get()
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    if (this.checkpointTimer) clearInterval(this.checkpointTimer)
    await this.writerClient?.close()
    if (!this.db.open) return
    if (!this.readonly) {
      try {
        this.db.pragma('optimize')
      } catch {
        // Closing must not fail because statistics could not be refreshed.
      }
    }
    this.db.close()
  }
}
