import fs from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { serve } from '@hono/node-server'
import { isLoopbackHost, type ServerConfig } from './config.js'
import { InferlogError } from './errors.js'
import { defaultConsumers } from './feed/default-consumers.js'
import { AuditCheckpointer } from './audit/audit-checkpointer.js'
import { auditMetrics } from './audit/audit-metrics.js'
import { loadAuditKey } from './audit/checkpoint.js'
import { feedMetrics } from './feed/feed-metrics.js'
import type { CommitFeed } from './feed/commit-feed.js'
import { FeedRunner, type FeedRunnerOptions } from './feed/feed-runner.js'
import { FeedThread, feedThreadScript } from './feed/feed-thread.js'
import { createApp, type InferlogApp } from './http/create-app.js'
import { type Logger, stderrLogger } from './logging/logger.js'
import { createMetrics } from './metrics.js'
import { openQueue } from './queue/open-queue.js'
import type { Queue } from './queue/queue.js'
import { QueueWriter } from './queue/queue-writer.js'
import { openStore } from './store/open-store.js'
import { SqliteStore } from './store/sqlite/sqlite-store.js'
import type { Store } from './store/store.js'

/** A listening collector. */
export interface RunningServer {
  /** e.g. `http://127.0.0.1:7070`. */
  url: string
  /** Whether keyless requests are served as the local operator (open mode). */
  open: boolean
  core: InferlogApp
  store: Store
  /**
   * The commit feed's consumers, when this process commits to the log itself (not in queue mode):
   * in a thread of their own on an embedded SQLite store (see `ServerConfig.feed`), else on this
   * event loop.
   */
  feed: CommitFeed | undefined
  /** The scale-out queue accepted items are published to, when `queueUrl` is set. */
  queue: Queue | undefined
  /** Stops listening, commits (or publishes) what is queued, closes queue and store. Idempotent. */
  close(): Promise<void>
}

/** Name of the file, in the data directory, that tells local tools where the server listens. */
export const SERVER_INFO_FILE = 'server.json'

/** What {@link SERVER_INFO_FILE} holds. */
export interface ServerInfo {
  url: string
  pid: number
  store: string
  open: boolean
  started_at: string
}

/**
 * Opens and migrates the store, refuses to listen beyond loopback without API keys, and serves the
 * collector over HTTP with the configured connection limits. With `queueUrl`, accepted items are
 * published to the queue (and written to the store by `inferlog worker`); the store still serves
 * reads and API keys. While it runs, `<dataDir>/server.json` tells local tools its URL.
 */
