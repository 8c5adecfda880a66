import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { parseErasureRequest } from '../../privacy/erasure-request.js'
import type { ErasureService } from '../../privacy/erasure-service.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

/** `POST /v1/erasure` (admin scope): privacy erasure of a user's, a session's or listed events. */
export function privacyRoutes(d: { auth: Authenticator; erasure: ErasureService; budget: MemoryBudget }): Hono<AppEnv> {
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
  return app
}
