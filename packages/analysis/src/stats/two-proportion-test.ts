import { CriticalValues, normalCdf } from './distributions.js'
import type { Alternative, IntervalOptions } from './interval.js'
import { proportionEffectiveSize, type Tally } from './tally.js'
import { wilsonWithZ } from './wilson.js'

/** A proportion given as successes out of n; both may be effective (fractional) sizes. */
export interface ProportionSample {
  successes: number
  n: number
}

/** Options of {@link twoProportionTest}. */
export interface TwoProportionTestOptions extends IntervalOptions {
  /** Alternative hypothesis on p_b − p_a. Default `'two-sided'`. */
  alternative?: Alternative
}

/** Result of a comparison of two groups: the difference b − a, its interval and the test. */
export interface DifferenceTest {
  /** Estimate in group a. */
  a: number
  /** Estimate in group b. */
  b: number
  /** b − a. */
  diff: number
  ci_low: number | null
  ci_high: number | null
  /** The test statistic (z or t). */
  statistic: number
  p_value: number
}

/** p-value of a standard normal statistic under an alternative on the sign of b − a. */
export function normalPValue(z: number, alternative: Alternative = 'two-sided'): number {
  if (alternative === 'greater') return 1 - normalCdf(z)
  if (alternative === 'less') return normalCdf(z)
  return Math.min(1, 2 * (1 - normalCdf(Math.abs(z))))
}

/**
 * Two-proportion z test of p_b − p_a with the pooled standard error (as statsmodels'
 * `proportions_ztest`), and Newcombe's hybrid score interval (method 10, built from the two Wilson
 * intervals) for the difference, which keeps its coverage near 0 and 1 where the Wald interval
 * does not. When both groups are all-success or all-failure, z is 0 and the p-value 1.
 *
 * @throws RangeError when a group has no observations
 */
export function twoProportionTest(a: ProportionSample, b: ProportionSample, options: TwoProportionTestOptions = {}): DifferenceTest {
  const z = new CriticalValues(options.confidence ?? 0.95).z
  return twoProportionWithZ(a, b, z, options.alternative ?? 'two-sided')
}

/** {@link twoProportionTest} with a precomputed critical value. */
export function twoProportionWithZ(
  a: ProportionSample,
  b: ProportionSample,
  zCrit: number,
  alternative: Alternative = 'two-sided',
): DifferenceTest {
  if (!(a.n > 0) || !(b.n > 0)) throw new RangeError('both groups need observations')
  const pa = a.successes / a.n
  const pb = b.successes / b.n
  const pooled = (a.successes + b.successes) / (a.n + b.n)
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n))
  const diff = pb - pa
  const statistic = se > 0 ? diff / se : 0
  const p_value = se > 0 ? normalPValue(statistic, alternative) : 1
  const wa = wilsonWithZ(a.successes, a.n, zCrit)
  const wb = wilsonWithZ(b.successes, b.n, zCrit)
  const la = wa.ci_low as number
  const ua = wa.ci_high as number
  const lb = wb.ci_low as number
  const ub = wb.ci_high as number
  const ci_low = diff - Math.sqrt((pb - lb) ** 2 + (ua - pa) ** 2)
  const ci_high = diff + Math.sqrt((ub - pb) ** 2 + (pa - la) ** 2)
  return { a: pa, b: pb, diff, ci_low, ci_high, statistic, p_value }
}

/**
 * {@link twoProportionTest} on weighted tallies: each group's proportion is Σ_success w / Σ w and its
 * size the design-based effective size ({@link proportionEffectiveSize}). `undefined` when a group
 * has no weight.
 */
export function weightedTwoProportionTest(
  aSuccesses: Tally,
  aTotal: Tally,
  bSuccesses: Tally,
  bTotal: Tally,
  options: TwoProportionTestOptions = {},
): DifferenceTest | undefined {
  const a = weightedProportionSample(aSuccesses, aTotal)
  const b = weightedProportionSample(bSuccesses, bTotal)
  if (!a || !b) return undefined
  return twoProportionTest(a, b, options)
}

/** The weighted proportion as p̂·n* successes out of n*; `undefined` without weight. */
export function weightedProportionSample(s: Tally, t: Tally): ProportionSample | undefined {
  if (!(t.w > 0)) return undefined
  const n = proportionEffectiveSize(s, t)
  if (!(n > 0)) return undefined
  const p = Math.min(1, Math.max(0, s.w / t.w))
  return { successes: p * n, n }
}
