import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import { ensureCatalog } from '../../feed/catalog-consumer.js'
import { type ModelConfigs, parseModelConfig } from '../../monitoring/model-config.js'
import { parseTime } from '../../query/parse-query.js'
import type { DerivedStore } from '../../store/store.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * `GET /v1/models` (models with traffic, from the catalog, with their configuration),
 * `GET /v1/models/{name}`, `PUT /v1/models/{name}` (replace the configuration; admin scope).
 */
export function modelRoutes(d: { auth: Authenticator; derived: DerivedStore; configs: ModelConfigs; budget: MemoryBudget }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const models = async (project: string, only?: string, fromMs?: number, toMs?: number) => {
    await ensureCatalog(d.derived)
    let q = d.derived.db
      .selectFrom('catalog_models')
      .select(['model', 'version', 'events', 'errors', 'first_ts_ms', 'last_ts_ms'])
      .where('project', '=', project)
    if (only !== undefined) q = q.where('model', '=', only)
    if (fromMs !== undefined) q = q.where('last_ts_ms', '>=', fromMs)
    if (toMs !== undefined) q = q.where('first_ts_ms', '<', toMs)
    const rows = (await q.orderBy('model').orderBy('version').execute()) as Record<string, string | number>[]
    const configs = await d.configs.all([project])
    const byName = new Map<string, { name: string; versions: unknown[]; config?: unknown }>()
    for (const r of rows) {
      const name = r.model as string
      let m = byName.get(name)
      if (!m) byName.set(name, (m = { name, versions: [] }))
      m.versions.push({
        version: r.version,
        events: Number(r.events),
        errors: Number(r.errors),
        first_ts: iso(Number(r.first_ts_ms)),
        last_ts: iso(Number(r.last_ts_ms)),
      })
    }
    for (const [key, config] of configs) {
      const name = key.slice(key.indexOf('\u0000') + 1)
      if (only !== undefined && name !== only) continue
      let m = byName.get(name)
      // A configured model without traffic (yet) is listed too, unless a window was asked for.
      if (!m && fromMs === undefined && toMs === undefined) byName.set(name, (m = { name, versions: [] }))
      if (m) m.config = config
    }
    return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }
  app.get('/models', requireScope(d.auth, 'read'), async (c) => {
    const q = c.req.query()
    for (const k of Object.keys(q))
      if (k !== 'from' && k !== 'to')
        throw new InferlogError('invalid_parameter', `unknown query parameter ${JSON.stringify(k)}; known: from, to`)
    const items = await models(
      c.get('principal').project,
      undefined,
      q.from === undefined ? undefined : parseTime('from', q.from),
      q.to === undefined ? undefined : parseTime('to', q.to),
    )
    return c.json({ items })
  })
  app.get('/models/:name', requireScope(d.auth, 'read'), async (c) => {
    const name = c.req.param('name')
    const [m] = await models(c.get('principal').project, name)
    if (!m) throw new InferlogError('not_found', `no model ${JSON.stringify(name)} with traffic or configuration`)
    return c.json(m)
  })
  app.put('/models/:name', requireScope(d.auth, 'admin'), async (c) => {
    const name = c.req.param('name')
    if (name.length === 0 || name.length > 256) throw new InferlogError('invalid_parameter', 'model names are 1-256 characters')
    const config = parseModelConfig(await readJsonObject(c, d.budget, '{"labels"?, "monitored_fields"?, "dimensions"?}'))
    await d.configs.put(c.get('principal').project, name, config)
    return c.json({ name, config })
  })
  return app
}
