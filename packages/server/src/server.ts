import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createApp, stderrLogger, type InferlogApp, type Logger } from './app.js'
import { isLoopbackHost, type ServerConfig } from './config.js'
import { InferlogError } from './errors.js'
import { openStore } from './store/open-store.js'
import type { Store } from './store/store.js'

/** A listening collector. */
export interface RunningServer {
  /** e.g. `http://127.0.0.1:7070`. */
  url: string
  /** Whether the server runs without API keys. */
  open: boolean
  core: InferlogApp
  store: Store
  /** Stops listening, commits what is queued, closes the store. Idempotent. */
  close(): Promise<void>
}

/**
 * Opens and migrates the store, refuses to listen beyond loopback without API keys, and serves the
 * collector over HTTP.
 */
export async function startServer(config: ServerConfig, logger: Logger = stderrLogger()): Promise<RunningServer> {
  const store = openStore(config.storeUrl)
  try {
    await store.migrate()
  } catch (e) {
    await store.close()
    throw e
  }
  const open = (await store.countActiveApiKeys()) === 0
  if (open && !isLoopbackHost(config.host)) {
    await store.close()
    throw new InferlogError(
      'forbidden',
      `refusing to listen on ${config.host} without API keys: anyone who can reach it could read and write your data. ` +
        'Create a key first (inferlog keys create --project NAME --scopes ingest,read), or listen on 127.0.0.1.',
    )
  }
  const core = createApp({ store, limits: config.limits, writeQueue: config.writeQueue, logger })
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: core.app.fetch, hostname: config.host, port: config.port }, () => resolve(s))
    s.once('error', reject)
  })
  // Long keep-alive so batching clients reuse connections; requests themselves are bounded by limits.
  ;(server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = 65_000
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  const url = `http://${host}:${addr.port}`
  let closing: Promise<void> | undefined
  return {
    url,
    open,
    core,
    store,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          ;(server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.()
        })
        await core.close()
        await store.close()
      })()),
  }
}
