/**
 * Worker-thread entry of the WAL checkpointer: a connection of its own that copies committed WAL
 * pages into the database file (PASSIVE: it never blocks the writer or readers) at an interval,
 * so that neither the collector's event loop nor the writer thread waits for that copy and its
 * fsync. Started by `SqliteStore` beside the writer thread.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { openSqliteConnection, type SqliteConnectionOptions } from './sqlite-connection.js'

const port = parentPort
if (port) {
  const o = workerData as SqliteConnectionOptions & { intervalMs: number }
  const conn = openSqliteConnection({ ...o, autoCheckpoint: false })
  // Checkpoints read pages from the WAL and write them once: a large page cache buys nothing.
  conn.db.pragma('cache_size = -2048')
  const timer = setInterval(() => {
    try {
      conn.db.pragma('wal_checkpoint(PASSIVE)')
    } catch {
      // Busy: the next tick tries again; the WAL only grows meanwhile (the writer bounds it).
    }
  }, o.intervalMs)
  port.on('message', (m: unknown) => {
    if (m !== 'close') return
    clearInterval(timer)
    try {
      conn.db.close()
    } finally {
      port.postMessage('closed')
    }
  })
}
