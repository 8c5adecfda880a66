import { Worker } from 'node:worker_threads'
import type { WriteBatch, WriteResult } from '../store.js'
import type { SqliteStoreOptions } from './sqlite-store.js'

interface Pending {
  resolve: (r: WriteResult) => void
  reject: (e: Error) => void
}

/**
 * Main-thread side of the writer thread. One request at a time is in flight per batch; a dead
 * worker fails what it held (those items were not acknowledged) and is restarted on next use.
 */
export class SqliteWriterClient {
  private worker: Worker | undefined
  private nextId = 1
  private readonly pending = new Map<number, Pending>()

  constructor(
    private readonly options: SqliteStoreOptions,
    private readonly script: URL,
  ) {}

  private start(): Worker {
    const { writer: _w, ...data } = this.options
    const w = new Worker(this.script, { workerData: data })
    w.on('message', (m: { id: number; ok: boolean; result?: WriteResult; error?: string }) => {
      const p = this.pending.get(m.id)
      if (!p) return
      this.pending.delete(m.id)
      if (m.ok) p.resolve(m.result as WriteResult)
      else p.reject(new Error(m.error))
    })
    const fail = (e: Error) => {
      if (this.worker === w) this.worker = undefined
      for (const p of this.pending.values()) p.reject(e)
      this.pending.clear()
    }
    w.on('error', fail)
    w.on('exit', (code) => fail(new Error(`SQLite writer thread exited (${code})`)))
    this.worker = w
    return w
  }

  private call<T>(op: 'write' | 'close', batch?: WriteBatch): Promise<T> {
    const w = this.worker ?? this.start()
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: WriteResult) => void, reject })
      w.postMessage({ id, op, batch })
    })
  }

  writeBatch(batch: WriteBatch): Promise<WriteResult> {
    return this.call<WriteResult>('write', batch)
  }

  /** Closes the writer's connection and ends the thread. Idempotent. */
  async close(): Promise<void> {
    const w = this.worker
    if (!w) return
    try {
      await this.call('close')
    } catch {
      // Already gone.
    }
    this.worker = undefined
    await w.terminate()
  }
}
