import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { toInferlogError } from '../../datasets/dataset-builds.js'
import { InferlogError } from '../../errors.js'
import type { LineageService } from '../../lineage/lineage-service.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'

/** `GET /v1/events/{id}/lineage`, `GET /v1/datasets/{id}/lineage` (read scope). */
export function lineageRoutes(d: { auth: Authenticator; lineage: LineageService; datasets: boolean }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const read = requireScope(d.auth, 'read')
  app.get('/events/:id/lineage', read, async (c) => c.json(await d.lineage.event(c.get('principal').project, c.req.param('id'))))
  app.get('/datasets/:id/lineage', read, async (c) => {
    if (!d.datasets) throw new InferlogError('not_found', 'this server keeps no datasets')
    try {
      return c.json(d.lineage.dataset(c.get('principal').project, c.req.param('id')))
    } catch (e) {
      throw toInferlogError(e)
    }
  })
  return app
}
