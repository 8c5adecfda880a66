import { CriticalValues } from './distributions.js'
import type { IntervalEstimate, IntervalOptions } from './interval.js'
import { momentsDf, momentsMean, momentsMeanVariance, momentsOf, type WeightedMoments } from './weighted-moments.js'

/**
 * Student t interval `mean ± t(df) · standardError`.
 *
 * @throws RangeError when `df` is not positive
 */
export function tInterval(mean: number, standardError: number, df: number, options: IntervalOptions = {}): IntervalEstimate {
  if (!(df > 0)) throw new RangeError(`df must be positive, got ${df}`)
  const t = new CriticalValues(options.confidence ?? 0.95).t(df)
  return { value: mean, ci_low: mean - t * standardError, ci_high: mean + t * standardError }
}

/**
 * Interval of the (weighted) mean held in `m`: the Hájek mean with its linearization variance and
 * df = n_eff − 1 (see {@link momentsMeanVariance}). With unit weights this is the classic one-sample
 * t interval (scipy's `ttest_1samp(...).confidence_interval()`). Bounds are `null` below two
 * observations; `undefined` without any weight.
 */
export function meanInterval(m: WeightedMoments, options: IntervalOptions = {}): IntervalEstimate | undefined {
  return meanIntervalWith(m, new CriticalValues(options.confidence ?? 0.95))
}

/** {@link meanInterval} with a shared critical-value cache. */
export function meanIntervalWith(m: WeightedMoments, cv: CriticalValues): IntervalEstimate | undefined {
  const mean = momentsMean(m)
  if (mean === null) return undefined
  const v = momentsMeanVariance(m)
  if (v === null) return { value: mean, ci_low: null, ci_high: null }
  const half = cv.t(momentsDf(m)) * Math.sqrt(v)
  return { value: mean, ci_low: mean - half, ci_high: mean + half }
}

/** Interval of the mean of raw values (optionally weighted); a convenience over {@link meanInterval}. */
export function sampleMeanInterval(
  values: readonly number[],
  weights?: readonly number[],
  options: IntervalOptions = {},
): IntervalEstimate | undefined {
  return meanInterval(momentsOf(values, weights), options)
}