export async function startServer(config: ServerConfig, logger: Logger = stderrLogger()): Promise<RunningServer> {
  const store = openStore(config.storeUrl, { onWarning: (m) => logger.warn(m) })
  try {
    await store.migrate()
    if (config.auth.requireKeys && (await store.countActiveApiKeys(Date.now())) === 0) {
      const why = isLoopbackHost(config.host)
        ? 'keys are required (--require-keys) but none exists'
        : `refusing to listen on ${config.host} without API keys: anyone who can reach it could read and write your data`
      throw new InferlogError('forbidden', `${why}; create one first (inferlog keys create --project NAME --scopes ingest,read)`)
    }
  } catch (e) {
    await store.close()
    throw e
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
  // Embedded, this process commits, so it runs the commit feed's consumers; behind a queue the
  // workers commit and run them.
  const metrics = createMetrics()
  auditMetrics(metrics.registry, store)
  // Checkpoints sign the sealed head with the operator's key; the key is read now, so a bad one
  // stops the start instead of failing later.
  let checkpointer: AuditCheckpointer | undefined
  try {
    if (config.audit.keyFile) {
      checkpointer = new AuditCheckpointer(store.derived, {
        key: loadAuditKey(config.audit.keyFile),
        intervalMs: config.audit.checkpointIntervalMs,
        logger,
      })
    }
  } catch (e) {
    await queue?.close()
    await store.close()
    throw e
  }
  // The feed's consumers read how busy the collector's writer is (ingest first), known once the app is.
  let writerBusyMs = () => 0
  const feed = queue ? undefined : openCommitFeed(store, config, logger, feedMetrics(metrics.registry), () => writerBusyMs())
  const core = createApp({
    store,
    metrics,
    ...(feed ? { onCommit: () => feed.poke() } : {}),
    limits,
    writeQueue: config.writeQueue,
    auth: config.auth,
    datasets: {
      dir: path.join(config.dataDir, 'datasets'),
      storeUrl: config.storeUrl,
      ...(config.datasetWorkers !== undefined ? { workers: config.datasetWorkers } : {}),
    },
    triggers: { tickMs: config.triggerTickMs },
    memoryBudgetBytes: config.http.memoryBudgetBytes,
    privacy: config.privacy,
    retention: { intervalMs: config.privacy.retentionIntervalMs },
    logger,
    ...(queue ? { writer: new QueueWriter(queue) } : {}),
  })
  writerBusyMs = () => core.queue.busyMs
  const h = config.http
  let server: Server
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve(
        {
          fetch: core.app.fetch,
          hostname: config.host,
          port: config.port,
          serverOptions: {
            headersTimeout: h.headersTimeoutMs,
            requestTimeout: h.bodyTimeoutMs,
            keepAliveTimeout: h.idleTimeoutMs,
            // Node checks the two timeouts above only this often; keep the overshoot small.
            connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(Math.min(h.headersTimeoutMs, h.bodyTimeoutMs) / 4))),
          },
        },
        () => resolve(s as Server),
      )
      s.once('error', reject)
    })
  } catch (e) {
    await core.close()
    await queue?.close()
    await store.close()
    throw e
  }
  feed?.start()
  checkpointer?.start()
  core.alerts.start()
  core.retention.start()
  core.triggers?.start()
  server.maxConnections = h.maxConnections
  // A socket with no traffic for this long is closed: connections that never send a byte, and
  // requests whose client stalls between chunks of the body.
  server.setTimeout(h.idleTimeoutMs, (socket) => socket.destroy())
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  const url = `http://${host}:${addr.port}`
  const open = !config.auth.requireKeys
  const infoFile = config.storeUrl.startsWith('sqlite:') ? writeServerInfo(config, { url, open }, logger) : undefined
  let closing: Promise<void> | undefined
  return {
    url,
    open,
    core,
    store,
    feed,
    queue,
    close: () =>
      (closing ??= (async () => {
        if (infoFile) removeServerInfo(infoFile)
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
        })
        await core.close()
        await feed?.stop()
        await checkpointer?.stop()
        await queue?.close()
        await store.close()
      })()),
  }
}

function writeServerInfo(config: ServerConfig, s: { url: string; open: boolean }, logger: Logger): string | undefined {
  const file = path.join(config.dataDir, SERVER_INFO_FILE)
  const info: ServerInfo = { url: s.url, pid: process.pid, store: config.storeUrl, open: s.open, started_at: new Date().toISOString() }
  try {
    fs.writeFileSync(file, `${JSON.stringify(info)}\n`)
    return file
  } catch (e) {
    // Only a convenience for local tools: a read-only data directory must not stop the server.
    logger.warn(`cannot write ${file}: ${(e as Error).message}`)
    return undefined
  }
}

function removeServerInfo(file: string): void {
  try {
    const info = JSON.parse(fs.readFileSync(file, 'utf8')) as ServerInfo
    if (info.pid === process.pid) fs.rmSync(file, { force: true })
  } catch {
    // Already gone or replaced by another server: nothing to do.
  }
}

/**
 * The consumers of an embedded collector: in their own thread when the store is SQLite with a
 * writer thread and the compiled thread script is there (see `ServerConfig.feed`), else on this
 * event loop (PostgreSQL, `feed.thread: false`, running from TypeScript sources).
 */
function openCommitFeed(
  store: Store,
  config: ServerConfig,
  logger: Logger,
  onProgress: FeedRunnerOptions['onProgress'],
  ingestBusyMs: () => number,
): CommitFeed {
  if (config.feed.thread && store instanceof SqliteStore && store.hasWriterThread && feedThreadScript()) {
    return new FeedThread(store, {
      consumers: config.consumers,
      nice: config.feed.nice,
      process: config.feed.process,
      idle: config.feed.idle,
      runner: { yieldAbove: config.feed.yieldAbove },
      ingestBusyMs,
      logger,
      onProgress,
    })
  }
  return new FeedRunner(store, defaultConsumers(store, config.consumers), { logger, onProgress })
}
