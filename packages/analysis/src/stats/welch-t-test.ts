import { CriticalValues, tCdf } from './distributions.js'
import type { Alternative } from './interval.js'
import type { DifferenceTest, TwoProportionTestOptions } from './two-proportion-test.js'
import { momentsDf, momentsMean, momentsMeanVariance, momentsOf, type WeightedMoments } from './weighted-moments.js'

/** One group's mean with the variance of that mean (squared standard error) and its degrees of freedom. */
export interface MeanSample {
  mean: number
  /** Variance of the mean, s²/n for a simple sample. */
  variance: number
  /** Degrees of freedom of the variance estimate, n − 1 for a simple sample. */
  df: number
}

/** Options of {@link welchTTest}: confidence level and alternative on b − a. */
export type WelchTTestOptions = TwoProportionTestOptions

/** p-value of a t statistic under an alternative on the sign of b − a. */
export function tPValue(t: number, df: number, alternative: Alternative = 'two-sided'): number {
  if (alternative === 'greater') return 1 - tCdf(t, df)
  if (alternative === 'less') return tCdf(t, df)
  return Math.min(1, 2 * (1 - tCdf(Math.abs(t), df)))
}

/**
 * Welch's unequal-variance t test of mean_b − mean_a with Welch–Satterthwaite degrees of freedom,
 * and the matching interval for the difference. Matches scipy's `ttest_ind(a, b, equal_var=False)`
 * (with the sign of b − a). When both variances are 0 the p-value is 1 for equal means and 0
 * otherwise, and the interval is the difference itself.
 */
export function welchTTest(a: MeanSample, b: MeanSample, options: WelchTTestOptions = {}): DifferenceTest {
  return welchWith(a, b, new CriticalValues(options.confidence ?? 0.95), options.alternative ?? 'two-sided')
}

/** {@link welchTTest} with a shared critical-value cache. */
export function welchWith(a: MeanSample, b: MeanSample, cv: CriticalValues, alternative: Alternative = 'two-sided'): DifferenceTest {
  const diff = b.mean - a.mean
  const v = a.variance + b.variance
  if (!(v > 0)) {
    return { a: a.mean, b: b.mean, diff, ci_low: diff, ci_high: diff, statistic: 0, p_value: diff === 0 ? 1 : 0 }
  }
  const df = (v * v) / ((a.variance * a.variance) / a.df + (b.variance * b.variance) / b.df)
  const se = Math.sqrt(v)
  const statistic = diff / se
  const half = cv.t(df) * se
  return { a: a.mean, b: b.mean, diff, ci_low: diff - half, ci_high: diff + half, statistic, p_value: tPValue(statistic, df, alternative) }
}

/** The mean sample of weighted moments, `undefined` below two observations. */
export function meanSampleOf(m: WeightedMoments): MeanSample | undefined {
  const mean = momentsMean(m)
  const variance = momentsMeanVariance(m)
  if (mean === null || variance === null) return undefined
  return { mean, variance, df: momentsDf(m) }
}

/**
 * Welch's test on raw values (optionally weighted, see {@link momentsMeanVariance}).
 *
 * @throws RangeError when a group has fewer than two values
 */
export function welchTTestSamples(
  a: readonly number[],
  b: readonly number[],
  options: WelchTTestOptions & { weightsA?: readonly number[]; weightsB?: readonly number[] } = {},
): DifferenceTest {
  const sa = meanSampleOf(momentsOf(a, options.weightsA))
  const sb = meanSampleOf(momentsOf(b, options.weightsB))
  if (!sa || !sb) throw new RangeError('each group needs at least two values')
  return welchTTest(sa, sb, options)
}
