import { describe, expect, it } from 'vitest'
import { histogramRows, suggestFields, valueAt } from './drift-data.js'

describe('drift page data', () => {
  it('reads dotted paths', () => {
    expect(valueAt({ input: { a: { b: 3 } } }, 'input.a.b')).toBe(3)
    expect(valueAt({ input: 1 }, 'input.a')).toBeUndefined()
    expect(valueAt(null, 'x')).toBeUndefined()
  })

  it('suggests scalar input and output fields', () => {
    expect(suggestFields({ input: { age: 3, tags: ['x'], plan: 'pro' }, output: { score: 0.2 } })).toEqual([
      'input.age',
      'input.plan',
      'output.score',
    ])
    expect(suggestFields({ input: 'text' })).toEqual([])
    expect(suggestFields(undefined)).toEqual([])
  })

  it('bins numbers on shared edges, shares summing to one per window', () => {
    const { kind, rows } = histogramRows([0, 1, 2, 3], [3, 3, 4, null, undefined], 4)
    expect(kind).toBe('numeric')
    const ref = rows.filter((r) => r.window === 'reference')
    const cur = rows.filter((r) => r.window === 'current')
    expect(ref.map((r) => r.x1)).toEqual([0, 1, 2, 3])
    expect(ref.map((r) => r.share)).toEqual([0.25, 0.25, 0.25, 0.25])
    expect(cur.map((r) => r.share)).toEqual([0, 0, 0, 1])
    expect(histogramRows([5, 5], [5], 10).rows.filter((r) => r.window === 'current')).toEqual([
      { window: 'current', share: 1, x1: 5, x2: 6 },
    ])
  })

  it('counts categories, folding the rare ones into (other)', () => {
    const { kind, rows } = histogramRows(['a', 'a', 'b', 'c'], ['a', 'd'], 10, 2)
    expect(kind).toBe('categorical')
    expect(rows.filter((r) => r.window === 'current')).toEqual([
      { window: 'current', category: 'a', share: 0.5 },
      { window: 'current', category: 'b', share: 0 },
      { window: 'current', category: '(other)', share: 0.5 },
    ])
    expect(histogramRows([], []).rows).toEqual([])
  })
})
