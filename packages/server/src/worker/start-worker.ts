import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { ConsumerSelection } from '../feed/consumer-selection.js'
import { defaultConsumers } from '../feed/default-consumers.js'
import { AuditCheckpointer } from '../audit/audit-checkpointer.js'
import { auditMetrics } from '../audit/audit-metrics.js'
import { loadAuditKey } from '../audit/checkpoint.js'
import { feedMetrics } from '../feed/feed-metrics.js'
import { FeedRunner } from '../feed/feed-runner.js'
import { stderrLogger, type Logger } from '../logging/logger.js'
import { InferlogError } from '../errors.js'
import { openQueue } from '../queue/open-queue.js'
import type { Queue } from '../queue/queue.js'
import { openStore } from '../store/open-store.js'
import type { Store } from '../store/store.js'
import { createWorkerMetrics } from './worker-metrics.js'
import { Worker, type WorkerOptions } from './worker.js'
import { workerHealthApp } from './worker-health.js'

/** Configuration of `inferlog worker`, parsed once at start-up. */
export interface WorkerConfig {
  /** e.g. `postgres://…`. */
  storeUrl: string
  /** e.g. `nats://127.0.0.1:4222`. */
  queueUrl: string
  /** Port of the `/metrics`, `/healthz`, `/readyz` endpoint; none when undefined. 0 picks a free one. */
  port?: number
  /** Address of that endpoint. Default `127.0.0.1`. */
  host?: string
  /** Commit-feed consumers this worker runs (`all`, `none`, or names; see `parseConsumerSelection`). Default `all`. */
  consumers?: ConsumerSelection
  /**
   * Signed checkpoints of the audit chain: the Ed25519 key's PEM file (`--audit-key`) and the
   * interval (ms, default 10 000). Default none: this worker signs nothing (another process may).
   */
  audit?: { keyFile?: string; checkpointIntervalMs?: number }
  /** Tuning passed to {@link Worker}. */
  tuning?: Pick<WorkerOptions, 'maxGroups' | 'maxItems' | 'minBackoffMs' | 'maxBackoffMs' | 'concurrency'>
}

/** A running worker process's parts. */
export interface RunningWorker {
  worker: Worker
  /** The commit feed's consumers this worker runs. */
  feed: FeedRunner
  store: Store
  queue: Queue
  /** URL of the metrics endpoint, when one listens. */
  metricsUrl: string | undefined
  /** Finishes the current write, gives buffered groups back, closes queue and store. Idempotent. */
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * Opens store and queue, migrates the store, and starts consuming. The store is retried at start
 * (a worker may come up before PostgreSQL); the queue must answer, since there is nothing to do
 * without it.
 */
export async function startWorker(config: WorkerConfig, logger: Logger = stderrLogger()): Promise<RunningWorker> {
  if (!config.storeUrl) throw new InferlogError('invalid_parameter', 'worker needs --store (e.g. postgres://…)')
  if (!config.queueUrl) throw new InferlogError('invalid_parameter', 'worker needs --queue (e.g. nats://127.0.0.1:4222)')
  const store = openStore(config.storeUrl, { onWarning: (m) => logger.warn(m) })
  for (let attempt = 1; ; attempt++) {
    try {
      await store.migrate()
      break
    } catch (e) {
      if (attempt >= 30) {
        await store.close()
        throw e
      }
      if (attempt === 1) logger.warn(`worker: store not ready, retrying: ${(e as Error).message}`)
      await sleep(Math.min(200 * attempt, 2000))
    }
  }
  let queue: Queue
  try {
    queue = await openQueue(config.queueUrl, { name: 'inferlog-worker', onWarning: (m) => logger.warn(m) })
  } catch (e) {
    await store.close()
    throw e
  }
  let checkpointer: AuditCheckpointer | undefined
  try {
    if (config.audit?.keyFile) {
      checkpointer = new AuditCheckpointer(store.derived, {
        key: loadAuditKey(config.audit.keyFile),
        ...(config.audit.checkpointIntervalMs !== undefined ? { intervalMs: config.audit.checkpointIntervalMs } : {}),
        logger,
      })
    }
  } catch (e) {
    await queue.close()
    await store.close()
    throw e
  }
  const metrics = createWorkerMetrics()
  // This worker commits to the log, so it also runs the feed's consumers (their watermarks keep
  // several workers from applying a batch twice).
  auditMetrics(metrics.registry, store)
  const feed = new FeedRunner(store, defaultConsumers(store, config.consumers ?? 'all'), {
    logger,
    onProgress: feedMetrics(metrics.registry),
  })
  const worker = new Worker({ store, queue, metrics, logger, afterCommit: () => feed.poke(), ...config.tuning })
  const done = worker.start()
  feed.start()
  checkpointer?.start()

  let server: Server | undefined
  let metricsUrl: string | undefined
  if (config.port !== undefined) {
    const app = workerHealthApp({ worker, store, queue, metrics, feed })
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: config.host ?? '127.0.0.1', port: config.port }, () => resolve(s as Server))
      s.once('error', reject)
    })
    const a = server.address() as AddressInfo
    metricsUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
  }

  let closing: Promise<void> | undefined
  return {
    worker,
    feed,
    store,
    queue,
    metricsUrl,
    close: () =>
      (closing ??= (async () => {
        await worker.stop()
        await done
        await feed.stop()
        await checkpointer?.stop()
        await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
        await queue.close()
        await store.close()
      })()),
  }
}
