import { describe, expect, it } from 'vitest'
import { extractColumns } from '../fields/extract-columns.js'
import { computeQuality } from './data-quality.js'

const ref = [
  { id: 'r1', input: { age: 30, plan: 'pro', tags: 1 } },
  { id: 'r2', input: { age: 40, plan: 'free' } },
  { id: 'r3', input: { age: 50, plan: 'team' } },
  { id: 'r4', input: { plan: 'pro' } },
]
const cur = [
  { id: 'c1', input: { age: 20, plan: 'pro', tags: 'x' } },
  { id: 'c2', input: { age: 45, plan: 'enterprise' } },
  { id: 'c3', input: { age: 'unknown', plan: 'enterprise' } },
  { id: 'c4', input: { age: 70 } },
  { id: 'c5', input: {} },
]
const fields = ['input.age', 'input.plan', 'input.tags']

describe('computeQuality', () => {
  const report = computeQuality(fields, extractColumns(ref, fields), extractColumns(cur, fields), {
    reference: ref.map((e) => e.id),
    current: cur.map((e) => e.id),
  })
  const [age, plan, tags] = report.fields

  it('reports missing shares per window', () => {
    expect(age!.reference).toMatchObject({ kind: 'numerical', rows: 4, missing: 1, missing_share: 0.25 })
    expect(plan!.current).toMatchObject({ rows: 5, missing: 2, missing_share: 0.4 })
    expect(plan!.missing_share_change).toBeCloseTo(0.4, 12)
  })

  it('reports a type that appeared, with example ids', () => {
    expect(age!.current.kind).toBe('mixed')
    expect(age!.type_changes).toEqual([{ type: 'string', count: 1, examples: ['c3'] }])
    expect(tags!.type_changes).toEqual([{ type: 'string', count: 1, examples: ['c1'] }])
  })

  it('reports new and vanished categories', () => {
    expect(plan!.new_categories).toEqual([{ value: 'enterprise', count: 2, examples: ['c2', 'c3'] }])
    expect(plan!.vanished_categories!.map((c) => c.value).sort()).toEqual(['free', 'team'])
  })

  it('reports values outside the reference range', () => {
    const num = computeQuality(
      ['input.age'],
      extractColumns(ref, ['input.age']),
      extractColumns(cur.slice(0, 2).concat(cur[3]!), ['input.age']),
      {
        reference: ref.map((e) => e.id),
        current: ['c1', 'c2', 'c4'],
      },
    ).fields[0]!
    expect(num.out_of_range).toEqual({
      reference_min: 30,
      reference_max: 50,
      below: { count: 1, examples: ['c1'] },
      above: { count: 1, examples: ['c4'] },
    })
  })
})
