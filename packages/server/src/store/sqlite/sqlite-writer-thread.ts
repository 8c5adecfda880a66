/**
 * Worker-thread entry of the SQLite writer: owns one write connection, runs group commits,
 * consumer writes and the background look-up indexing, so that the collector's event loop keeps
 * parsing requests while a commit waits for fsync.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads'
import { openSqliteConnection, type SqliteConnectionOptions } from './sqlite-connection.js'
import type { WriterRequest } from './sqlite-writer-client.js'
import { LOOKUP_CHUNK } from './sqlite-lookups.js'
import { SqliteWriter } from './sqlite-writer.js'

const port = parentPort
if (port) {
  const o = workerData as SqliteConnectionOptions & { lookupIndexIntervalMs?: number }
  const conn = openSqliteConnection(o)
  const writer = new SqliteWriter(conn.db, conn.limitWal)
  const every = o.lookupIndexIntervalMs ?? 1000
  let timer: NodeJS.Timeout | undefined
  if (every > 0) {
    timer = setInterval(() => {
      try {
        // Chunks keep each pass short; messages queue behind it only that long.
        while (writer.indexLookups(LOOKUP_CHUNK) === LOOKUP_CHUNK) {}
      } catch {
        // Busy: the next tick retries; queries stay exact meanwhile.
      }
    }, every)
  }
  const handle = (reply: MessagePort | typeof port, m: WriterRequest) => {
    try {
      if (m.op === 'close') {
        if (timer) clearInterval(timer)
        conn.db.close()
        reply.postMessage({ id: m.id, ok: true })
      } else if (m.op === 'attach') {
        // Another thread's client (the commit feed's): same connection, requests in arrival order.
        m.port.on('message', (r: WriterRequest) => handle(m.port, r))
        reply.postMessage({ id: m.id, ok: true })
      } else if (m.op === 'tap') {
        writer.setTap(m.on)
        reply.postMessage({ id: m.id, ok: true })
      } else if (m.op === 'write') {
        reply.postMessage({ id: m.id, ok: true, result: writer.writeBatch(m.batch) })
      } else if (m.op === 'import') {
        writer.importBatch(m.batch)
        reply.postMessage({ id: m.id, ok: true })
      } else if (m.op === 'audit') {
        reply.postMessage({ id: m.id, ok: true, result: writer.appendAudit(m.entry) })
      } else if (m.op === 'claim') {
        reply.postMessage({ id: m.id, ok: true, result: writer.claim(m.consumer, m.holder, m.nowMs, m.ttlMs, m.takeOverFrom) })
      } else if (m.op === 'exec') {
        writer.exec(m.writes)
        reply.postMessage({ id: m.id, ok: true })
      } else {
        reply.postMessage({ id: m.id, ok: true, result: writer.advance(m.consumer, m.from, m.to, m.writes, m.nowMs) })
      }
    } catch (e) {
      const err = e as { message?: string; code?: string }
      reply.postMessage({ id: m.id, ok: false, error: { message: err?.message ?? String(e), code: err?.code } })
    }
  }
  port.on('message', (m: WriterRequest) => handle(port, m))
}
