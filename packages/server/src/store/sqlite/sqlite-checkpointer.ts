import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { SqliteConnectionOptions } from './sqlite-connection.js'

/**
 * Checkpoints the WAL of a store whose writer thread does not (see `autoCheckpoint`): in a thread
 * of its own with its own connection (`sqlite-checkpoint-thread.js`), or, when that script is
 * absent (running from TypeScript sources) or the thread failed, with `fallback` on this thread.
 * A PASSIVE checkpoint copies WAL pages into the database file and fsyncs it; on the collector's
 * event loop that blocked request parsing for as long as the copy took (seconds on a busy disk).
 */
export class SqliteCheckpointer {
  private worker: Worker | undefined
  private timer: NodeJS.Timeout | undefined

  /**
   * @param options the store's connection options.
   * @param script the thread's entry script.
   * @param fallback one PASSIVE checkpoint on the store's own connection.
   * @param intervalMs time between checkpoints. Default 250.
   */
  constructor(
    options: SqliteConnectionOptions,
    script: URL,
    private readonly fallback: () => void,
    private readonly intervalMs = 250,
  ) {
    if (!fs.existsSync(fileURLToPath(script))) {
      this.startFallback()
      return
    }
    const w = new Worker(script, { workerData: { ...options, intervalMs } })
    w.unref()
    const lost = () => {
      if (this.worker !== w) return
      this.worker = undefined
      this.startFallback()
    }
    w.on('error', lost)
    w.on('exit', lost)
    this.worker = w
  }

  private startFallback(): void {
    this.timer = setInterval(this.fallback, this.intervalMs)
    this.timer.unref()
  }

  /** Stops checkpointing; the thread closes its connection first. Idempotent. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    const w = this.worker
    this.worker = undefined
    if (!w) return
    w.ref()
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000)
      const done = () => {
        clearTimeout(t)
        resolve()
      }
      w.once('message', done)
      w.once('exit', done)
      w.postMessage('close')
    })
    await w.terminate()
  }
}
