import gammainc from '@stdlib/math-base-special-gammainc'
import type { CountPair } from './value-counts.js'

/** Result of a test that yields a statistic and a p-value. */
export interface TestResult {
  statistic: number
  pValue: number
}

/**
 * Survival function of the chi-squared distribution with `dof` degrees of freedom: the regularized
 * upper incomplete gamma Q(dof/2, x/2), as scipy's `chi2.sf` (cephes `chdtrc`).
 */
export function chi2Sf(x: number, dof: number): number {
  if (Number.isNaN(x) || !(dof > 0)) return Number.NaN
  if (x === Number.POSITIVE_INFINITY) return 0
  if (x <= 0) return 1
  return gammainc(x / 2, dof / 2, true, true)
}

/**
 * Evidently's `chisquare` drift test: scipy's `chisquare(f_obs, f_exp)` goodness of fit of the
 * current counts against the reference shares scaled to the current size, over the categories of
 * reference ∪ current. A category absent from the reference makes the statistic +∞ and p = 0, as
 * in scipy. With a single category there are no degrees of freedom; p is reported as 1 (scipy gives
 * NaN) since both windows are then identical.
 */
export function chiSquareTest(counts: CountPair): TestResult {
  const k = counts.reference.length
  const scale = counts.nCurrent / counts.nReference
  let stat = 0
  for (let i = 0; i < k; i++) {
    const expected = counts.reference[i]! * scale
    const d = counts.current[i]! - expected
    stat += expected === 0 ? Number.POSITIVE_INFINITY : (d * d) / expected
  }
  if (k < 2) return { statistic: stat, pValue: 1 }
  return { statistic: stat, pValue: chi2Sf(stat, k - 1) }
}
