import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'

/** Connection settings shared by the store's own connection and its writer thread. */
export interface SqliteConnectionOptions {
  /** Database file; `:memory:` for a throwaway store. Parent directories are created. */
  filename: string
  /**
   * `PRAGMA synchronous`. Default `FULL`: every commit is fsynced before it is acknowledged.
   * Group commit makes this nearly free; `NORMAL` may lose the last commits on power loss.
   */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF'
  /** Milliseconds to wait for a lock held by another process. Default 5000. */
  busyTimeoutMs?: number
  /** Open read-only (for tools inspecting a live store); nothing is created. Default false. */
  readonly?: boolean
  /** Page cache, KiB. Default 16 384 for a read-only connection, 65 536 otherwise. */
  cacheKiB?: number
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
  /**
   * Page size of a database file this connection creates, bytes (a power of two, 512–65536); an
   * existing file keeps the size it was made with. Default 16384 (SQLite's own is 4096): a scan
   * reads a page per system call, so four times fewer calls per row of ~1.2 KB events
   * (`npm run bench:scan`).
   */
  pageSize?: number
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

/** An open connection, and the check that bounds its WAL when checkpoints are left to others. */
export interface SqliteConnection {
  db: Database.Database
  /** Call after a commit: truncates the WAL when it outgrew the bound. No-op with auto-checkpoints. */
  limitWal(): void
}

/** Opens a connection in WAL mode with the store's pragmas. */
export function openSqliteConnection(o: SqliteConnectionOptions): SqliteConnection {
  if (o.filename !== ':memory:' && !o.readonly) makeParentDirs(o.filename)
  const db = new Database(o.filename, { readonly: o.readonly ?? false })
  db.pragma(`busy_timeout = ${o.busyTimeoutMs ?? 5000}`)
  let guard: { file: string; max: number } | undefined
  if (!o.readonly) {
    // Takes effect only on a file that has no page yet: before WAL mode writes the first one.
    db.pragma(`page_size = ${o.pageSize ?? 16384}`)
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${o.synchronous ?? 'FULL'}`)
    if (o.autoCheckpoint === false && o.filename !== ':memory:') {
      db.pragma('wal_autocheckpoint = 0')
      guard = { file: `${o.filename}-wal`, max: o.maxWalBytes ?? 64 * 1024 * 1024 }
    }
  }
  // Read-only connections (dataset builds, tools) mostly stream rowid ranges, which a large page
  // cache does not speed up; 16 MiB instead of 64 keeps a build's peak RSS down.
  db.pragma(`cache_size = ${-(o.cacheKiB ?? (o.readonly ? 16384 : 65536))}`)
  db.pragma('temp_store = MEMORY')
  const limitWal = () => {
    if (!guard) return
    let size = 0
    try {
      size = fs.statSync(guard.file).size
    } catch {
      return
    }
    if (size <= guard.max) return
    try {
      db.pragma('wal_checkpoint(TRUNCATE)')
    } catch {
      // Readers in the way: try again after the next commit.
    }
  }
  return { db, limitWal }
}

/** SQLite result codes that mean the data itself cannot be stored (retrying cannot help). */
const DATA_ERRORS = /^SQLITE_(TOOBIG|MISMATCH|RANGE|CONSTRAINT)/

/** True when a SQLite error (or one relayed from the writer thread with its `code`) is about the data. */
export function isSqliteDataError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' && DATA_ERRORS.test(code)
}
