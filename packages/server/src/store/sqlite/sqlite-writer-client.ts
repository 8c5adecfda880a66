import { Worker } from 'node:worker_threads'
import type { AuditAppend } from '../ports/audit-log.js'
import type { ImportedBatch } from '../ports/log-import.js'
import type { CompiledWrite } from '../ports/derived-store.js'
import type { WriteBatch } from '../ports/event-log.js'
import type { SqliteConnectionOptions } from './sqlite-connection.js'
import type { SqliteWriteResult } from './sqlite-writer.js'

/** A message to the writer thread. */
export type WriterRequest =
  | { id: number; op: 'write'; batch: WriteBatch }
  | { id: number; op: 'audit'; entry: AuditAppend }
  | { id: number; op: 'import'; batch: ImportedBatch }
  | { id: number; op: 'advance'; consumer: string; from: number; to: number; writes: readonly CompiledWrite[]; nowMs: number }
  | { id: number; op: 'exec'; writes: readonly CompiledWrite[] }
  | { id: number; op: 'claim'; consumer: string; holder: string; nowMs: number; ttlMs: number }
  | { id: number; op: 'tap'; on: boolean }
  | { id: number; op: 'close' }

/** A request before it gets its id (distributed over the union). */
type WithoutId<R> = R extends unknown ? Omit<R, 'id'> : never

type Reply = { id: number; ok: true; result?: unknown } | { id: number; ok: false; error: { message: string; code?: string } }

interface Pending {
  resolve: (r: unknown) => void
  reject: (e: Error) => void
}

/** An error relayed from the writer thread, keeping SQLite's `code` for classification. */
export class SqliteWriterError extends Error {
  override readonly name = 'SqliteWriterError'
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message)
  }
}

/**
 * Main-thread side of the writer thread. Requests run one after another there; a dead thread
 * fails what it held (those items were not acknowledged) and is restarted on next use.
 */
export class SqliteWriterClient {
  private worker: Worker | undefined
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  /** Whether `writeBatch` is asked for its commit's details (see `SqliteWriter.setTap`); told again to a restarted thread. */
  private tapOn = false

  constructor(
    private readonly options: SqliteConnectionOptions & { lookupIndexIntervalMs?: number },
    private readonly script: URL,
  ) {}

  private start(): Worker {
    const w = new Worker(this.script, { workerData: this.options })
    w.on('message', (m: Reply) => {
      const p = this.pending.get(m.id)
      if (!p) return
      this.pending.delete(m.id)
      if (m.ok) p.resolve(m.result)
      else p.reject(new SqliteWriterError(m.error.message, m.error.code))
    })
    const fail = (e: Error) => {
      if (this.worker === w) this.worker = undefined
      for (const p of this.pending.values()) p.reject(e)
      this.pending.clear()
    }
    w.on('error', fail)
    w.on('exit', (code) => fail(new Error(`SQLite writer thread exited (${code})`)))
    this.worker = w
    if (this.tapOn) this.send(w, { op: 'tap', on: true }).catch(() => undefined)
    return w
  }

  private call<T>(request: WithoutId<WriterRequest>): Promise<T> {
    return this.send<T>(this.worker ?? this.start(), request)
  }

  private send<T>(w: Worker, request: WithoutId<WriterRequest>): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject })
      w.postMessage({ ...request, id })
    })
  }

  writeBatch(batch: WriteBatch): Promise<SqliteWriteResult> {
    return this.call<SqliteWriteResult>({ op: 'write', batch })
  }

  /** Whether the thread's `writeBatch` tells its commit's details (default false). */
  async setTap(on: boolean): Promise<void> {
    this.tapOn = on
    // A thread not started yet is told when it starts.
    if (this.worker) await this.call<void>({ op: 'tap', on })
  }

  importBatch(batch: ImportedBatch): Promise<void> {
    return this.call<void>({ op: 'import', batch })
  }

  appendAudit(entry: AuditAppend): Promise<{ batchSeq: number }> {
    return this.call<{ batchSeq: number }>({ op: 'audit', entry })
  }

  advance(consumer: string, from: number, to: number, writes: readonly CompiledWrite[], nowMs: number): Promise<boolean> {
    return this.call<boolean>({ op: 'advance', consumer, from, to, writes: plain(writes), nowMs })
  }

  claim(consumer: string, holder: string, nowMs: number, ttlMs: number): Promise<boolean> {
    return this.call<boolean>({ op: 'claim', consumer, holder, nowMs, ttlMs })
  }

  exec(writes: readonly CompiledWrite[]): Promise<void> {
    return this.call<void>({ op: 'exec', writes: plain(writes) })
  }

  /** Closes the writer's connection and ends the thread. Idempotent. */
  async close(): Promise<void> {
    const w = this.worker
    if (!w) return
    try {
      await this.call({ op: 'close' })
    } catch {
      // Already gone.
    }
    this.worker = undefined
    await w.terminate()
  }
}

/**
 * The writes as the thread needs them: SQL and parameters only. A Kysely `CompiledQuery` also
 * carries the statement's whole operation tree, which `postMessage` would otherwise clone.
 */
function plain(writes: readonly CompiledWrite[]): CompiledWrite[] {
  return writes.map((w) => ({ sql: w.sql, parameters: w.parameters }))
}
