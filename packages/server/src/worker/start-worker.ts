import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { stderrLogger, type Logger } from '../logging/logger.js'
import { InferlogError } from '../errors.js'
import { openQueue } from '../queue/open-queue.js'
import type { Queue } from '../queue/queue.js'
import { openStore } from '../store/open-store.js'
import type { Store } from '../store/store.js'
import { createWorkerMetrics } from './worker-metrics.js'
import { Worker, type WorkerOptions } from './worker.js'

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
  /** Tuning passed to {@link Worker}. */
  tuning?: Pick<WorkerOptions, 'maxGroups' | 'maxItems' | 'minBackoffMs' | 'maxBackoffMs' | 'concurrency'>
}

/** A running worker process's parts. */
export interface RunningWorker {
  worker: Worker
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
  const metrics = createWorkerMetrics()
  const worker = new Worker({ store, queue, metrics, logger, ...config.tuning })
  const done = worker.start()

  let server: http.Server | undefined
  let metricsUrl: string | undefined
  if (config.port !== undefined) {
    const lag = (queue as { lag?: () => Promise<{ pending: number; ackPending: number }> }).lag?.bind(queue)
    server = http.createServer((req, res) => {
      void (async () => {
        if (req.url === '/metrics') {
          if (lag) {
            try {
              const l = await lag()
              metrics.queuePending.set(l.pending)
              metrics.queueAckPending.set(l.ackPending)
            } catch {
              // Lag is unknown while the queue is unreachable; the gauges keep their last value.
            }
          }
          res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics())
        } else if (req.url === '/healthz') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
        } else if (req.url === '/readyz') {
          try {
            await store.ping()
            await queue.ping()
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ready', stats: worker.stats }))
          } catch (e) {
            res
              .writeHead(503, { 'content-type': 'application/json' })
              .end(JSON.stringify({ status: 'unavailable', reason: (e as Error).message }))
          }
        } else {
          res.writeHead(404).end()
        }
      })().catch(() => res.writeHead(500).end())
    })
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject)
      server!.listen(config.port, config.host ?? '127.0.0.1', () => resolve())
    })
    const a = server.address() as AddressInfo
    metricsUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
  }

  let closing: Promise<void> | undefined
  return {
    worker,
    store,
    queue,
    metricsUrl,
    close: () =>
      (closing ??= (async () => {
        await worker.stop()
        await done
        await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
        await queue.close()
        await store.close()
      })()),
  }
}
