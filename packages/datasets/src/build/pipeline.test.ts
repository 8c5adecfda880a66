import { describe, expect, it } from 'vitest'
import { createMemorySource } from '../source/memory-source.js'
import { compilePlan } from '../spec/compile-plan.js'
import { parseDatasetSpec } from '../spec/parse-spec.js'
import { fixtureSource } from './dataset-fixture.test-suite.js'
import { type PipelineHooks, type PipelineRow, runPipeline } from './pipeline.js'

describe('runPipeline', () => {
  it('a counting pass gives the same rows, values, labels and counts, without splits or weights', async () => {
    const source = fixtureSource()
    const plan = compilePlan(
      parseDatasetSpec({
        feedback: { label: { window: '7d', missing: 'drop' }, total: { name: 'purchase', aggregate: 'sum', missing: { default: 0 } } },
        label: { from: 'label' },
        weight: 'inverse_sample_rate',
        dedupe: 'input',
        split: { by: 'trace.session_id', ratios: { train: 0.5, test: 0.5 }, seed: 's' },
      }),
    )
    const base = { plan, source, project: 'p', bounds: { upToBatch: await source.watermark('p') }, chunkSize: 3 }
    const seen = (rows: PipelineRow[]) => rows.map((r) => [r.event.id, r.values, r.label, r.labelKey])
    const full: PipelineRow[] = []
    const counted: PipelineRow[] = []
    const a = await runPipeline(base, (r) => void full.push(r))
    const b = await runPipeline({ ...base, counting: true }, (r) => void counted.push(r))
    expect(b).toEqual(a)
    expect(full.length).toBeGreaterThan(0)
    expect(seen(counted)).toEqual(seen(full))
    expect(full.some((r) => r.split !== '' && r.weight !== 1)).toBe(true)
    expect(counted.every((r) => r.split === '' && r.splitKey === '' && r.weight === 1)).toBe(true)
  })

  it('without `where` (views made row by row) gives the rows, counts, limits and hook calls of a `where` every event passes', async () => {
    const source = fixtureSource()
    const upToBatch = await source.watermark('p')
    const spec = (extra: object) =>
      compilePlan(
        parseDatasetSpec({
          select: { status: 'ok', ...extra },
          feedback: { label: { window: '7d', missing: 'drop' }, total: { name: 'purchase', aggregate: 'sum', missing: { default: 0 } } },
          label: { from: 'label', map: { true: 1, false: 0 } },
          split: { by: 'trace.session_id', ratios: { train: 0.5, test: 0.5 }, seed: 's' },
        }),
      )
    // Every fixture event that has a model has a name: `where` on it passes them all.
    const everyEvent = { where: { 'model.name': 'churn-clf' }, model: 'churn-clf' }
    const run = async (plan: ReturnType<typeof compilePlan>, hooked: boolean) => {
      const calls: unknown[] = []
      const hooks: PipelineHooks = {
        select: (i) => void calls.push(['select', i]),
        drop: (r) => void calls.push(['drop', r]),
        inputDigest: () => undefined,
        chunkEnd: (n) => void calls.push(['end', n]),
      }
      const rows: unknown[] = []
      const counts = await runPipeline(
        { plan, source, project: 'p', bounds: { upToBatch }, chunkSize: 4, ...(hooked ? { hooks } : {}) },
        (r) => void rows.push([r.event.id, r.values, r.label, r.split, r.weight]),
      )
      return { counts, rows, calls }
    }
    for (const limit of [undefined, 1, 3, 4, 5, 100]) {
      const extra = limit === undefined ? {} : { limit }
      for (const hooked of [false, true]) {
        const plain = await run(spec({ model: 'churn-clf', ...extra }), hooked)
        const filtered = await run(spec({ ...everyEvent, ...extra }), hooked)
        expect(plain).toEqual(filtered)
        expect(plain.rows.length).toBeGreaterThan(0)
      }
    }
  })

  it('without `where`, a stored body that is not a JSON object fails the build with invalid_record', async () => {
    const source = createMemorySource()
    const ok = (n: number) => ({ id: `e${n}`, ts: '2026-11-01T00:00:00.000Z', model: { name: 'm', version: '1' }, input: {}, output: {} })
    source.commit('p', { events: [ok(1), ok(2), '[1, 2]', ok(4)] })
    const plan = compilePlan(parseDatasetSpec({ split: { ratios: { train: 1 } } }))
    const seen: string[] = []
    await expect(
      runPipeline({ plan, source, project: 'p', bounds: { upToBatch: await source.watermark('p') } }, (r) => void seen.push(r.event.id)),
    ).rejects.toMatchObject({ code: 'invalid_record' })
    expect(seen).toEqual(['e1', 'e2'])
  })
})
