import fs from 'node:fs'
import { Readable } from 'node:stream'
import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { type DatasetBuilds, toInferlogError } from '../../datasets/dataset-builds.js'
import type { DatasetTriggers } from '../../datasets/dataset-triggers.js'
import { InferlogError } from '../../errors.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

const CONTENT_TYPES: Record<string, string> = {
  jsonl: 'application/x-ndjson',
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
}

/** Rows a preview counts by default before it stops (`truncated`). */
export const DEFAULT_PREVIEW_ROWS = 100_000
/** Most rows a preview may be asked to count. */
export const MAX_PREVIEW_ROWS = 1_000_000

/**
 * `POST /v1/datasets/preview` `{spec, max_rows?}` → what a build would write (rows per split and
 * label, drop counts), writing nothing;
 * `POST /v1/datasets` `{name, spec, since_last?}` → 201 `{id, name, version, manifest}`;
 * `GET /v1/datasets` (names with their versions); `GET /v1/datasets/{id}` (the manifest);
 * `GET /v1/datasets/{id}/files/{file}` (a file the manifest lists, streamed);
 * `PUT|GET|DELETE /v1/datasets/{name}/trigger` (retraining trigger: schedule, alerts, webhook; PUT
 * and DELETE need admin) and `POST /v1/datasets/{name}/trigger/run` (build now, 202).
 */
export function datasetRoutes(d: {
  auth: Authenticator
  builds: DatasetBuilds
  triggers?: DatasetTriggers
  budget: MemoryBudget
}): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const read = requireScope(d.auth, 'read')
  const run = <T>(fn: () => T): T => {
    try {
      return fn()
    } catch (e) {
      throw toInferlogError(e)
    }
  }
  app.post('/datasets', read, async (c) => {
    const body = await readJsonObject(c, d.budget, '{"name", "spec", "since_last"?}')
    for (const k of Object.keys(body))
      if (!['name', 'spec', 'since_last'].includes(k))
        throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}; known: name, spec, since_last`)
    if (body.name !== undefined && typeof body.name !== 'string') throw new InferlogError('invalid_parameter', 'name must be a string')
    if (body.spec === undefined) throw new InferlogError('invalid_parameter', 'spec is required (an object, or JSON/YAML text)')
    if (body.since_last !== undefined && typeof body.since_last !== 'boolean')
      throw new InferlogError('invalid_parameter', 'since_last must be true or false')
    const built = await d.builds.build(c.get('principal').project, body.name as string | undefined, body.spec, body.since_last === true)
    return c.json(built, 201)
  })
  app.post('/datasets/preview', read, async (c) => {
    const body = await readJsonObject(c, d.budget, '{"spec", "max_rows"?}')
    for (const k of Object.keys(body))
      if (!['spec', 'max_rows'].includes(k))
        throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}; known: spec, max_rows`)
    if (body.spec === undefined) throw new InferlogError('invalid_parameter', 'spec is required (an object, or JSON/YAML text)')
    const max = body.max_rows ?? DEFAULT_PREVIEW_ROWS
    if (!Number.isInteger(max) || (max as number) < 1 || (max as number) > MAX_PREVIEW_ROWS)
      throw new InferlogError('invalid_parameter', `max_rows must be an integer 1..${MAX_PREVIEW_ROWS}`)
    return c.json(await d.builds.preview(c.get('principal').project, body.spec, max as number))
  })
  app.get('/datasets', read, async (c) => c.json({ items: run(() => d.builds.catalog(c.get('principal').project).list()) }))
  const triggers = d.triggers
  if (triggers) {
    const admin = requireScope(d.auth, 'admin')
    app.put('/datasets/:name/trigger', admin, async (c) => {
      const body = await readJsonObject(c, d.budget, '{"spec", "schedule"?, "on_alert"?, "since_last"?, "webhook"?}')
      return c.json(await triggers.set(c.get('principal').project, c.req.param('name'), body))
    })
    app.get('/datasets/:name/trigger', read, async (c) => c.json(await triggers.show(c.get('principal').project, c.req.param('name'))))
    app.delete('/datasets/:name/trigger', admin, async (c) => {
      await triggers.remove(c.get('principal').project, c.req.param('name'))
      return c.body(null, 204)
    })
    app.post('/datasets/:name/trigger/run', admin, async (c) => {
      await triggers.requestRun(c.get('principal').project, c.req.param('name'))
      return c.json({ requested: true }, 202)
    })
  }
  app.get('/datasets/:id', read, async (c) => c.json(run(() => d.builds.catalog(c.get('principal').project).get(c.req.param('id')))))
  app.get('/datasets/:id/files/:file', read, async (c) => {
    const file = c.req.param('file')
    const p = run(() => d.builds.catalog(c.get('principal').project).file(c.req.param('id'), file))
    const ext = file.slice(file.lastIndexOf('.') + 1)
    c.header('content-type', CONTENT_TYPES[ext] ?? 'application/octet-stream')
    c.header('content-length', String(fs.statSync(p).size))
    c.header('content-disposition', `attachment; filename="${file.replace(/[^A-Za-z0-9._-]/g, '_')}"`)
    return c.body(Readable.toWeb(fs.createReadStream(p)) as ReadableStream)
  })
  return app
}
