import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createApp, stderrLogger, type InferlogApp, type Logger } from './app.js'
import { isLoopbackHost, type ServerConfig } from './config.js'
import { InferlogError } from './errors.js'
import { openQueue } from './queue/open-queue.js'
import type { Queue } from './queue/queue.js'
import { QueueWriter } from './queue/queue-writer.js'
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
  /** The scale-out queue accepted items are published to, when `queueUrl` is set. */
  queue: Queue | undefined
  /** Stops listening, commits (or publishes) what is queued, closes queue and store. Idempotent. */
  close(): Promise<void>
}

/**
 * Opens and migrates the store, refuses to listen beyond loopback without API keys, and serves the
 * collector over HTTP. With `queueUrl`, accepted items are published to the queue (and written to
 * the store by `inferlog worker`); the store still serves reads and API keys.
 */
export async function startServer(config: ServerConfig, logger: Logger = stderrLogger()): Promise<RunningServer> {
  const store = openStore(config.storeUrl, { onWarning: (m) => logger.warn(m) })
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
  let queue: Queue | undefined
  if (config.queueUrl) {
    try {
      queue = await openQueue(config.queueUrl, { name: 'inferlog-collector', onWarning: (m) => logger.warn(m) })
    } catch (e) {
      await store.close()
      throw e
    }
  }
  let limits = config.limits
  if (queue?.maxItemBytes !== undefined && queue.maxItemBytes < limits.maxEventBytes) {
    logger.warn(
      `the queue's message size limit caps items at ${queue.maxItemBytes} bytes (configured ${limits.maxEventBytes}); ` +
        'raise the NATS server max_payload to accept larger items',
    )
    limits = { ...limits, maxEventBytes: queue.maxItemBytes }
  }
  const core = createApp({
    store,
    limits,
    writeQueue: config.writeQueue,
    logger,
    ...(queue ? { writer: new QueueWriter(queue) } : {}),
  })
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
    queue,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          ;(server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.()
        })
        await core.close()
        await queue?.close()
        await store.close()
      })()),
  }
}
