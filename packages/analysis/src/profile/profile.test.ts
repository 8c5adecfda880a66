import { describe, expect, it } from 'vitest'
import { computeDrift, type FieldDriftResult } from '../drift/compute-drift.js'
import { seededRandom } from '../drift/random.js'
import { categoricalColumn, embeddingColumn, numericalColumn } from '../fields/column.js'
import { driftFromProfiles } from './drift-from-profiles.js'
import { addValue, createFieldProfile, type FieldProfile, profileColumn, profileKind } from './field-profile.js'
import { FrequentItems } from './frequent-items.js'
import { HyperLogLog } from './hyperloglog.js'
import { KllSketch, kllRankError } from './kll-sketch.js'
import { mergeProfiles } from './merge-profiles.js'
import { decodeProfile, encodeProfile } from './profile-codec.js'

const random = seededRandom(11)
function gaussian(): number {
  let u = 0
  while (u === 0) u = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}

const generators: Record<string, (shift: number, scale: number) => () => number> = {
  normal: (s, c) => () => gaussian() * c + s,
  'normal with far outliers': (s, c) => () => (random() < 0.001 ? 50 + gaussian() : gaussian() * c + s),
  lognormal: (s, c) => () => Math.exp(gaussian() * c + s),
  'two decimals': (s, c) => () => Math.round((gaussian() * c + s) * 100) / 100,
  'integer ages': (s, c) => () => Math.round(40 + 12 * (gaussian() * c + s)),
  uniform: (s, c) => () => random() * 10 * c + s,
}

function stat(report: ReturnType<typeof computeDrift>): number {
  return (report.fields[0] as FieldDriftResult).statistic!
}

describe('drift from profiles approximates exact drift', () => {
  for (const [name, gen] of Object.entries(generators)) {
    for (const [n, shift, scale] of [
      [60_000, 0, 1],
      [60_000, 0.1, 1],
      [40_000, 0.3, 1.2],
    ] as const) {
      it(`${name}, shift ${shift}: PSI and JS within 0.01, KS within the rank errors, Wasserstein within 0.01`, () => {
        const ref = new Map([['f', numericalColumn(Float64Array.from({ length: n }, gen(0, 1)))]])
        const cur = new Map([['f', numericalColumn(Float64Array.from({ length: n }, gen(shift, scale)))]])
        const pr = new Map([['f', profileColumn(ref.get('f')!)]])
        const pc = new Map([['f', profileColumn(cur.get('f')!)]])
        for (const [method, tolerance] of [
          ['psi', 0.01],
          ['jensenshannon', 0.01],
          ['ks', 2 * kllRankError(400)],
          ['wasserstein', 0.01],
        ] as const) {
          const exact = stat(computeDrift({ fields: ['f'], methods: { f: method } }, ref, cur))
          const approx = stat(driftFromProfiles({ fields: ['f'], methods: { f: method } }, pr, pc))
          expect(Math.abs(exact - approx), `${method}: exact ${exact}, profile ${approx}`).toBeLessThanOrEqual(tolerance)
        }
      })
    }
  }

  it('is exact for categories within the frequent-items capacity, and picks the same default methods', () => {
    const cats = ['a', 'b', 'c', 'd', 'e']
    const mk = (bias: number) => categoricalColumn(Array.from({ length: 3000 }, () => cats[Math.floor(random() ** (1 + bias) * 5)]!))
    const ref = new Map([['c', mk(0)]])
    const cur = new Map([['c', mk(0.2)]])
    const pr = new Map([['c', profileColumn(ref.get('c')!)]])
    const pc = new Map([['c', profileColumn(cur.get('c')!)]])
    for (const method of [undefined, 'chisquare', 'psi', 'z']) {
      const req = { fields: ['c'], methods: method ? { c: method } : undefined }
      const e = computeDrift(req, ref, cur).fields[0] as FieldDriftResult
      const p = driftFromProfiles(req, pr, pc).fields[0] as FieldDriftResult
      expect(p.method).toBe(e.method)
      expect(p.statistic).toBeCloseTo(e.statistic!, 10)
      if (e.p_value !== undefined) expect(p.p_value).toBeCloseTo(e.p_value, 10)
    }
  })

  it('gives the mean-embedding distance exactly and refuses row-based embedding methods', () => {
    const rows = (s: number) => Array.from({ length: 200 }, () => [gaussian() + s, gaussian(), gaussian()])
    const ref = new Map([['e', embeddingColumn(rows(0))]])
    const cur = new Map([['e', embeddingColumn(rows(0.5))]])
    const pr = new Map([['e', profileColumn(ref.get('e')!)]])
    const pc = new Map([['e', profileColumn(cur.get('e')!)]])
    const e = computeDrift({ fields: ['e'], methods: { e: 'distance' } }, ref, cur).fields[0] as FieldDriftResult
    const p = driftFromProfiles({ fields: ['e'] }, pr, pc).fields[0] as FieldDriftResult
    expect(p.method).toBe('distance')
    expect(p.statistic).toBeCloseTo(e.statistic!, 6)
    expect(driftFromProfiles({ fields: ['e'], methods: { e: 'mmd' } }, pr, pc).fields[0]).toMatchObject({
      error: { code: 'method_not_applicable' },
    })
  })

  it('reports per-field errors like exact mode', () => {
    const mixed = createFieldProfile()
    addValue(mixed, 1)
    addValue(mixed, 'x')
    const num = profileColumn(numericalColumn([1, 2, 3]))
    const cat = profileColumn(categoricalColumn(['a']))
    const report = driftFromProfiles(
      { fields: ['m', 'k', 'none'] },
      new Map([
        ['m', mixed],
        ['k', num],
      ]),
      new Map([
        ['m', num],
        ['k', cat],
      ]),
    )
    expect(report.fields.map((f) => ('error' in f ? f.error.code : 'ok'))).toEqual(['mixed_types', 'mixed_types', 'no_values'])
  })
})

