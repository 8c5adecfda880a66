import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import { type LiveStream, matchesStreamFilter, parseStreamCursor, type StreamCursor } from '../../monitoring/live-stream.js'
import type { MetricsReader } from '../../monitoring/metrics-query.js'
import type { ModelConfigs } from '../../monitoring/model-config.js'
import { parseEventFilter } from '../../query/parse-query.js'
import { materializeEvent } from '../../query/read-service.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'

const HEARTBEAT_MS = 15_000

/**
 * `GET /v1/stream`: server-sent events of newly committed events matching the `GET /v1/events`
 * filters (`event: event`, `id: POSITION.INDEX`, data the event), resumable exactly with
 * `Last-Event-ID`; with `metrics=1` and a `model`, the current minutes' metrics every
 * `metrics_interval_ms` (default 5 000) as `event: metrics`. A subscriber that falls too far behind
 * gets `event: error` (`too_slow`) and is closed.
 */
export function streamRoutes(d: {
  auth: Authenticator
  live: LiveStream
  reader: MetricsReader
  configs: ModelConfigs
  now: () => number
}): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/stream', requireScope(d.auth, 'read'), async (c) => {
    const q = { ...c.req.query() }
    const metrics = q.metrics === '1' || q.metrics === 'true'
    const interval = q.metrics_interval_ms === undefined ? 5_000 : Number(q.metrics_interval_ms)
    if (!Number.isInteger(interval) || interval < 1_000 || interval > 600_000) {
      throw new InferlogError('invalid_parameter', 'metrics_interval_ms must be an integer 1000..600000')
    }
    const lastId = c.req.header('last-event-id') ?? q.last_event_id
    for (const k of ['metrics', 'metrics_interval_ms', 'last_event_id']) delete q[k]
    if (q.has_feedback !== undefined || q.feedback !== undefined) {
      throw new InferlogError(
        'invalid_parameter',
        'has_feedback and feedback cannot filter the live stream (feedback comes later than the event)',
      )
    }
    const filter = parseEventFilter(q)
    if (metrics && filter.model === undefined) throw new InferlogError('invalid_parameter', 'metrics=1 needs a model filter')
    const cursor: StreamCursor | undefined = parseStreamCursor(lastId)
    if (lastId !== undefined && lastId !== '' && cursor === undefined)
      throw new InferlogError('invalid_parameter', 'Last-Event-ID must be POSITION.INDEX as sent by this stream')
    if (!d.live.join()) throw new InferlogError('overloaded', 'too many live-stream subscribers; retry later', { retryAfter: 5 })
    const project = c.get('principal').project
    const start = cursor ?? { position: await d.live.log.commitHead(), index: -1 }
    return streamSSE(c, async (stream) => {
      let closed = false
      stream.onAbort(() => {
        closed = true
      })
      let pos = start
      let lastBeat = Date.now()
      let lastMetrics = 0
      try {
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ position: pos.position }), id: `${pos.position}.${pos.index}` })
        while (!closed) {
          const from = pos.index >= 0 ? pos.position - 1 : pos.position
          const batches = await d.live.log.readBatches(from, { maxBatches: 50, maxRows: 5_000 })
          for (const b of batches) {
            let i = -1
            for (const e of b.events) {
              if (e.project !== project || !matchesStreamFilter(e, filter)) continue
              i++
              if (b.position === pos.position && i <= pos.index) continue
              await stream.writeSSE({ event: 'event', id: `${b.position}.${i}`, data: JSON.stringify(materializeEvent(e)) })
            }
            pos = { position: b.position, index: -1 }
          }
          const now = Date.now()
          if (metrics && now - lastMetrics >= interval) {
            lastMetrics = now
            const model = filter.model!
            const reply = await d.reader.query(
              project,
              {
                model,
                fromMs: d.now() - 5 * 60_000,
                toMs: d.now() + 60_000,
                bucket: 'minute',
                groupBy: ['version'],
                ...(filter.versions ? { versions: filter.versions } : {}),
              },
              await d.configs.get(project, model),
            )
            await stream.writeSSE({ event: 'metrics', data: JSON.stringify(reply) })
          }
          if (batches.length > 0) {
            const head = await d.live.log.commitHead()
            if (head - pos.position > d.live.maxLagBatches) {
              await stream.writeSSE({
                event: 'error',
                data: JSON.stringify({
                  code: 'too_slow',
                  message: `${head - pos.position} batches behind; reconnect with Last-Event-ID to resume`,
                }),
              })
              return
            }
            continue
          }
          if (now - lastBeat >= HEARTBEAT_MS) {
            lastBeat = now
            await stream.write(': keep-alive\n\n')
          }
          await d.live.next()
        }
      } finally {
        d.live.leave()
      }
    })
  })
  return app
}
