import { cacheKeyOf, type CacheRequest, cacheOpportunity, LATENCY_PHASES, windowMs } from '@inferlog/analysis'
import type { InferenceEvent } from '@inferlog/schema'
import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import { bucketQueryOf } from '../../monitoring/comparisons.js'
import type { MetricsReader } from '../../monitoring/metrics-query.js'
import type { ModelConfigs } from '../../monitoring/model-config.js'
import type { PriceTables } from '../../monitoring/price-tables.js'
import { parseEventFilter } from '../../query/parse-query.js'
import type { EventFilter, LogScanner } from '../../store/store.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

/** Most raw events one analysis reads (outliers, cache); the reply says when it stopped there. Default 200 000. */
export const MAX_ANALYSIS_ROWS = 200_000

interface Deps {
  auth: Authenticator
  reader: MetricsReader
  configs: ModelConfigs
  prices: PriceTables
  log: Pick<LogScanner, 'scanEvents' | 'commitHead'>
  budget: MemoryBudget
  now: () => number
}

/**
 * Splits off the analysis's own parameters; the rest are `GET /v1/events` filters, less the list's
 * paging (`limit`, `cursor`): an analysis answers for the whole window, and a `limit` it ignored
 * would look like one it applied.
 *
 * @throws InferlogError `invalid_parameter` naming `limit` or `cursor`, or an unknown filter
 */
function params(q: Record<string, string>, own: readonly string[]): { own: Record<string, string>; filter: EventFilter } {
  const mine: Record<string, string> = {}
  const rest: Record<string, string> = {}
  for (const [k, v] of Object.entries(q)) {
    if ((k === 'limit' || k === 'cursor') && !own.includes(k))
      throw new InferlogError(
        'invalid_parameter',
        `${k} is not a parameter of this analysis (it answers for the whole window${own.includes('top') ? '; top=N sets how many events it lists' : ''})`,
      )
    ;(own.includes(k) ? mine : rest)[k] = v
  }
  return { own: mine, filter: parseEventFilter(rest) }
}

function intParam(v: string | undefined, name: string, dflt: number, max: number): number {
  if (v === undefined) return dflt
  const n = /^\d{1,9}$/.test(v) ? Number(v) : Number.NaN
  if (!(n >= 1 && n <= max)) throw new InferlogError('invalid_parameter', `${name} must be an integer 1..${max}`)
  return n
}

/** Raw events of a window in commit order, at most `max` (the rest is reported as truncated). */
async function* rawEvents(d: Deps, project: string, f: EventFilter, max: number): AsyncGenerator<InferenceEvent & { id: string }, boolean> {
  const upTo = await d.log.commitHead()
  const to = f.toMs ?? d.now()
  const window: EventFilter = { ...f, fromMs: f.fromMs ?? to - 86_400_000, toMs: to }
  let seen = 0
  for await (const chunk of d.log.scanEvents(project, window, { upTo }, 1000)) {
    for (const row of chunk) {
      if (seen++ >= max) return true
      yield JSON.parse(row.body) as InferenceEvent & { id: string }
    }
  }
  return false
}

/**
 * `GET /v1/analysis/latency` (phases from buckets, their share of total, slowest events from the
 * log), `GET /v1/analysis/cost` (tokens and cost from buckets by group), `GET /v1/analysis/cache`
 * (what an exact-match cache would have saved, from the log), `PUT/GET /v1/prices`.
 */
