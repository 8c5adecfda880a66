import type { DirectIngest, DirectIngestModule } from '@inferlog/schema'
import type { SdkErrorCode } from '../errors.js'
import type { Payload, Platform, Sender, SendResult } from '../core/platform.js'

/** Options of {@link createStoreSender}. */
export interface StoreSenderOptions {
  /** Store URL, e.g. `sqlite:./data/inferlog.db`. */
  store: string
  /** Project the items are written to. */
  project: string
  platform: Platform
  /** Receives the store's own warnings. */
  onWarning: (message: string) => void
  /** Module specifier of the package exporting `openDirectIngest`. Default `@inferlog/server`. */
  moduleName?: string
}

/** Thrown when the server package or the store cannot be opened: not retried, reported as `store_unavailable`. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError'
  /** Tells the pipeline not to retry. */
  readonly fatal = true
  /** The code the pipeline reports this failure with. */
  readonly sdkCode: SdkErrorCode = 'store_unavailable'
}

/**
 * Writes batches straight into a store through the collector's own ingest pipeline (validation,
 * idempotency, group commit), in this process. The server package is imported on first use and
 * only through its `openDirectIngest` entry point, whose shape `@inferlog/schema` declares.
 */
export function createStoreSender(o: StoreSenderOptions): Sender {
  const name = o.moduleName ?? '@inferlog/server'
  let setup: Promise<DirectIngest> | undefined
  let closed = false

  const open = () =>
    (setup ??= (async () => {
      let mod: Partial<DirectIngestModule>
      try {
        // A variable specifier keeps bundlers and the type checker from requiring the package.
        mod = (await import(name)) as Partial<DirectIngestModule>
      } catch (e) {
        throw new StoreUnavailableError(`store: ${o.store} needs the ${name} package: ${(e as Error).message}`)
      }
      if (typeof mod.openDirectIngest !== 'function') {
        throw new StoreUnavailableError(`store: ${o.store} needs ${name} with openDirectIngest (a version matching this SDK)`)
      }
      try {
        return await mod.openDirectIngest(o.store, { onWarning: o.onWarning })
      } catch (e) {
        throw new StoreUnavailableError(`store: cannot open ${o.store}: ${(e as Error).message}`)
      }
    })())

  return {
    compress: false,
    async send(p: Payload): Promise<SendResult> {
      if (closed) throw new Error('sender closed')
      const ingest = await open()
      let body = p.body
      if (p.encoding === 'gzip') {
        if (!o.platform.gunzip) throw new Error('this runtime cannot decompress a gzip payload')
        body = await o.platform.gunzip(body)
      }
      return ingest.ingestNdjson(p.kind, o.project, body)
    },
    async close() {
      if (closed) return
      closed = true
      if (!setup) return
      try {
        await (await setup).close()
      } catch {
        // Setup failed: nothing to release.
      }
    },
  }
}
