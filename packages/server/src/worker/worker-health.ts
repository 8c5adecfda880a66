import { Hono } from 'hono'
import type { FeedRunner } from '../feed/feed-runner.js'
import type { Queue } from '../queue/queue.js'
import type { Store } from '../store/store.js'
import type { Worker } from './worker.js'
import type { WorkerMetrics } from './worker-metrics.js'

/** `/metrics` (Prometheus, with the queue's backlog), `/healthz`, `/readyz` (store and queue reachable) of a worker. */
export function workerHealthApp(d: { worker: Worker; store: Store; queue: Queue; metrics: WorkerMetrics; feed?: FeedRunner }): Hono {
  const app = new Hono()
  const lag = (d.queue as { lag?: () => Promise<{ pending: number; ackPending: number }> }).lag?.bind(d.queue)
  app.get('/metrics', async (c) => {
    if (lag) {
      try {
        const l = await lag()
        d.metrics.queuePending.set(l.pending)
        d.metrics.queueAckPending.set(l.ackPending)
      } catch {
        // Backlog is unknown while the queue is unreachable; the gauges keep their last value.
      }
    }
    c.header('content-type', d.metrics.registry.contentType)
    return c.body(await d.metrics.registry.metrics())
  })
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    try {
      await d.store.ping()
      await d.queue.ping()
    } catch (e) {
      return c.json({ status: 'unavailable', reason: (e as Error).message }, 503)
    }
    return c.json({ status: 'ready', stats: d.worker.stats, feed: Object.fromEntries(d.feed?.status() ?? []) })
  })
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.path}` } }, 404))
  return app
}
