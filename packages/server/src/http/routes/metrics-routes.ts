import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import type { EstimateRequest, MetricsEstimates } from '../../monitoring/metrics-estimates.js'
import { type BucketName, type MetricsQuery, type MetricsReader } from '../../monitoring/metrics-query.js'
import { chooseEncoding, type FieldSelection, parseFields, project as projectFields } from '../../monitoring/metrics-reply.js'
import type { ModelConfigs } from '../../monitoring/model-config.js'
import { parseTime } from '../../query/parse-query.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'

const BUCKETS: readonly BucketName[] = ['minute', 'hour', 'day', 'all']
const KNOWN = ['model', 'version', 'stage', 'arm', 'endpoint', 'from', 'to', 'bucket', 'group_by']
/** Parameters of the label-free estimate beside the realized figures (see {@link parseEstimateRequest}). */
const ESTIMATE = ['estimate', 'score', 'probabilities', 'positive', 'reference_from', 'reference_to']
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
    if (!KNOWN.includes(k) && !ESTIMATE.includes(k))
      throw new InferlogError(
        'invalid_parameter',
        `unknown query parameter ${JSON.stringify(k)}; known: ${[...KNOWN, ...ESTIMATE].join(', ')}`,
      )
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

/**
 * The estimate a metrics query asks for: `estimate=LABEL` with `score=PATH` (binary: the positive
 * class's probability, e.g. `output.score`; `positive=VALUE` names the label value of that class)
 * or `probabilities=PATH` (multiclass: an object class → probability), and optionally
 * `reference_from`/`reference_to` (the labelled window calibration is fitted on; default the
 * queried window). Undefined when `estimate` is absent; a 400 for estimate parameters without it.
 */
export function parseEstimateRequest(params: Record<string, string[]>): EstimateRequest | undefined {
  const one = (k: string) => {
    const v = params[k]
    if (v === undefined) return undefined
    if (v.length > 1 || v[0] === '') throw new InferlogError('invalid_parameter', `${k} may be given once, not empty`)
    return v[0]
  }
  const label = one('estimate')
  if (label === undefined) {
    const stray = ESTIMATE.find((k) => params[k] !== undefined)
    if (stray) throw new InferlogError('invalid_parameter', `${stray} applies with estimate=LABEL only`)
    return undefined
  }
  const r: EstimateRequest = { label }
  const score = one('score')
  const probabilities = one('probabilities')
  for (const [k, v] of [
    ['score', score],
    ['probabilities', probabilities],
  ] as const)
    if (v !== undefined && !/^[A-Za-z_][A-Za-z0-9_-]*(\.[^.\s]+)+$/.test(v))
      throw new InferlogError('invalid_parameter', `${k} must be a path such as output.score, got ${JSON.stringify(v)}`)
  if ((score === undefined) === (probabilities === undefined))
    throw new InferlogError('invalid_parameter', 'estimate needs exactly one of score=PATH (binary) or probabilities=PATH (multiclass)')
  if (score !== undefined) r.score = score
  if (probabilities !== undefined) r.probabilities = probabilities
  const positive = one('positive')
  if (positive !== undefined) r.positive = positive
  const rf = one('reference_from')
  const rt = one('reference_to')
  if ((rf === undefined) !== (rt === undefined))
    throw new InferlogError('invalid_parameter', 'give both reference_from and reference_to, or neither')
  if (rf !== undefined) {
    const reference = { fromMs: parseTime('reference_from', rf), toMs: parseTime('reference_to', rt!) }
    if (!(reference.fromMs < reference.toMs)) throw new InferlogError('invalid_parameter', 'reference_from must be before reference_to')
    r.reference = reference
  }
  return r
}

/**
 * `GET /v1/metrics` (DESIGN.md read-side contract), with `estimated.LABEL` on each point when the
 * query asks for a label-free estimate ({@link parseEstimateRequest}). Extensions: `fields=` (a
 * comma list of dotted paths into a point, see `parseFields`: only those figures, `start` always)
 * and, for the same query at the same aggregate revision, the same bytes from memory, a weak
 * `ETag` (`If-None-Match` gets a 304) and `br`/`gzip` when the client accepts them.
 */
export function metricsRoutes(d: {
  auth: Authenticator
  reader: MetricsReader
  configs: ModelConfigs
  estimates?: MetricsEstimates
  now: () => number
}): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/metrics', requireScope(d.auth, 'read'), async (c) => {
    const { fields: rawFields, ...params } = c.req.queries()
    if (rawFields && rawFields.length > 1) throw new InferlogError('invalid_parameter', 'fields may be given once (a comma list)')
    const fields = parseFields(rawFields?.[0])
    const q = parseMetricsQuery(params, d.now())
    const estimate = parseEstimateRequest(params)
    const project = c.get('principal').project
    const config = q.model === undefined ? undefined : await d.configs.get(project, q.model)
    if (estimate && d.estimates) {
      // Estimates read the log itself (not only the buckets): computed per request.
      const reply = await d.reader.query(project, q, config)
      await d.estimates.attach(project, q, reply, estimate)
      return c.json(fields ? withFields(reply, fields) : reply)
    }
    const reply = await d.reader.reply(project, q, config, fields)
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      ETag: reply.etag,
      Vary: 'Accept-Encoding',
      'Cache-Control': 'no-cache',
    }
    const inm = c.req.header('if-none-match')
    if (inm && inm.split(',').some((t) => t.trim() === reply.etag || t.trim() === '*')) return c.body(null, 304, headers)
    const enc = chooseEncoding(c.req.header('accept-encoding'))
    // Small replies are not worth compressing.
    if (enc && reply.body.length >= 1024) {
      const body = await reply.encode(enc)
      return c.body(body as Uint8Array<ArrayBuffer>, 200, { ...headers, 'Content-Encoding': enc })
    }
    return c.body(reply.body as Uint8Array<ArrayBuffer>, 200, headers)
  })
  return app
}

/** A reply with only the selected figures of each point. */
function withFields<R extends { series: { points: object[] }[] }>(reply: R, fields: FieldSelection): R {
  return { ...reply, series: reply.series.map((s) => ({ ...s, points: s.points.map((p) => projectFields(p, fields) as object) })) }
}
