/**
 * The accuracy of drift from merged hourly profiles, as the server answers `"mode": "profile"`:
 * each window is cut into hours, each hour profiled on its own (values added one by one, as the
 * feed consumer does), hours rolled up into days and merged, then compared with exact drift on
 * the same values. The bounds are the ones docs/monitoring-statistics.md states.
 */
import { describe, expect, it } from 'vitest'
import { computeDrift, type FieldDriftResult } from '../drift/compute-drift.js'
import { seededRandom } from '../drift/random.js'
import { categoricalColumn, numericalColumn } from '../fields/column.js'
import { driftFromProfiles } from './drift-from-profiles.js'
import { addValue, createFieldProfile, type FieldProfile } from './field-profile.js'
import { kllRankError } from './kll-sketch.js'
import { mergeProfiles } from './merge-profiles.js'
import { decodeProfile, encodeProfile } from './profile-codec.js'

const random = seededRandom(23)
const gaussian = () => {
  let u = 0
  while (u === 0) u = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}

/** Stated bounds (profile − exact). */
const BOUNDS = { psi: 0.01, jensenshannon: 0.01, ks: 2 * kllRankError(400), wasserstein: 0.01 } as const

/** Profiles per hour (stored and read back), days rolled up from hours, the window merged from days. */
function hourlyWindow(values: readonly unknown[], perHour: number): FieldProfile {
  const days: FieldProfile[] = []
  let hours: FieldProfile[] = []
  for (let i = 0; i < values.length; i += perHour) {
    const p = createFieldProfile()
    for (const v of values.slice(i, i + perHour)) addValue(p, v)
    hours.push(decodeProfile(encodeProfile(p)))
    if (hours.length === 24) {
      days.push(decodeProfile(encodeProfile(mergeProfiles(...hours))))
      hours = []
    }
  }
  return mergeProfiles(...days, ...hours)
}

const generators: Record<string, (shift: number) => () => number> = {
  normal: (s) => () => gaussian() + s,
  lognormal: (s) => () => Math.exp(gaussian() * (1 + s) + s),
  'one decimal': (s) => () => Math.round((40 + 10 * gaussian() + 10 * s) * 10) / 10,
  'heavy tail': (s) => () => (random() < 0.002 ? 1e4 * random() : gaussian() * (1 + s)),
}

describe('drift from merged hourly profiles against exact drift on the same values', () => {
  for (const [name, gen] of Object.entries(generators)) {
    for (const shift of [0, 0.05, 0.3]) {
      it(`${name}, shift ${shift}: PSI, JS within 0.01, KS within 2 rank errors, normed Wasserstein within 0.01`, () => {
        const ref = Array.from({ length: 72_000 }, gen(0))
        const cur = Array.from({ length: 48_000 }, gen(shift))
        const pr = new Map([['f', hourlyWindow(ref, 1000)]])
        const pc = new Map([['f', hourlyWindow(cur, 1000)]])
        const er = new Map([['f', numericalColumn(ref)]])
        const ec = new Map([['f', numericalColumn(cur)]])
        for (const [method, bound] of Object.entries(BOUNDS)) {
          const request = { fields: ['f'], methods: { f: method } }
          const exact = (computeDrift(request, er, ec).fields[0] as FieldDriftResult).statistic!
          const approx = (driftFromProfiles(request, pr, pc).fields[0] as FieldDriftResult).statistic!
          expect(Math.abs(exact - approx), `${method}: exact ${exact}, profiles ${approx}`).toBeLessThanOrEqual(bound)
        }
        expect(pr.get('f')!.count).toBe(ref.length)
      })
    }
  }

  it('categories and missing values merge exactly: chi-squared, Z, PSI and JS equal exact mode', () => {
    const cats = ['a', 'b', 'c', 'd', 'e', 'f']
    const make = (bias: number) =>
      Array.from({ length: 30_000 }, () => (random() < 0.05 ? null : cats[Math.floor(random() ** (1 + bias) * cats.length)]!))
    const ref = make(0)
    const cur = make(0.1)
    const pr = new Map([['c', hourlyWindow(ref, 700)]])
    const pc = new Map([['c', hourlyWindow(cur, 700)]])
    expect(pr.get('c')!.missing).toBe(ref.filter((v) => v === null).length)
    const er = new Map([['c', categoricalColumn(ref)]])
    const ec = new Map([['c', categoricalColumn(cur)]])
    for (const method of ['chisquare', 'psi', 'jensenshannon']) {
      const request = { fields: ['c'], methods: { c: method } }
      const e = computeDrift(request, er, ec).fields[0] as FieldDriftResult
      const p = driftFromProfiles(request, pr, pc).fields[0] as FieldDriftResult
      expect(p.statistic).toBeCloseTo(e.statistic!, 9)
      if (e.p_value !== undefined) expect(p.p_value).toBeCloseTo(e.p_value, 9)
    }
  })
})
