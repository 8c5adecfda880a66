import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import type { ReviewQueues } from '../../datasets/review-queues.js'
import { MAX_QUEUE } from '../../datasets/review-queues.js'
import { InferlogError } from '../../errors.js'
import { parseFilterObject } from '../../query/parse-filter.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

const STRATEGIES = ['least-confidence', 'margin', 'entropy', 'disagreement'] as const
const NAME = /^[A-Za-z0-9._-]{1,128}$/

/**
 * `POST /v1/review` `{queue, label, strategy, filter, limit}` (select), `GET /v1/review`,
 * `GET /v1/review/{queue}` (items and progress), `GET /v1/review/{queue}/tasks` (Label Studio),
 * `POST /v1/review/{queue}/import` (a Label Studio export → feedback).
 */
export function reviewRoutes(d: { auth: Authenticator; review: ReviewQueues; budget: MemoryBudget }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const read = requireScope(d.auth, 'read')
  const write = requireScope(d.auth, 'ingest')
  app.post('/review', write, async (c) => {
    const b = await readJsonObject(c, d.budget, '{"queue", "label", "strategy", "filter", "limit"}')
    for (const k of Object.keys(b))
      if (!['queue', 'label', 'strategy', 'filter', 'limit'].includes(k))
        throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}`)
    if (typeof b.queue !== 'string' || !NAME.test(b.queue))
      throw new InferlogError('invalid_parameter', 'queue must be 1-128 letters, digits, ".", "_" or "-"')
    if (typeof b.label !== 'string' || b.label.length === 0 || b.label.length > 128)
      throw new InferlogError('invalid_parameter', 'label must be the feedback name the reviewers give, e.g. label')
    if (!STRATEGIES.includes(b.strategy as never))
      throw new InferlogError('invalid_parameter', `strategy must be one of ${STRATEGIES.join(', ')}`)
    const limit = b.limit ?? 100
    if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_QUEUE)
      throw new InferlogError('invalid_parameter', `limit must be an integer 1..${MAX_QUEUE}`)
    const filter = parseFilterObject(b.filter ?? {}, 'filter')
    return c.json(
      await d.review.create(
        c.get('principal').project,
        b.queue,
        b.label,
        b.strategy as (typeof STRATEGIES)[number],
        filter,
        limit as number,
      ),
      201,
    )
  })
  app.get('/review', read, async (c) => c.json({ items: await d.review.list(c.get('principal').project) }))
  app.get('/review/:queue', read, async (c) => c.json(await d.review.progress(c.get('principal').project, c.req.param('queue'))))
  app.get('/review/:queue/tasks', read, async (c) => c.json(await d.review.tasks(c.get('principal').project, c.req.param('queue'))))
  app.post('/review/:queue/import', write, async (c) => {
    const text = await readJsonObject(c, d.budget, '{"tasks": LABEL_STUDIO_EXPORT}', 32 * 1024 * 1024)
    return c.json(await d.review.import(c.get('principal').project, c.req.param('queue'), text.tasks))
  })
  return app
}
