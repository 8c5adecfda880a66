import { describe, expect, it } from 'vitest'
import { categoricalColumn, type Column, embeddingColumn, numericalColumn } from '../fields/column.js'
import { extractColumns } from '../fields/extract-columns.js'
import { computeDrift, type FieldDriftResult, isFieldDriftError } from './compute-drift.js'
import { seededRandom } from './random.js'
import { sortFloat64 } from './sort-float64.js'

const random = seededRandom(3)
function gaussian(): number {
  let u = 0
  while (u === 0) u = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}

describe('computeDrift', () => {
  it('reports per-field errors with stable codes and still computes the other fields', () => {
    const ref = extractColumns(
      [
        { a: 1, b: 'x', m: 1, e: [1, 2], o: { k: 1 } },
        { a: 2, b: 'y', m: 'two', e: [2, 3], o: { k: 2 } },
        { a: 3, b: 'x', e: [3, 4] },
      ],
      ['a', 'b', 'm', 'e', 'o', 'gone'],
    )
    const cur = extractColumns(
      [
        { a: 'now a string', b: 'x', e: [1, 1] },
        { a: 5, b: 'z', e: [2, 2] },
      ],
      ['a', 'b', 'm', 'e', 'o', 'gone'],
    )
    const report = computeDrift(
      { fields: ['b', 'a', 'm', 'gone', 'o', 'e', 'b2', 'e2', 'b3'], methods: { e: 'chisquare', b2: 'nope', e2: 'ks', b3: 'mmd' } },
      new Map([...ref, ['b2', ref.get('b')!], ['e2', ref.get('e')!], ['b3', ref.get('b')!]]),
      new Map([...cur, ['b2', cur.get('b')!], ['e2', cur.get('e')!], ['b3', cur.get('b')!]]),
    )
    const codes = report.fields.map((f) => (isFieldDriftError(f) ? f.error.code : f.method))
    expect(codes).toEqual([
      'chisquare',
      'mixed_types',
      'mixed_types',
      'no_values',
      'unsupported_type',
      'method_not_applicable',
      'unknown_method',
      'method_not_applicable',
      'method_not_applicable',
    ])
    expect(report.drift_share).toBe((report.fields[0] as FieldDriftResult).drift ? 1 : 0)
  })

  it('applies Bonferroni and Benjamini–Hochberg across p-value fields only', () => {
    const cols = (shift: number): Map<string, Column> =>
      new Map([
        ['x', numericalColumn(Float64Array.from({ length: 300 }, () => gaussian() + shift))],
        ['y', numericalColumn(Float64Array.from({ length: 300 }, () => gaussian() + shift / 2))],
        ['w', numericalColumn(Float64Array.from({ length: 300 }, () => gaussian()))],
      ])
    const ref = cols(0)
    const cur = cols(0.25)
    const request = { fields: ['x', 'y', 'w'], methods: { w: 'wasserstein' } }
    const plain = computeDrift(request, ref, cur).fields as FieldDriftResult[]
    const bonf = computeDrift({ ...request, correction: 'bonferroni' }, ref, cur).fields as FieldDriftResult[]
    const bh = computeDrift({ ...request, correction: 'benjamini-hochberg' }, ref, cur).fields as FieldDriftResult[]
    expect(bonf[0]!.p_value).toBeCloseTo(Math.min(1, plain[0]!.p_value! * 2), 12)
    expect(bonf[0]!.p_value_raw).toBe(plain[0]!.p_value)
    expect(bonf[2]!.p_value).toBeUndefined()
    const sorted = [plain[0]!.p_value!, plain[1]!.p_value!].sort((a, b) => a - b)
    expect(Math.max(bh[0]!.p_value!, bh[1]!.p_value!)).toBeCloseTo(sorted[1]!, 12)
  })

  it('honours per-field thresholds and dataset drift at a share of 0.5', () => {
    const ref = new Map([['c', categoricalColumn(Array.from({ length: 2000 }, (_, i) => (i % 3 === 0 ? 'a' : 'b')))]])
    const cur = new Map([['c', categoricalColumn(Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? 'a' : 'b')))]])
    const low = computeDrift({ fields: ['c'], thresholds: { c: 0.01 } }, ref, cur)
    const high = computeDrift({ fields: ['c'], thresholds: { c: 0.5 } }, ref, cur)
    expect((low.fields[0] as FieldDriftResult).method).toBe('jensenshannon')
    expect([low.dataset_drift, high.dataset_drift]).toEqual([true, false])
    expect((low.fields[0] as FieldDriftResult).threshold).toBe(0.01)
  })

  it('computes embedding drift: model by default, mmd with a seeded permutation p-value, sampling said so', () => {
    const rows = (n: number, shift: number) =>
      Array.from({ length: n }, () => Array.from({ length: 8 }, (_, j) => gaussian() + (j < 4 ? shift : 0)))
    const ref = new Map([['e', embeddingColumn(rows(800, 0))]])
    const same = new Map([['e', embeddingColumn(rows(800, 0))]])
    const moved = new Map([['e', embeddingColumn(rows(800, 0.6))]])
    const d0 = computeDrift({ fields: ['e'] }, ref, same).fields[0] as FieldDriftResult
    const d1 = computeDrift({ fields: ['e'] }, ref, moved).fields[0] as FieldDriftResult
    expect(d0).toMatchObject({ kind: 'embedding', method: 'model', threshold: 0.55, drift: false })
    expect(d1).toMatchObject({ method: 'model', drift: true })
    const m1 = computeDrift({ fields: ['e'], methods: { e: 'mmd' } }, ref, moved).fields[0] as FieldDriftResult
    const m1again = computeDrift({ fields: ['e'], methods: { e: 'mmd' } }, ref, moved).fields[0] as FieldDriftResult
    expect(m1).toMatchObject({ method: 'mmd', drift: true, sampled: { reference: 500, current: 500 } })
    expect(m1.p_value).toBeLessThan(0.05)
    expect(m1again).toEqual(m1)
    const m0 = computeDrift({ fields: ['e'], methods: { e: 'mmd' } }, ref, same).fields[0] as FieldDriftResult
    expect(m0.drift).toBe(false)
    for (const method of ['distance', 'ratio']) {
      expect((computeDrift({ fields: ['e'], methods: { e: method } }, ref, moved).fields[0] as FieldDriftResult).drift).toBe(true)
      expect((computeDrift({ fields: ['e'], methods: { e: method } }, ref, same).fields[0] as FieldDriftResult).drift).toBe(false)
    }
  })

  it('reports an infinite chi-squared statistic as null with p = 0', () => {
    const ref = new Map([['c', categoricalColumn(['a', 'b', 'a', 'b'])]])
    const cur = new Map([['c', categoricalColumn(['a', 'b', 'c', 'b'])]])
    expect(computeDrift({ fields: ['c'], methods: { c: 'chisquare' } }, ref, cur).fields[0]).toMatchObject({
      statistic: null,
      p_value: 0,
      drift: true,
    })
    expect(JSON.parse(JSON.stringify(computeDrift({ fields: ['c'], methods: { c: 'chisquare' } }, ref, cur)))).toBeTruthy()
  })
})

describe('sortFloat64', () => {
  it('sorts like Float64Array.prototype.sort, negatives and −0 included', () => {
    const a = Float64Array.from({ length: 20_000 }, (_, i) =>
      i % 97 === 0 ? -0 : i % 89 === 0 ? 0 : (random() - 0.5) * 10 ** Math.floor(random() * 8 - 4),
    )
    const want = a.slice().sort()
    const got = sortFloat64(a.slice())
    expect(Array.from(got).every((v, i) => Object.is(v, want[i]))).toBe(true)
  })
})
