// Stores of generated data that benchmarks share: a SQLite file built once through the store's
// own writer and cached between runs, and a PostgreSQL schema filled from it batch for batch.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { fmtNum } from './bench-util.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const SERVER_DIST = path.join(ROOT, 'packages', 'server', 'dist')

/** `packages/server/dist/index.js`, imported. */
export function serverDist() {
  return import(pathToFileURL(path.join(SERVER_DIST, 'index.js')).href)
}

/** Latest schema version of the SQLite store (part of every cache key). */
export async function sqliteSchemaVersion() {
  const { SQLITE_MIGRATIONS } = await import(pathToFileURL(path.join(SERVER_DIST, 'store/sqlite/sqlite-migrations.js')).href)
  return SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version
}

/** The page size of a SQLite file the store creates now (a file keeps the one it was made with). */
export async function storePageSize() {
  const { SqliteStore } = await serverDist()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-bench-page-'))
  try {
    const store = new SqliteStore({ filename: path.join(dir, 'p.db') })
    await store.close()
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(path.join(dir, 'p.db'), { readonly: true })
    const size = db.pragma('page_size', { simple: true })
    db.close()
    return size
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Latest schema version of the PostgreSQL store (part of every cache key of a cluster). */
export async function postgresSchemaVersion() {
  const { POSTGRES_MIGRATIONS } = await import(pathToFileURL(path.join(SERVER_DIST, 'store/postgres/postgres-migrations.js')).href)
  return POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version
}

/** Where generated stores are kept between runs: BENCH_CACHE_DIR, default `<tmpdir>/inferlog-bench-cache`. */
export function cacheDir() {
  const dir = process.env.BENCH_CACHE_DIR || path.join(os.tmpdir(), 'inferlog-bench-cache')
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

/**
 * The cached file `name` in {@link cacheDir}, made by `build(tmpFile)` when missing. `build`
 * writes a SQLite file at the path it is given; it becomes the cached file only once complete
 * (renamed), so an interrupted build never leaves a file that looks valid.
 */
export async function cachedFile(name, build, hygiene) {
  const file = path.join(cacheDir(), name)
  if (fs.existsSync(file)) {
    process.stderr.write(`bench: using cached ${file}\n`)
    return file
  }
  const tmp = `${file}.${process.pid}.tmp`
  const leftovers = () => {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) fs.rmSync(f, { force: true })
  }
  hygiene.atExit(leftovers)
  await build(tmp)
  fs.renameSync(tmp, file)
  leftovers()
  return file
}

/**
 * Copies a SQLite store's log into PostgreSQL through `PostgresStore.writeBatch`, one committed
 * batch for each SQLite batch (same items, same order), then stamps commit positions and runs
 * VACUUM ANALYZE. Resolves with the counts.
 */
export async function fillPostgresFrom(sqliteFile, pgUrl) {
  const { PostgresStore } = await serverDist()
  const { default: Database } = await import('better-sqlite3')
  const store = new PostgresStore({ connectionString: pgUrl, poolSize: 4 })
  await store.migrate()
  const db = new Database(sqliteFile, { readonly: true })
  const t0 = performance.now()
  let events = 0
  let feedback = 0
  let lastReport = t0
  try {
    const batches = db.prepare('SELECT seq, events_hi AS eh, feedback_hi AS fh FROM batches ORDER BY seq').all()
    const ev = db.prepare(
      `SELECT project, id, ts_ms AS tsMs, received_ms AS receivedMs, model, version, stage, status, session_id AS sessionId,
              user_id AS userId, arm, shadow_of AS shadowOf, body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq`,
    )
    const fb = db.prepare(
      `SELECT project, id, event_id AS eventId, name, ts_ms AS tsMs, received_ms AS receivedMs, body
         FROM feedback WHERE seq > ? AND seq <= ? ORDER BY seq`,
    )
    let eLo = 0
    let fLo = 0
    for (const b of batches) {
      const eHi = b.eh ?? eLo
      const fHi = b.fh ?? fLo
      const batch = { events: ev.all(eLo, eHi), feedback: fb.all(fLo, fHi) }
      eLo = eHi
      fLo = fHi
      const res = await store.writeBatch(batch)
      if (res.events.some((o) => o !== 'inserted') || res.feedback.some((o) => o !== 'inserted'))
        throw new Error('postgres fill: an item was not inserted')
      events += batch.events.length
      feedback += batch.feedback.length
      if (performance.now() - lastReport > 15_000) {
        lastReport = performance.now()
        process.stderr.write(`bench: postgres fill ${fmtNum(events)} events (${fmtNum(events / ((lastReport - t0) / 1000))} ev/s)\n`)
      }
    }
    await store.commitHead() // stamps every commit position
    await store.queryable.query('VACUUM ANALYZE')
  } finally {
    db.close()
    await store.close()
  }
  const seconds = (performance.now() - t0) / 1000
  process.stderr.write(`bench: PostgreSQL filled with ${fmtNum(events)} events, ${fmtNum(feedback)} feedback in ${seconds.toFixed(0)} s\n`)
  return { events, feedback, seconds }
}

/** Starts a cluster (testkit's OwnPostgres) that is stopped, and its temp files removed, at exit. */
async function startPostgres(hygiene, o) {
  const { OwnPostgres } = await import('@inferlog/testkit')
  const pgs = await OwnPostgres.start({ ...o, settings: { shared_buffers: '256MB', max_wal_size: '4GB', ...o.settings } })
  hygiene.atExit(() => {
    try {
      process.kill(pgs.pid, 'SIGQUIT')
    } catch {
      // not running
    }
    fs.rmSync(pgs.dir, { recursive: true, force: true })
  })
  return pgs
}

/** A throwaway PostgreSQL cluster for a benchmark, stopped and removed at exit. */
export function ownPostgres(hygiene, settings = {}) {
  return startPostgres(hygiene, { settings })
}

/**
 * A PostgreSQL cluster whose data directory is cached as `name` in {@link cacheDir}: made once by
 * `build(url)` on a new cluster (then stopped cleanly and moved into the cache), afterwards started
 * on the cached directory itself (`copy: false`, for benchmarks that only read) or on a fresh copy
 * of it (`copy: true`, for benchmarks whose server writes). `destroy()` the result when done.
 */
export async function cachedPostgres(name, build, hygiene, { copy = false, settings = {} } = {}) {
  const dir = path.join(cacheDir(), name)
  if (!fs.existsSync(dir)) {
    const fresh = await startPostgres(hygiene, { settings })
    try {
      await build(fresh.url)
      await fresh.stop('fast')
      fs.renameSync(fresh.dataDir, dir)
    } finally {
      await fresh.destroy()
    }
  } else process.stderr.write(`bench: using cached PostgreSQL cluster ${dir}\n`)
  let dataDir = dir
  if (copy) {
    dataDir = `${dir}.copy-${process.pid}`
    hygiene.atExit(() => fs.rmSync(dataDir, { recursive: true, force: true }))
    const { execFileSync } = await import('node:child_process')
    execFileSync('cp', ['-a', dir, dataDir])
  }
  const pgs = await startPostgres(hygiene, { settings, dataDir })
  const destroy = pgs.destroy.bind(pgs)
  pgs.destroy = async () => {
    await destroy()
    if (copy) fs.rmSync(dataDir, { recursive: true, force: true })
  }
  return pgs
}
