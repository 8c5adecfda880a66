import { MessageChannel, MessagePort, type Transferable, Worker } from 'node:worker_threads'
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
  | { id: number; op: 'claim'; consumer: string; holder: string; nowMs: number; ttlMs: number; takeOverFrom?: string }
  | { id: number; op: 'tap'; on: boolean }
  | { id: number; op: 'attach'; port: MessagePort }
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
 * A client of the writer thread. The one that starts the thread (the store's, on the main thread)
 * restarts it on next use when it died, failing what it held (those items were not acknowledged).
 * Others talk to the same thread over a port ({@link connect}; a client constructed with it): the commit feed's
 * thread sends its consumers' writes that way, so one connection still does every write.
 * Requests run one after another in the thread, whoever sent them.
 */
export class SqliteWriterClient {
  private worker: Worker | MessagePort | undefined
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  /** Whether `writeBatch` is asked for its commit's details (see `SqliteWriter.setTap`); told again to a restarted thread. */
  private tapOn = false
  /** Set for a client over a port: the thread is someone else's, and a closed port stays closed. */
  private readonly port: MessagePort | undefined
  private portClosed = false

  /**
   * @param thread the thread's connection options and script: this client starts the thread (and
   *   restarts it); or a port {@link connect} made, possibly in another thread, to talk to a thread
   *   someone else owns. Requests over a port fail with `writer_disconnected` once the thread
   *   behind it has gone (its owner restarts it, with new ports); {@link close} closes the port only.
   */
  constructor(
    private readonly thread: { options: SqliteConnectionOptions & { lookupIndexIntervalMs?: number }; script: URL } | MessagePort,
  ) {
    if (!(thread instanceof MessagePort)) return
    this.port = thread
    this.worker = thread
    this.listen(thread)
    thread.on('close', () => {
      this.portClosed = true
      this.failAll(gone())
    })
  }

  /**
   * A new port to this client's writer thread (started if it is not running), for
   * a client on any thread (`new SqliteWriterClient(port)`). The port dies with the thread.
   */
  async connect(): Promise<MessagePort> {
    const { port1, port2 } = new MessageChannel()
    await this.call<void>({ op: 'attach', port: port2 }, [port2])
    return port1
  }

  private listen(endpoint: Worker | MessagePort): void {
    endpoint.on('message', (m: Reply) => {
      const p = this.pending.get(m.id)
      if (!p) return
      this.pending.delete(m.id)
      if (m.ok) p.resolve(m.result)
      else p.reject(new SqliteWriterError(m.error.message, m.error.code))
    })
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e)
    this.pending.clear()
  }

  private start(): Worker | MessagePort {
    // A closed port stays closed (`send` refuses); only a thread of our own is started again.
    if (this.port) return this.port
    const { options, script } = this.thread as Exclude<typeof this.thread, MessagePort>
    const w = new Worker(script, { workerData: options })
    this.listen(w)
    const fail = (e: Error) => {
      if (this.worker === w) this.worker = undefined
      this.failAll(e)
    }
    w.on('error', fail)
    w.on('exit', (code) => fail(new Error(`SQLite writer thread exited (${code})`)))
    this.worker = w
    if (this.tapOn) this.send(w, { op: 'tap', on: true }).catch(() => undefined)
    return w
  }

  private call<T>(request: WithoutId<WriterRequest>, transfer?: Transferable[]): Promise<T> {
    return this.send<T>(this.worker ?? this.start(), request, transfer)
  }

  private send<T>(w: Worker | MessagePort, request: WithoutId<WriterRequest>, transfer?: Transferable[]): Promise<T> {
    if (this.portClosed) return Promise.reject(gone())
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject })
      w.postMessage({ ...request, id }, transfer)
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

  claim(consumer: string, holder: string, nowMs: number, ttlMs: number, takeOverFrom?: string): Promise<boolean> {
    return this.call<boolean>({ op: 'claim', consumer, holder, nowMs, ttlMs, ...(takeOverFrom === undefined ? {} : { takeOverFrom }) })
  }

  exec(writes: readonly CompiledWrite[]): Promise<void> {
    return this.call<void>({ op: 'exec', writes: plain(writes) })
  }

  /** Closes the writer's connection and ends the thread (over a port: closes the port). Idempotent. */
  async close(): Promise<void> {
    if (this.port) {
      this.portClosed = true
      this.port.close()
      this.failAll(gone())
      return
    }
    const w = this.worker
    if (!w || !(w instanceof Worker)) return
    try {
      await this.call({ op: 'close' })
    } catch {
      // Already gone.
    }
    this.worker = undefined
    await w.terminate()
  }
}

/** The error of a request over a port whose writer thread has gone (or that was closed). */
function gone(): SqliteWriterError {
  return new SqliteWriterError('the SQLite writer thread behind this port has gone', 'writer_disconnected')
}

/**
 * The writes as the thread needs them: SQL and parameters only. A Kysely `CompiledQuery` also
 * carries the statement's whole operation tree, which `postMessage` would otherwise clone.
 */
function plain(writes: readonly CompiledWrite[]): CompiledWrite[] {
  return writes.map((w) => ({ sql: w.sql, parameters: w.parameters }))
}
