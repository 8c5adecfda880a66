import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import type { Alerts } from '../../monitoring/alerts.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

/**
 * `PUT /v1/alerts/rules` `{"rules": [...]}` (replace the project's rules; rejected whole with the
 * path of every error), `GET /v1/alerts` (rules with their state and the latest transitions),
 * `POST /v1/alerts/evaluate` (evaluate now instead of at the next tick; admin).
 */
export function alertRoutes(d: { auth: Authenticator; alerts: Alerts; budget: MemoryBudget }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.put('/alerts/rules', requireScope(d.auth, 'admin'), async (c) => {
    const body = await readJsonObject(c, d.budget, '{"rules": [RULE, ...]}')
    for (const k of Object.keys(body))
      if (k !== 'rules') throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}; the body is {"rules": [...]}`)
    const rules = await d.alerts.setRules(c.get('principal').project, body.rules)
    return c.json({ rules })
  })
  app.get('/alerts', requireScope(d.auth, 'read'), async (c) => {
    // It takes no parameters: one it would ignore (a filter, a limit) is named, as elsewhere.
    const unknown = Object.keys(c.req.queries())[0]
    if (unknown !== undefined)
      throw new InferlogError('invalid_parameter', `unknown query parameter ${JSON.stringify(unknown)}; GET /v1/alerts takes none`)
    return c.json(await d.alerts.view(c.get('principal').project))
  })
  app.post('/alerts/evaluate', requireScope(d.auth, 'admin'), async (c) => {
    const transitions = await d.alerts.evaluateAll()
    await d.alerts.deliver()
    return c.json({ transitions: transitions.filter((t) => t.project === c.get('principal').project) })
  })
  return app
}
