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

/** A throwaway PostgreSQL cluster for a benchmark, stopped and removed at exit. */
export async function ownPostgres(hygiene, settings = {}) {
  const { OwnPostgres } = await import('@inferlog/testkit')
  const pgs = await OwnPostgres.start({ settings: { shared_buffers: '256MB', max_wal_size: '4GB', ...settings } })
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
