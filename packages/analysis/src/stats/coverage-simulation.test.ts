import mt19937 from '@stdlib/random-base-mt19937'
import { describe, expect, it } from 'vitest'
import { meanInterval } from './t-interval.js'
import { emptyTally, tallyAdd } from './tally.js'
import { emptyMoments, momentsAdd } from './weighted-moments.js'
import { weightedWilsonInterval, wilsonInterval } from './wilson.js'

// 95% intervals must cover the true value in 93–97% of 1 000 seeded runs (deterministic: fixed seeds).
const RUNS = 1000

function rng(seed: number) {
  const gen = mt19937.factory({ seed })
  const uniform = (): number => gen.normalized()
  const normal = (): number => {
    // Box–Muller; 1 − u keeps the logarithm finite.
    const u = 1 - uniform()
    const v = uniform()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  return { uniform, normal }
}

function coverage(trial: (r: ReturnType<typeof rng>) => boolean, seed: number): number {
  const r = rng(seed)
  let hits = 0
  for (let i = 0; i < RUNS; i++) if (trial(r)) hits++
  return hits / RUNS
}

// Poisson sampling from a population in three strata kept at rates 0.1, 0.5 and 1 (weights 10, 2, 1),
// with outcomes that depend on the stratum, so the weights correlate with the outcome.
const SHARES = [0.5, 0.3, 0.2]
const RATES = [0.1, 0.5, 1]
const P_BY_STRATUM = [0.2, 0.4, 0.6]
const MEAN_BY_STRATUM = [40, 55, 70]
const POPULATION = 1500

function stratum(u: number): number {
  return u < (SHARES[0] as number) ? 0 : u < (SHARES[0] as number) + (SHARES[1] as number) ? 1 : 2
}

describe('coverage of 95% intervals in 1 000 seeded runs', () => {
  it('Wilson', () => {
    // n = 250, p = 0.3: Wilson's exact coverage is 95.5% (binomial sum), away from its discreteness spikes.
    const p = 0.3
    const c = coverage((r) => {
      let k = 0
      for (let i = 0; i < 250; i++) if (r.uniform() < p) k++
      const iv = wilsonInterval(k, 250)
      return (iv.ci_low as number) <= p && p <= (iv.ci_high as number)
    }, 101)
    expect(c).toBeGreaterThanOrEqual(0.93)
    expect(c).toBeLessThanOrEqual(0.97)
  })

  it('t', () => {
    const c = coverage((r) => {
      const m = emptyMoments()
      for (let i = 0; i < 20; i++) momentsAdd(m, 10 + 3 * r.normal())
      const iv = meanInterval(m)
      return (iv?.ci_low as number) <= 10 && 10 <= (iv?.ci_high as number)
    }, 202)
    expect(c).toBeGreaterThanOrEqual(0.93)
    expect(c).toBeLessThanOrEqual(0.97)
  })

  it('weighted Wilson (weights 1/sample_rate correlated with the outcome)', () => {
    const truth = SHARES.reduce((s, sh, i) => s + sh * (P_BY_STRATUM[i] as number), 0)
    const c = coverage((r) => {
      const s = emptyTally()
      const t = emptyTally()
      for (let i = 0; i < POPULATION; i++) {
        const h = stratum(r.uniform())
        const y = r.uniform() < (P_BY_STRATUM[h] as number)
        if (r.uniform() >= (RATES[h] as number)) continue
        const w = 1 / (RATES[h] as number)
        tallyAdd(t, w)
        if (y) tallyAdd(s, w)
      }
      const iv = weightedWilsonInterval(s, t)
      return (iv?.ci_low as number) <= truth && truth <= (iv?.ci_high as number)
    }, 303)
    expect(c).toBeGreaterThanOrEqual(0.93)
    expect(c).toBeLessThanOrEqual(0.97)
  })

  it('weighted t (Hájek mean, linearization variance)', () => {
    const truth = SHARES.reduce((s, sh, i) => s + sh * (MEAN_BY_STRATUM[i] as number), 0)
    const c = coverage((r) => {
      const m = emptyMoments()
      for (let i = 0; i < POPULATION; i++) {
        const h = stratum(r.uniform())
        const x = (MEAN_BY_STRATUM[h] as number) + 12 * r.normal()
        if (r.uniform() >= (RATES[h] as number)) continue
        momentsAdd(m, x, 1 / (RATES[h] as number))
      }
      const iv = meanInterval(m)
      return (iv?.ci_low as number) <= truth && truth <= (iv?.ci_high as number)
    }, 404)
    expect(c).toBeGreaterThanOrEqual(0.93)
    expect(c).toBeLessThanOrEqual(0.97)
  })
})
