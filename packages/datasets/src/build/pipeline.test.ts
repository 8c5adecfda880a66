import { describe, expect, it } from 'vitest'
import { compilePlan } from '../spec/compile-plan.js'
import { parseDatasetSpec } from '../spec/parse-spec.js'
import { fixtureSource } from './dataset-fixture.test-suite.js'
import { type PipelineRow, runPipeline } from './pipeline.js'

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
})