export function analysisRoutes(d: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const read = requireScope(d.auth, 'read')

  app.get('/analysis/latency', read, async (c) => {
    const { own, filter } = params(c.req.query(), ['top'])
    const top = intParam(own.top, 'top', 20, 1000)
    const project = c.get('principal').project
    const q = bucketQueryOf(filter, 'filter', d.now())
    const config = q.model === undefined ? undefined : await d.configs.get(project, q.model)
    const reply = await d.reader.query(project, { ...q, bucket: 'all' }, config)
    const point = reply.series[0]?.points[0]
    const totalMean = point?.latency_ms.total?.mean ?? null
    const phases = Object.fromEntries(
      LATENCY_PHASES.filter((p) => point?.latency_ms[p]).map((p) => {
        const f = point!.latency_ms[p]!
        return [p, { ...f, share_of_total: p !== 'total' && totalMean && f.mean !== null ? f.mean / totalMean : null }]
      }),
    )
    // The slowest events: a bounded min-heap would do; a sorted array of `top` is as good at this size.
    const slowest: { id: string; total: number; ts: string | undefined; model: string; version: string }[] = []
    const it = rawEvents(d, project, filter, MAX_ANALYSIS_ROWS)
    let r = await it.next()
    while (!r.done) {
      const e = r.value
      const total = e.latency_ms?.total
      if (typeof total === 'number' && (slowest.length < top || total > slowest[slowest.length - 1]!.total)) {
        slowest.push({ id: e.id, total, ts: e.ts, model: e.model.name, version: e.model.version })
        slowest.sort((a, b) => b.total - a.total)
        if (slowest.length > top) slowest.pop()
      }
      r = await it.next()
    }
    return c.json({ n: point?.n ?? 0, phases, slowest, truncated: r.value })
  })

  app.get('/analysis/cost', read, async (c) => {
    const { own, filter } = params(c.req.query(), ['group_by'])
    const project = c.get('principal').project
    const groupBy = (own.group_by ?? '').split(',').filter(Boolean)
    const q = bucketQueryOf(filter, 'filter', d.now())
    const config = q.model === undefined ? undefined : await d.configs.get(project, q.model)
    const reply = await d.reader.query(project, { ...q, bucket: 'all', groupBy: groupBy.filter((g) => g !== 'model') }, config)
    const groups = reply.series.map((s) => {
      const p = s.points[0]!
      return {
        group: s.group,
        requests: p.count,
        n: p.n,
        input_tokens: p.usage.input_tokens,
        output_tokens: p.usage.output_tokens,
        cost_usd: p.usage.cost_usd,
        cost_per_request: p.count > 0 ? p.usage.cost_usd / p.count : null,
      }
    })
    return c.json({ groups, priced: (await d.prices.get(project)) !== undefined })
  })

  app.get('/analysis/cache', read, async (c) => {
    const { own, filter } = params(c.req.query(), ['window', 'top'])
    const ttl = own.window === undefined ? 3_600_000 : windowMs(own.window)
    if (ttl === undefined) throw new InferlogError('invalid_parameter', 'window must be a duration such as 30s, 5m, 1h, 7d')
    const top = intParam(own.top, 'top', 10, 1000)
    const requests: CacheRequest[] = []
    const it = rawEvents(d, c.get('principal').project, filter, MAX_ANALYSIS_ROWS)
    let r = await it.next()
    while (!r.done) {
      const e = r.value
      const req: CacheRequest = { id: e.id, key: cacheKeyOf(e), ts: Date.parse(e.ts ?? '') || 0 }
      if (e.usage?.input_tokens !== undefined) req.inputTokens = e.usage.input_tokens
      if (e.usage?.output_tokens !== undefined) req.outputTokens = e.usage.output_tokens
      if (e.usage?.cost_usd !== undefined) req.costUsd = e.usage.cost_usd
      if (e.latency_ms?.total !== undefined) req.latencyMs = e.latency_ms.total
      requests.push(req)
      r = await it.next()
    }
    return c.json({ ...cacheOpportunity(requests, { windowMs: ttl, top }), truncated: r.value })
  })

  app.get('/prices', read, async (c) => {
    const table = await d.prices.get(c.get('principal').project)
    if (!table) throw new InferlogError('not_found', 'no price table for this project (PUT /v1/prices)')
    return c.json(table)
  })
  app.put('/prices', requireScope(d.auth, 'admin'), async (c) => {
    const body = await readJsonObject(
      c,
      d.budget,
      '{"prices": [{"model", "start"?, "input_usd_per_1m", "output_usd_per_1m", "cached_input_usd_per_1m"?}]}',
    )
    return c.json(await d.prices.set(c.get('principal').project, body))
  })
  return app
}
