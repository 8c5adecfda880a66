import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import { type BucketName, type MetricsQuery, type MetricsReader } from '../../monitoring/metrics-query.js'
import type { ModelConfigs } from '../../monitoring/model-config.js'
import { parseTime } from '../../query/parse-query.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'

const BUCKETS: readonly BucketName[] = ['minute', 'hour', 'day', 'all']
const KNOWN = ['model', 'version', 'stage', 'arm', 'endpoint', 'from', 'to', 'bucket', 'group_by']
/** Filters of `GET /v1/events` that buckets cannot answer (they would need the raw rows). */
const RAW_ONLY = ['status', 'session_id', 'user_id', 'has_feedback', 'feedback', 'limit', 'cursor']
const GROUPS = ['version', 'stage', 'endpoint', 'arm']

/** Default window when none is given: the last 24 hours. */
export const DEFAULT_METRICS_WINDOW_MS = 86_400_000

/**
 * Parses `GET /v1/metrics` parameters: the filters buckets can answer (`model`, `version` (repeat
 * it for several), `stage`, `arm`, `endpoint`, `from`, `to`), `bucket` (default `hour`) and
 * `group_by` (comma list). Anything else is a 400 naming it.
 */
export function parseMetricsQuery(params: Record<string, string[]>, now: number): MetricsQuery {
  for (const k of Object.keys(params)) {
    if (RAW_ONLY.includes(k))
      throw new InferlogError('invalid_parameter', `${k} cannot filter metrics (they are pre-aggregated); use GET /v1/events for raw rows`)
    if (!KNOWN.includes(k))
      throw new InferlogError('invalid_parameter', `unknown query parameter ${JSON.stringify(k)}; known: ${KNOWN.join(', ')}`)
  }
  const one = (k: string) => {
    const v = params[k]
    if (v === undefined) return undefined
    if (v.length > 1) throw new InferlogError('invalid_parameter', `${k} may be given once`)
    return v[0]
  }
  const bucket = (one('bucket') ?? 'hour') as BucketName
  if (!BUCKETS.includes(bucket))
    throw new InferlogError('invalid_parameter', `bucket must be one of ${BUCKETS.join(', ')}, got ${JSON.stringify(bucket)}`)
  const toMs = one('to') === undefined ? now : parseTime('to', one('to')!)
  const fromMs = one('from') === undefined ? toMs - DEFAULT_METRICS_WINDOW_MS : parseTime('from', one('from')!)
  if (!(fromMs < toMs)) throw new InferlogError('invalid_parameter', 'from must be before to')
  const groupBy = (one('group_by') ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean)
  for (const g of groupBy) {
    if (!GROUPS.includes(g) && !/^(entity|tag)\.[A-Za-z0-9_.:-]{1,128}$/.test(g)) {
      throw new InferlogError(
        'invalid_parameter',
        `unknown group_by key ${JSON.stringify(g)}; known: ${GROUPS.join(', ')}, entity.KEY, tag.KEY`,
      )
    }
  }
  const q: MetricsQuery = { fromMs, toMs, bucket, groupBy: [...new Set(groupBy)] }
  const model = one('model')
  if (model !== undefined) q.model = model
  if (params.version) q.versions = params.version
  const stage = one('stage')
  if (stage !== undefined) q.stage = stage
  const arm = one('arm')
  if (arm !== undefined) q.arm = arm
  const endpoint = one('endpoint')
  if (endpoint !== undefined) q.endpoint = endpoint
  return q
}

/** `GET /v1/metrics` (DESIGN.md read-side contract). */
export function metricsRoutes(d: { auth: Authenticator; reader: MetricsReader; configs: ModelConfigs; now: () => number }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/metrics', requireScope(d.auth, 'read'), async (c) => {
    const q = parseMetricsQuery(c.req.queries(), d.now())
    const project = c.get('principal').project
    const config = q.model === undefined ? undefined : await d.configs.get(project, q.model)
    return c.json(await d.reader.query(project, q, config))
  })
  return app
}
