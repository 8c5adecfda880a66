import { Hono } from 'hono'
import type { WriteQueue } from '../../ingest/write-queue.js'
import type { ServerMetrics } from '../../metrics.js'
import type { Store } from '../../store/store.js'
import type { AppEnv } from '../app-env.js'

/** `GET /healthz` (the process answers), `GET /readyz` (store and queue reachable), `GET /metrics` (Prometheus). */
export function healthRoutes(d: {
  store: Store
  writer?: { ping?(): Promise<void> }
  queue: WriteQueue
  metrics: ServerMetrics
}): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    try {
      await d.store.ping()
    } catch (e) {
      return c.json({ status: 'unavailable', reason: `store: ${(e as Error).message}` }, 503)
    }
    try {
      await d.writer?.ping?.()
    } catch (e) {
      return c.json({ status: 'unavailable', reason: `queue: ${(e as Error).message}` }, 503)
    }
    return c.json({ status: 'ready', store: d.store.kind, write_queue_depth: d.queue.depth })
  })
  app.get('/metrics', async (c) => {
    c.header('Content-Type', d.metrics.registry.contentType)
    return c.body(await d.metrics.registry.metrics())
  })
  return app
}
