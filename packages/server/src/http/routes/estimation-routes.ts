import { Hono } from 'hono'
import type { Authenticator } from '../../auth/authenticator.js'
import { InferlogError } from '../../errors.js'
import type { EstimationService } from '../../monitoring/estimation-service.js'
import { parseFilterObject } from '../../query/parse-filter.js'
import type { AppEnv } from '../app-env.js'
import { requireScope } from '../guard.js'
import { readJsonObject } from '../json-body.js'
import type { MemoryBudget } from '../memory-budget.js'

const str = (v: unknown, name: string): string => {
  if (typeof v !== 'string' || v.length === 0) throw new InferlogError('invalid_parameter', `${name} must be a non-empty string`)
  return v
}

/**
 * `POST /v1/estimate` `{reference, current, label, score | probabilities, positive?}`: label-free
 * performance of the current window (CBPE) beside the realized one; `POST /v1/concept-drift`
 * `{reference, current, label, output, fields, bins?}`: where the model's mistakes moved.
 */
export function estimationRoutes(d: { auth: Authenticator; estimation: EstimationService; budget: MemoryBudget }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const read = requireScope(d.auth, 'read')
  app.post('/estimate', read, async (c) => {
    const b = await readJsonObject(c, d.budget, '{"reference", "current", "label", "score" | "probabilities", "positive"?}')
    for (const k of Object.keys(b))
      if (!['reference', 'current', 'label', 'score', 'probabilities', 'positive'].includes(k))
        throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}`)
    const src: { score?: string; probabilities?: string; positive?: string | number | boolean } = {}
    if (b.score !== undefined) src.score = str(b.score, 'score')
    if (b.probabilities !== undefined) src.probabilities = str(b.probabilities, 'probabilities')
    if (b.positive !== undefined) {
      if (!['string', 'number', 'boolean'].includes(typeof b.positive))
        throw new InferlogError('invalid_parameter', 'positive must be a string, number or boolean')
      src.positive = b.positive as string
    }
    const project = c.get('principal').project
    return c.json(
      await d.estimation.estimate(
        project,
        parseFilterObject(b.reference, 'reference'),
        parseFilterObject(b.current, 'current'),
        str(b.label, 'label'),
        src,
      ),
    )
  })
  app.post('/concept-drift', read, async (c) => {
    const b = await readJsonObject(c, d.budget, '{"reference", "current", "label", "output", "fields", "bins"?}')
    for (const k of Object.keys(b))
      if (!['reference', 'current', 'label', 'output', 'fields', 'bins'].includes(k))
        throw new InferlogError('invalid_parameter', `unknown key ${JSON.stringify(k)}`)
    if (
      !Array.isArray(b.fields) ||
      b.fields.length === 0 ||
      b.fields.length > 50 ||
      !b.fields.every((f) => typeof f === 'string' && /^[a-z_]+(\.[^.\s]+)+$/.test(f))
    ) {
      throw new InferlogError('invalid_parameter', 'fields must be a list of 1..50 paths such as input.age')
    }
    const bins = b.bins ?? 10
    if (!Number.isInteger(bins) || (bins as number) < 2 || (bins as number) > 100)
      throw new InferlogError('invalid_parameter', 'bins must be an integer 2..100')
    const project = c.get('principal').project
    return c.json(
      await d.estimation.conceptDrift(
        project,
        parseFilterObject(b.reference, 'reference'),
        parseFilterObject(b.current, 'current'),
        str(b.label, 'label'),
        str(b.output, 'output'),
        b.fields as string[],
        bins as number,
      ),
    )
  })
  return app
}