describe('profiles merge and serialize', () => {
  it('merging hourly profiles equals profiling the whole window (moments exact, sketches within error)', () => {
    const all = Float64Array.from({ length: 30_000 }, () => gaussian() * 3 + 1)
    const parts = [0, 10_000, 20_000].map((s) => profileColumn(numericalColumn(all.slice(s, s + 10_000))))
    const merged = mergeProfiles(...parts)
    const whole = profileColumn(numericalColumn(all.slice()))
    expect(merged.count).toBe(30_000)
    expect(merged.numeric!.n).toBe(30_000)
    expect(merged.numeric!.mean).toBeCloseTo(whole.numeric!.mean, 10)
    expect(merged.numeric!.m2 / merged.numeric!.n).toBeCloseTo(whole.numeric!.m2 / whole.numeric!.n, 8)
    expect([merged.numeric!.min, merged.numeric!.max]).toEqual([whole.numeric!.min, whole.numeric!.max])
    const sorted = all.slice().sort()
    for (const q of [0.01, 0.25, 0.5, 0.9, 0.999]) {
      const est = merged.numeric!.quantiles.quantile(q)
      const rank = sorted.findIndex((v) => v >= est) / sorted.length
      expect(Math.abs(rank - q)).toBeLessThanOrEqual(kllRankError(400))
    }
    expect(Math.abs(merged.distinct.estimate() - 30_000) / 30_000).toBeLessThan(4 * merged.distinct.relativeError)
  })

  it('round-trips through bytes', () => {
    const p: FieldProfile = profileColumn(numericalColumn(Float64Array.from({ length: 5000 }, gaussian)))
    addValue(p, 'late string')
    const q = decodeProfile(encodeProfile(p))
    expect(q.count).toBe(p.count)
    expect(q.types).toEqual(p.types)
    expect(q.numeric!.mean).toBe(p.numeric!.mean)
    expect(q.numeric!.quantiles.quantile(0.3)).toBe(p.numeric!.quantiles.quantile(0.3))
    expect(q.numeric!.histogram.buckets).toBe(p.numeric!.histogram.buckets)
    expect(q.categories!.count('late string')).toBe(1)
    expect(q.distinct.estimate()).toBe(p.distinct.estimate())
    expect(profileKind(q)).toBe('mixed')
    expect(encodeProfile(q)).toEqual(encodeProfile(p))
    expect(() => decodeProfile(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/not a field profile|truncated/)
  })
})

describe('sketches', () => {
  it('KLL ranks stay within the stated rank error, after merges too', () => {
    const values = Float64Array.from({ length: 100_000 }, () => random() ** 3)
    const a = new KllSketch({ k: 200 })
    const b = new KllSketch({ k: 200, seed: 7 })
    values.forEach((v, i) => (i % 2 ? a : b).update(v))
    a.merge(b)
    const sorted = values.slice().sort()
    let worst = 0
    for (let i = 1; i < 100; i++) {
      const x = sorted[Math.floor((i / 100) * sorted.length)]!
      worst = Math.max(worst, Math.abs(a.rank(x) - i * 1000) / 100_000)
    }
    expect(worst).toBeLessThanOrEqual(kllRankError(200))
    expect(a.retained).toBeLessThan(1000)
  })

  it('frequent items are exact below capacity and keep heavy hitters above it', () => {
    const f = new FrequentItems<string>({ capacity: 16 })
    for (let i = 0; i < 10; i++) f.add(`x${i}`, i + 1)
    expect(f.exact).toBe(true)
    expect(f.count('x9')).toBe(10)
    for (let i = 0; i < 5000; i++) f.add(i % 5 === 0 ? 'heavy' : `noise${i}`)
    expect(f.exact).toBe(false)
    expect(f.count('heavy')).toBeGreaterThan(1000 - f.offset - 1)
    expect(f.count('heavy')).toBeLessThanOrEqual(1000)
  })

  it('HyperLogLog counts small sets exactly and large ones within 5%', () => {
    const h = new HyperLogLog()
    for (let i = 0; i < 20; i++) h.add(`v${i}`)
    expect(Math.round(h.estimate())).toBe(20)
    const g = new HyperLogLog()
    for (let i = 0; i < 200_000; i++) g.add(i * 0.5)
    expect(Math.abs(g.estimate() - 200_000) / 200_000).toBeLessThan(0.05)
  })
})
