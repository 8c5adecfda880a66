import { Hono } from 'hono'
import { buildInclusionProof } from '../../audit/inclusion-proof.js'
import { latestCheckpoint } from '../../audit/sealed-batches.js'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import type { Store } from '../../store/store.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'

/**
 * `GET /v1/audit/head` (the latest signed checkpoint) and `GET /v1/audit/proof/{event_id}` (an
 * inclusion proof of one of the caller's project's events), read scope.
 */
export function auditRoutes(d: { auth: Authenticator; store: Store }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const read = requireScope(d.auth, 'read')
  app.get('/audit/head', read, async (c) => {
    // Before the chain ran once there is no table yet: the same answer as no checkpoint.
    const head = await latestCheckpoint(d.store.derived).catch(() => undefined)
    if (!head) throw new InferlogError('not_found', 'no signed checkpoint yet: the server signs one when started with --audit-key')
    return c.json(head)
  })
  app.get('/audit/proof/:id', read, async (c) => c.json(await buildInclusionProof(d.store, c.get('principal').project, c.req.param('id'))))
  return app
}
