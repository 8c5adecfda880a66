import { describe, expect, it } from 'vitest'
import type { Column } from '../fields/column.js'
import { embeddingColumn } from '../fields/column.js'
import { sturgesEdges } from './binned-shares.js'
import { computeDrift, type FieldDriftResult } from './compute-drift.js'
import { adjustPValues } from './correction.js'
import { driftedComponentShare, meanEmbeddingDistance } from './embedding-drift.js'
import { embeddingMatrix } from './embedding-matrix.js'
import { type FixtureColumn, fixtureColumn, readFixture, relClose } from './fixture-columns.test-suite.js'
import { kstwoSf } from './kstwo.js'
import { medianCrossDistance, mmdTest } from './mmd.js'
import { smirnovSf } from './smirnov.js'

interface MethodCase {
  name: string
  reference: FixtureColumn
  current: FixtureColumn
  expected: Record<string, { statistic: number | null; p_value: number | null }>
}

interface DefaultCase {
  name: string
  reference: Record<string, FixtureColumn>
  current: Record<string, FixtureColumn>
  expected: { fields: (FieldDriftResult & { p_value: number | null })[]; drift_share: number; dataset_drift: boolean }
}

interface EmbeddingCase {
  name: string
  dim: number
  reference: number[][]
  current: number[][]
  expected: { distance: number; ratio: number; mmd_gamma: number; mmd2u: number; median_cross_distance: number }
}

interface DistributionCases {
  kstwo: { n: number; x: number; sf: number }[]
  smirnov: { n: number; x: number; sf: number }[]
  sturges_edges: { min: number; max: number; size: number; edges: number[] }[]
  corrections: { p: number[]; bonferroni: number[]; 'benjamini-hochberg': number[] }
}

const methodCases = readFixture<MethodCase[]>('drift-methods.json')
const defaultCases = readFixture<DefaultCase[]>('drift-defaults.json')
const embeddingCases = readFixture<EmbeddingCase[]>('drift-embeddings.json')
const distributions = readFixture<DistributionCases>('drift-distributions.json')

describe('drift methods agree with scipy / Evidently conventions (rel 1e-6)', () => {
  for (const c of methodCases) {
    const ref = new Map<string, Column>([['f', fixtureColumn(c.reference)]])
    const cur = new Map<string, Column>([['f', fixtureColumn(c.current)]])
    for (const [method, want] of Object.entries(c.expected)) {
      it(`${c.name}: ${method}`, () => {
        const report = computeDrift({ fields: ['f'], methods: { f: method } }, ref, cur)
        const got = report.fields[0] as FieldDriftResult
        expect(got.method).toBe(method)
        expect(relClose(got.statistic, want.statistic), `statistic ${got.statistic} vs ${want.statistic}`).toBe(true)
        if (want.p_value !== null) expect(relClose(got.p_value, want.p_value), `p ${got.p_value} vs ${want.p_value}`).toBe(true)
        else expect(got.p_value).toBeUndefined()
      })
    }
  }
})

describe('default method choice, thresholds and dataset drift follow Evidently', () => {
  for (const c of defaultCases) {
    it(c.name, () => {
      const fields = Object.keys(c.reference)
      const ref = new Map(fields.map((f) => [f, fixtureColumn(c.reference[f]!)]))
      const cur = new Map(fields.map((f) => [f, fixtureColumn(c.current[f]!)]))
      const report = computeDrift({ fields }, ref, cur)
      expect(report.drift_share).toBeCloseTo(c.expected.drift_share, 12)
      expect(report.dataset_drift).toBe(c.expected.dataset_drift)
      c.expected.fields.forEach((want, i) => {
        const got = report.fields[i] as FieldDriftResult
        expect({ field: got.field, kind: got.kind, method: got.method, drift: got.drift, threshold: got.threshold }).toEqual({
          field: want.field,
          kind: want.kind,
          method: want.method,
          drift: want.drift,
          threshold: want.threshold,
        })
        expect([got.n_reference, got.n_current]).toEqual([want.n_reference, want.n_current])
        expect(relClose(got.statistic, want.statistic), `${want.field} statistic ${got.statistic} vs ${want.statistic}`).toBe(true)
        if (want.p_value !== null)
          expect(relClose(got.p_value, want.p_value), `${want.field} p ${got.p_value} vs ${want.p_value}`).toBe(true)
      })
    })
  }
})

describe('embedding drift agrees with numpy', () => {
  for (const c of embeddingCases) {
    it(c.name, () => {
      const x = embeddingMatrix(embeddingColumn(c.reference))
      const y = embeddingMatrix(embeddingColumn(c.current))
      expect(relClose(meanEmbeddingDistance(x, y), c.expected.distance)).toBe(true)
      expect(driftedComponentShare(x, y)).toBe(c.expected.ratio)
      expect(relClose(medianCrossDistance(x, y), c.expected.median_cross_distance)).toBe(true)
      const mmd = mmdTest(x, y, { gamma: c.expected.mmd_gamma, permutations: 20 })
      expect(relClose(mmd.mmd2u, c.expected.mmd2u), `mmd2u ${mmd.mmd2u} vs ${c.expected.mmd2u}`).toBe(true)
    })
  }
})

describe('distribution functions agree with scipy', () => {
  it('kstwo.sf over every regime of the Simard–L’Ecuyer selection', () => {
    const bad = distributions.kstwo.filter((c) => !relClose(kstwoSf(c.n, c.x), c.sf))
    expect(bad).toEqual([])
  })
  it('special.smirnov', () => {
    const bad = distributions.smirnov.filter((c) => !relClose(smirnovSf(c.n, c.x), c.sf))
    expect(bad).toEqual([])
  })
  it('numpy.histogram_bin_edges(bins="sturges")', () => {
    for (const c of distributions.sturges_edges) {
      expect(Array.from(sturgesEdges(c.min, c.max, c.size, false))).toEqual(c.edges)
    }
  })
  it('Bonferroni and scipy.stats.false_discovery_control (BH)', () => {
    const { p, bonferroni } = distributions.corrections
    expect(adjustPValues(p, 'bonferroni').every((v, i) => relClose(v, bonferroni[i]!))).toBe(true)
    const bh = distributions.corrections['benjamini-hochberg']
    expect(adjustPValues(p, 'benjamini-hochberg').every((v, i) => relClose(v, bh[i]!))).toBe(true)
  })
})
