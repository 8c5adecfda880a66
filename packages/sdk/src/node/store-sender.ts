import type { IngestReply } from '@inferlog/schema'
import type { Payload, Platform, Sender, SendResult } from '../core/platform.js'

/**
 * The part of `@inferlog/server` the direct-to-store transport uses, declared here so the SDK
 * needs the server only at run time, and only when `store` is set.
 */
interface ServerModule {
  openStore(url: string): { migrate(): Promise<void>; close(): Promise<void> }
  createMetrics(withDefaults?: boolean): unknown
  createApp(o: { store: unknown; metrics?: unknown; logger?: ServerLogger }): {
    ingest: { ingest(kind: 'event' | 'feedback', project: string, items: unknown[]): Promise<IngestReply> }
    close(): Promise<void>
  }
  parseNdjson(body: Buffer, maxItemBytes: number): unknown[]
  DEFAULT_LIMITS: { maxEventBytes: number }
}

interface ServerLogger {
  info(msg: string): void
  warn(msg: string): void
  error(msg: string, err?: unknown): void
}

/** Options of {@link createStoreSender}. */
export interface StoreSenderOptions {
  /** Store URL, e.g. `sqlite:./data/inferlog.db`. */
  store: string
  /** Project the items are written to. */
  project: string
  platform: Platform
  /** Receives the store's own warnings. */
  onWarning: (message: string) => void
  /** Module specifier of the server package. Default `@inferlog/server`. */
  moduleName?: string
}

/** Thrown when the server package or the store cannot be opened: not retried. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError'
  /** Tells the pipeline not to retry. */
  readonly fatal = true
}

/**
 * Writes batches straight into a store through the collector's own ingest pipeline (validation,
 * idempotency, group commit), in this process. The server package is imported on first use.
 */
export function createStoreSender(o: StoreSenderOptions): Sender {
  let setup: Promise<{ server: ServerModule; app: ReturnType<ServerModule['createApp']>; store: { close(): Promise<void> } }> | undefined
  let closed = false

  const open = () =>
    (setup ??= (async () => {
      let server: ServerModule
      try {
        // A variable specifier keeps bundlers and the type checker from requiring the package.
        const name = o.moduleName ?? '@inferlog/server'
        server = (await import(name)) as ServerModule
      } catch (e) {
        throw new StoreUnavailableError(`store: ${o.store} needs the @inferlog/server package: ${(e as Error).message}`)
      }
      let store: ReturnType<ServerModule['openStore']>
      try {
        store = server.openStore(o.store)
        await store.migrate()
      } catch (e) {
        throw new StoreUnavailableError(`store: cannot open ${o.store}: ${(e as Error).message}`)
      }
      const logger: ServerLogger = { info: () => undefined, warn: o.onWarning, error: (m) => o.onWarning(m) }
      const app = server.createApp({ store, metrics: server.createMetrics(false), logger })
      return { server, app, store }
    })())

  return {
    compress: false,
    async send(p: Payload): Promise<SendResult> {
      if (closed) throw new Error('sender closed')
      const { server, app } = await open()
      let raw = p.body
      if (p.encoding === 'gzip') raw = await o.platform.gunzip!(raw)
      const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
      const items = server.parseNdjson(buf, server.DEFAULT_LIMITS.maxEventBytes)
      try {
        const reply = await app.ingest.ingest(p.kind, o.project, items)
        return { status: reply.rejected.length === 0 ? 200 : 207, reply }
      } catch (e) {
        const err = e as { status?: number; code?: string; retryAfter?: number; message?: string }
        const res: SendResult = { status: typeof err.status === 'number' ? err.status : 500 }
        if (typeof err.code === 'string') res.errorCode = err.code
        if (typeof err.message === 'string') res.message = err.message
        if (typeof err.retryAfter === 'number') res.retryAfterMs = err.retryAfter * 1000
        return res
      }
    },
    async close() {
      if (closed) return
      closed = true
      if (!setup) return
      try {
        const { app, store } = await setup
        await app.close()
        await store.close()
      } catch {
        // Setup failed: nothing to release.
      }
    },
  }
}
