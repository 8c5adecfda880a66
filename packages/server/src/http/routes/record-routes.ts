import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { parseEventFilter, parseFeedbackFilter, parseLimit } from '../../query/parse-query.js'
import type { ReadService } from '../../query/read-service.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'

/** `GET /v1/events/{id}`, `GET /v1/events`, `GET /v1/feedback`. */
export function recordRoutes(d: { auth: Authenticator; reads: ReadService }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const read = requireScope(d.auth, 'read')
  app.get('/events/:id', read, async (c) => c.json(await d.reads.event(c.get('principal').project, c.req.param('id'))))
  app.get('/events', read, async (c) => {
    const q = c.req.query()
    return c.json(await d.reads.events(c.get('principal').project, parseEventFilter(q), parseLimit(q.limit), q.cursor))
  })
  app.get('/feedback', read, async (c) => {
    const q = c.req.query()
    return c.json(await d.reads.feedback(c.get('principal').project, parseFeedbackFilter(q), parseLimit(q.limit), q.cursor))
  })
  return app
}
