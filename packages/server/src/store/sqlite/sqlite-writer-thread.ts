/**
 * Worker-thread entry of the SQLite writer: owns one write connection, runs group commits and
 * the background look-up indexing, so that the collector's event loop keeps parsing requests
 * while a commit waits for fsync.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { WriteBatch } from '../store.js'
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js'

interface Request {
  id: number
  op: 'write' | 'close'
  batch?: WriteBatch
}

const port = parentPort
if (port) {
  const store = new SqliteStore({ ...(workerData as SqliteStoreOptions), writer: 'inline' })
  port.on('message', (m: Request) => {
    if (m.op === 'close') {
      void store.close().then(() => port.postMessage({ id: m.id, ok: true }))
      return
    }
    store.writeBatch(m.batch!).then(
      (result) => port.postMessage({ id: m.id, ok: true, result }),
      (e: unknown) => port.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    )
  })
}
