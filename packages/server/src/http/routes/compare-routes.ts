import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import type { Comparisons } from '../../monitoring/comparisons.js'
import { parseEventFilter } from '../../query/parse-query.js'
import { parseFilterObject } from '../../query/parse-filter.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

/** Most primaries a shadow comparison reads. Default 100 000. */
export const MAX_SHADOW_PRIMARIES = 100_000

/**
 * `POST /v1/compare` (A/B: `{a, b, expected_split?}` from buckets; shadow: `{shadow, output?, limit?, top?}`
 * from raw pairs) and `GET /v1/slices?metric=&segment=&FILTERS&alpha=`.
 */
export function compareRoutes(d: { auth: Authenticator; comparisons: Comparisons; budget: MemoryBudget }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const read = requireScope(d.auth, 'read')
  app.post('/compare', read, async (c) => {
    const body = await readJsonObject(c, d.budget, '{"a": FILTER, "b": FILTER, "expected_split"?} or {"shadow": FILTER}')
    const project = c.get('principal').project
    if (body.shadow !== undefined) {
      for (const k of Object.keys(body))
        if (!['shadow', 'output', 'limit', 'top'].includes(k))
          throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)} for a shadow comparison`)
      const output = body.output ?? ''
      if (typeof output !== 'string')
        throw new InferlogError('invalid_parameter', 'output must be a path inside the output ("" for all of it)')
      const limit = body.limit ?? MAX_SHADOW_PRIMARIES
      if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_SHADOW_PRIMARIES) {
        throw new InferlogError('invalid_parameter', `limit must be an integer 1..${MAX_SHADOW_PRIMARIES}`)
      }
      const top = body.top ?? 10
      if (!Number.isInteger(top) || (top as number) < 0 || (top as number) > 1000)
        throw new InferlogError('invalid_parameter', 'top must be an integer 0..1000')
      const filter = parseFilterObject(body.shadow, 'shadow')
      return c.json(await d.comparisons.shadow(project, filter, { output, limit: limit as number, top: top as number }))
    }
    for (const k of Object.keys(body))
      if (!['a', 'b', 'expected_split'].includes(k))
        throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}; known: a, b, expected_split, or shadow`)
    if (body.a === undefined || body.b === undefined) throw new InferlogError('invalid_parameter', 'give both a and b (filters), or shadow')
    const split = body.expected_split ?? 0.5
    if (typeof split !== 'number' || !(split > 0 && split < 1))
      throw new InferlogError('invalid_parameter', 'expected_split must be a number in (0, 1)')
    return c.json(await d.comparisons.ab(project, parseFilterObject(body.a, 'a'), parseFilterObject(body.b, 'b'), split))
  })
  app.get('/slices', read, async (c) => {
    const q = { ...c.req.query() }
    const { metric, segment } = q
    if (!metric) throw new InferlogError('invalid_parameter', 'metric is required, e.g. quality.label.accuracy or error_rate')
    if (!segment)
      throw new InferlogError('invalid_parameter', 'segment is required: version, stage, arm, endpoint, or a declared entity.KEY / tag.KEY')
    const alpha = q.alpha === undefined ? 0.05 : Number(q.alpha)
    if (!(alpha > 0 && alpha < 1)) throw new InferlogError('invalid_parameter', 'alpha must be in (0, 1)')
    for (const k of ['metric', 'segment', 'alpha']) delete q[k]
    const report = await d.comparisons.slices(c.get('principal').project, parseEventFilter(q), segment, metric, alpha)
    if (report.segments.length === 0 && report.worse.length === 0) {
      // Either no data in the window or a metric no segment has: say which when it is the metric.
      if (!/^(error_rate|latency_ms\.|quality\.|usage\.|cost)/.test(metric))
        throw new InferlogError('invalid_parameter', `unknown metric ${JSON.stringify(metric)}`)
    }
    return c.json(report)
  })
  return app
}
