import { DRIFT_METHODS } from '@inferlog/analysis'
import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import type { DriftQuery, DriftService } from '../../monitoring/drift-service.js'
import { parseFilterObject } from '../../query/parse-filter.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

/** Most fields one request may analyse. */
export const MAX_DRIFT_FIELDS = 100

const FIELD = /^(input|output|internals|context|usage|latency_ms|model\.params)(\.[^.\s]{1,128}){0,16}$/

function fieldsOf(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_DRIFT_FIELDS) {
    throw new InferlogError(
      'invalid_parameter',
      `fields must be a list of 1..${MAX_DRIFT_FIELDS} paths such as ["input.age", "output.score"]`,
    )
  }
  for (const f of v)
    if (typeof f !== 'string' || !FIELD.test(f))
      throw new InferlogError('invalid_parameter', `field ${JSON.stringify(f)} is not a dotted path such as input.age`)
  return [...new Set(v as string[])]
}

function record<T>(v: unknown, name: string, check: (x: unknown) => x is T, what: string): Record<string, T> | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InferlogError('invalid_parameter', `${name} must be an object {FIELD: ${what}}`)
  for (const [k, x] of Object.entries(v)) if (!check(x)) throw new InferlogError('invalid_parameter', `${name}.${k} must be ${what}`)
  return v as Record<string, T>
}

function sampleOf(v: unknown): number | undefined {
  if (v === undefined) return undefined
  if (!Number.isInteger(v) || (v as number) < 10 || (v as number) > 1_000_000)
    throw new InferlogError('invalid_parameter', 'sample must be an integer 10..1000000')
  return v as number
}

/**
 * `POST /v1/drift` (DESIGN.md contract), `POST /v1/quality`, `POST /v1/profiles` (save a window's
 * profile), `GET /v1/profiles`, `GET /v1/profiles/{name}`.
 */
export function driftRoutes(d: { auth: Authenticator; drift: DriftService; budget: MemoryBudget }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const read = requireScope(d.auth, 'read')
  app.post('/drift', read, async (c) => {
    const b = await readJsonObject(c, d.budget, '{"reference", "current", "fields", "methods"?, "thresholds"?, "mode"?, "sample"?}')
    const known = ['reference', 'current', 'fields', 'methods', 'thresholds', 'mode', 'sample', 'correction']
    for (const k of Object.keys(b))
      if (!known.includes(k)) throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}; known: ${known.join(', ')}`)
    const fields = fieldsOf(b.fields)
    const ref = b.reference as Record<string, unknown> | undefined
    const reference =
      ref && typeof ref === 'object' && 'profile' in ref
        ? (() => {
            if (typeof ref.profile !== 'string' || Object.keys(ref).length !== 1)
              throw new InferlogError('invalid_parameter', 'reference {"profile": NAME} takes a name only')
            return { profile: ref.profile }
          })()
        : { filter: parseFilterObject(b.reference, 'reference') }
    const mode = b.mode ?? 'exact'
    if (mode !== 'exact' && mode !== 'profile') throw new InferlogError('invalid_parameter', 'mode must be exact or profile')
    const methods = record(
      b.methods,
      'methods',
      (x): x is string => typeof x === 'string' && (DRIFT_METHODS as readonly string[]).includes(x),
      `one of ${DRIFT_METHODS.join(', ')}`,
    )
    const thresholds = record(
      b.thresholds,
      'thresholds',
      (x): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0,
      'a number ≥ 0',
    )
    const correction = b.correction
    if (correction !== undefined && correction !== 'none' && correction !== 'bonferroni' && correction !== 'benjamini-hochberg') {
      throw new InferlogError('invalid_parameter', 'correction must be none, bonferroni or benjamini-hochberg')
    }
    const q: DriftQuery = { reference, current: { filter: parseFilterObject(b.current, 'current') }, fields, mode }
    if (methods) q.methods = methods
    if (thresholds) q.thresholds = thresholds
    if (correction) q.correction = correction as DriftQuery['correction'] & string
    const sample = sampleOf(b.sample)
    if (sample !== undefined) q.sample = sample
    return c.json(await d.drift.drift(c.get('principal').project, q))
  })
  app.post('/quality', read, async (c) => {
    const b = await readJsonObject(c, d.budget, '{"reference": FILTER, "current": FILTER, "fields", "sample"?}')
    for (const k of Object.keys(b))
      if (!['reference', 'current', 'fields', 'sample'].includes(k))
        throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}`)
    const report = await d.drift.quality(
      c.get('principal').project,
      parseFilterObject(b.reference, 'reference'),
      parseFilterObject(b.current, 'current'),
      fieldsOf(b.fields),
      sampleOf(b.sample),
    )
    return c.json(report)
  })
  app.post('/profiles', requireScope(d.auth, 'ingest'), async (c) => {
    const b = await readJsonObject(c, d.budget, '{"name", "filter": FILTER, "fields"}')
    for (const k of Object.keys(b))
      if (!['name', 'filter', 'fields'].includes(k)) throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}`)
    if (typeof b.name !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(b.name))
      throw new InferlogError('invalid_parameter', 'name must be 1-128 letters, digits, ".", "_" or "-"')
    const saved = await d.drift.saveProfile(c.get('principal').project, b.name, parseFilterObject(b.filter, 'filter'), fieldsOf(b.fields))
    return c.json(saved, 201)
  })
  app.get('/profiles', read, async (c) => c.json({ items: await d.drift.listProfiles(c.get('principal').project) }))
  app.get('/profiles/:name', read, async (c) => {
    const name = c.req.param('name')
    const items = await d.drift.listProfiles(c.get('principal').project)
    const found = items.find((p) => p.name === name)
    if (!found) throw new InferlogError('not_found', `no saved profile ${JSON.stringify(name)}`)
    return c.json(found)
  })
  return app
}
