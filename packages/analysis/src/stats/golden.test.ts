import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { benjaminiHochberg } from './benjamini-hochberg.js'
import { chiSquareGoodnessOfFit } from './chi-square-goodness-of-fit.js'
import { sampleMeanInterval } from './t-interval.js'
import { twoProportionTest } from './two-proportion-test.js'
import { welchTTestSamples } from './welch-t-test.js'
import { wilsonInterval } from './wilson.js'

// Reference values from scipy/numpy: packages/analysis/scripts/make-monitoring-fixtures.py
const fx = JSON.parse(readFileSync(new URL('../../fixtures/monitoring-stats.json', import.meta.url), 'utf8'))

function close(actual: number | null | undefined, expected: number, rel = 1e-6): void {
  expect(typeof actual).toBe('number')
  const tol = rel * Math.max(Math.abs(expected), 1e-12)
  expect(Math.abs((actual as number) - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tol)
}

describe('statistics against scipy', () => {
  it('Wilson intervals', () => {
    for (const c of fx.wilson) {
      const r = wilsonInterval(c.k, c.n, { confidence: c.confidence })
      close(r.value, c.value)
      if (c.ci_low === 0) expect(r.ci_low).toBeLessThan(1e-15)
      else close(r.ci_low, c.ci_low)
      close(r.ci_high, c.ci_high)
    }
  })

  it('t intervals of a mean', () => {
    for (const c of fx.t_intervals) {
      const r = sampleMeanInterval(c.values, undefined, { confidence: c.confidence })
      close(r?.value, c.value)
      close(r?.ci_low, c.ci_low)
      close(r?.ci_high, c.ci_high)
    }
  })

  it('weighted mean intervals', () => {
    for (const c of fx.weighted_mean) {
      const r = sampleMeanInterval(c.values, c.weights)
      close(r?.value, c.value)
      close(r?.ci_low, c.ci_low)
      close(r?.ci_high, c.ci_high)
    }
  })

  it('two-proportion tests with Newcombe intervals', () => {
    for (const c of fx.two_proportion) {
      const a = { successes: c.a[0], n: c.a[1] }
      const b = { successes: c.b[0], n: c.b[1] }
      const r = twoProportionTest(a, b)
      close(r.diff, c.diff)
      close(r.statistic, c.z)
      close(r.p_value, c.p_two_sided)
      close(r.ci_low, c.ci_low)
      close(r.ci_high, c.ci_high)
      close(twoProportionTest(a, b, { alternative: 'less' }).p_value, c.p_less)
      close(twoProportionTest(a, b, { alternative: 'greater' }).p_value, c.p_greater)
    }
  })

  it("Welch's t test", () => {
    for (const c of fx.welch) {
      const r = welchTTestSamples(c.a, c.b)
      close(r.diff, c.diff)
      close(r.statistic, c.t)
      close(r.p_value, c.p_value)
      close(r.ci_low, c.ci_low)
      close(r.ci_high, c.ci_high)
    }
  })

  it('Benjamini–Hochberg', () => {
    for (const c of fx.benjamini_hochberg) {
      const q = benjaminiHochberg(c.p)
      c.q.forEach((v: number, i: number) => close(q[i], v))
    }
  })

  it('chi-square goodness of fit', () => {
    for (const c of fx.chi_square) {
      const r = chiSquareGoodnessOfFit(c.observed, c.shares)
      close(r.statistic, c.statistic)
      close(r.p_value, c.p_value)
    }
  })
})
