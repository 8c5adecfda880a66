import { Hono } from 'hono'
import { checkKeyName, checkProjectName, createApiKey, parseScopes, revokeApiKey } from '../../auth/api-keys.js'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import { parseTime } from '../../query/parse-query.js'
import type { ApiKeyRecord, Store } from '../../store/store.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A key as the API shows it: never the secret or its hash. */
export function keyView(k: ApiKeyRecord) {
  return {
    id: k.id,
    project: k.project,
    scopes: k.scopes,
    name: k.name,
    created_at: iso(k.createdMs),
    expires_at: iso(k.expiresMs),
    revoked_at: iso(k.revokedMs),
  }
}

const KEY_FIELDS = ['project', 'scopes', 'name', 'expires_at']

/**
 * `POST /v1/keys`, `GET /v1/keys`, `DELETE /v1/keys/{id}` (admin scope). A key-holding admin
 * manages its own project's keys only; the open-mode operator manages every project's.
 */
export function keyRoutes(d: { auth: Authenticator; store: Store; budget: MemoryBudget; now: () => number }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const admin = requireScope(d.auth, 'admin')
  app.post('/keys', admin, async (c) => {
    const body = await readJsonObject(c, d.budget, '{"project"?, "scopes": [...], "name"?, "expires_at"?}')
    for (const k of Object.keys(body)) {
      if (!KEY_FIELDS.includes(k))
        throw new InferlogError('invalid_parameter', `unknown field ${JSON.stringify(k)}; known: ${KEY_FIELDS.join(', ')}`)
    }
    const principal = c.get('principal')
    if (body.project !== undefined && typeof body.project !== 'string')
      throw new InferlogError('invalid_parameter', 'project must be a string')
    const project = typeof body.project === 'string' ? checkProjectName(body.project) : principal.project
    if (principal.keyId !== null && project !== principal.project) {
      throw new InferlogError('forbidden', 'an admin key can only create keys for its own project')
    }
    if (!Array.isArray(body.scopes)) throw new InferlogError('invalid_parameter', 'scopes must be a list such as ["ingest","read"]')
    if (
      body.expires_at !== undefined &&
      body.expires_at !== null &&
      typeof body.expires_at !== 'string' &&
      typeof body.expires_at !== 'number'
    ) {
      throw new InferlogError('invalid_parameter', 'expires_at must be an RFC 3339 time or epoch milliseconds')
    }
    const expiresMs = body.expires_at == null ? null : parseTime('expires_at', String(body.expires_at))
    const created = await createApiKey(d.store, {
      project,
      scopes: parseScopes(body.scopes),
      ...(body.name !== undefined ? { name: checkKeyName(body.name) } : {}),
      expiresMs,
      nowMs: d.now(),
      actor: { key_id: principal.keyId, name: principal.keyId === null ? 'operator' : 'admin key' },
    })
    d.auth.invalidate()
    return c.json({ key: created.key, ...keyView(created.record) }, 201)
  })
  app.get('/keys', admin, async (c) => {
    const p = c.get('principal')
    const keys = await d.store.listApiKeys(p.keyId === null ? undefined : p.project)
    return c.json({ items: keys.map(keyView) })
  })
  app.delete('/keys/:id', admin, async (c) => {
    const p = c.get('principal')
    const id = c.req.param('id')
    const key = (await d.store.listApiKeys(p.keyId === null ? undefined : p.project)).find((k) => k.id === id)
    // Another project's key is reported as unknown: an admin learns nothing about other tenants.
    if (!key) throw new InferlogError('not_found', `no API key with id ${JSON.stringify(id)}`)
    await revokeApiKey(d.store, key, { nowMs: d.now(), actor: { key_id: p.keyId, name: p.keyId === null ? 'operator' : 'admin key' } })
    d.auth.invalidate()
    return c.body(null, 204)
  })
  return app
}
