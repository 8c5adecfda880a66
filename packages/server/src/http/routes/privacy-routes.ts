import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { parseErasureRequest } from '../../privacy/erasure-request.js'
import { InferlogError } from '../../errors.js'
import type { ErasureService } from '../../privacy/erasure-service.js'
import { parseRedactionRules, type RedactionRules } from '../../privacy/redaction-rules.js'
import { parseRetentionPolicy, type RetentionPolicies } from '../../privacy/retention-policies.js'
import type { RetentionService } from '../../privacy/retention-service.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

/**
 * `POST /v1/erasure` (admin scope): privacy erasure of a user's, a session's or listed events.
 * `GET|PUT|DELETE /v1/retention`, `POST /v1/retention/run`: the project's retention policy.
 * `GET|PUT|DELETE /v1/redaction`: the project's server-side redaction rules.
 */
export function privacyRoutes(d: {
  auth: Authenticator
  erasure: ErasureService
  policies: RetentionPolicies
  retention: RetentionService
  redaction: RedactionRules
  budget: MemoryBudget
}): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const admin = requireScope(d.auth, 'admin')
  app.post('/erasure', admin, async (c) => {
    const body = await readJsonObject(
      c,
      d.budget,
      '{"user_id"? | "session_id"? | "ids"?, "reason", "confirm"?: true, "dry_run"?: true}',
      16 * 1024 * 1024,
    )
    const principal = c.get('principal')
    const report = await d.erasure.erase(principal.project, parseErasureRequest(body), {
      key_id: principal.keyId,
      name: principal.keyId === null ? 'operator' : 'api-key',
    })
    return c.json(report)
  })
  const actor = (c: { get(k: 'principal'): { keyId: string | null } }) => {
    const keyId = c.get('principal').keyId
    return { key_id: keyId, name: keyId === null ? 'operator' : 'api-key' }
  }
  app.get('/retention', requireScope(d.auth, 'read'), async (c) => {
    const project = c.get('principal').project
    return c.json({ project, policy: (await d.policies.get(project)) ?? null })
  })
  app.put('/retention', admin, async (c) => {
    const body = await readJsonObject(c, d.budget, '{"events_days": N, "feedback"?: true|false, "reason"?}')
    const project = c.get('principal').project
    const { policy, record } = await d.policies.set(project, parseRetentionPolicy(body), actor(c))
    return c.json({ project, policy, record })
  })
  app.delete('/retention', admin, async (c) => {
    const project = c.get('principal').project
    return c.json({ project, policy: null, record: await d.policies.clear(project, actor(c)) })
  })
  app.post('/retention/run', admin, async (c) => {
    // No body is a plain run; a body must be a JSON object (a dry run must never be taken for a real one).
    const hasBody = c.req.raw.body !== null && c.req.header('content-length') !== '0'
    const body = hasBody ? await readJsonObject(c, d.budget, '{"dry_run"?: true}') : {}
    for (const k of Object.keys(body))
      if (k !== 'dry_run') throw new InferlogError('validation_failed', `unknown field ${JSON.stringify(k)}; known: dry_run`)
    if (body.dry_run !== undefined && typeof body.dry_run !== 'boolean')
      throw new InferlogError('validation_failed', 'dry_run must be true or false')
    const project = c.get('principal').project
    const [run] = await d.retention.run(actor(c), { projects: [project], dryRun: body.dry_run === true })
    if (!run) throw new InferlogError('not_found', `project ${project} has no retention policy (PUT /v1/retention)`)
    return c.json(run)
  })
  app.get('/redaction', requireScope(d.auth, 'read'), async (c) => {
    const project = c.get('principal').project
    return c.json({ project, rules: (await d.redaction.get(project)) ?? null })
  })
  app.put('/redaction', admin, async (c) => {
    const body = await readJsonObject(c, d.budget, '{"paths"?: [...], "detectors"?: ["email", "phone", "card"], "reason"?}')
    const project = c.get('principal').project
    return c.json({ project, ...(await d.redaction.set(project, parseRedactionRules(body), actor(c))) })
  })
  app.delete('/redaction', admin, async (c) => {
    const project = c.get('principal').project
    return c.json({ project, rules: null, record: await d.redaction.clear(project, actor(c)) })
  })
  return app
}
