import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf'
import normalCdfStd from '@stdlib/stats-base-dists-normal-cdf'
import normalQuantileStd from '@stdlib/stats-base-dists-normal-quantile'
import tCdfStd from '@stdlib/stats-base-dists-t-cdf'
import tQuantileStd from '@stdlib/stats-base-dists-t-quantile'

/** Standard normal quantile (inverse CDF) at probability `p`. */
export function normalQuantile(p: number): number {
  return normalQuantileStd(p, 0, 1)
}

/** Standard normal CDF at `x`. */
export function normalCdf(x: number): number {
  return normalCdfStd(x, 0, 1)
}

/** Student's t quantile at probability `p` with `df` degrees of freedom (`df` may be fractional, as in Welch's test). */
export function tQuantile(p: number, df: number): number {
  return tQuantileStd(p, df)
}

/** Student's t CDF at `x` with `df` degrees of freedom. */
export function tCdf(x: number, df: number): number {
  return tCdfStd(x, df)
}

/** Upper tail P(X > x) of the chi-square distribution with `df` degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  return 1 - chisquareCdf(x, df)
}

/**
 * Two-sided critical values, memoized. The t quantile costs ~13 µs (an incomplete-beta inversion);
 * a metrics reply finalizes thousands of points, most with the same few degrees of freedom, so a
 * long-lived cache (one per finalizer, never module-level) pays for itself.
 */
export class CriticalValues {
  /** The two-sided level these critical values are for, e.g. 0.95. */
  readonly confidence: number
  /** z such that P(|Z| ≤ z) = confidence. */
  readonly z: number
  private readonly tCache = new Map<number, number>()
  private readonly maxEntries: number

  /**
   * @param confidence two-sided level in (0, 1); default 0.95
   * @param maxEntries bound on memoized t values; the cache is cleared when it is reached; default 4096
   */
  constructor(confidence = 0.95, maxEntries = 4096) {
    if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`)
    this.confidence = confidence
    this.z = normalQuantile(1 - (1 - confidence) / 2)
    this.maxEntries = maxEntries
  }

  /**
   * t such that P(|T_df| ≤ t) = confidence. Above 30 degrees of freedom `df` is rounded to 1e-3
   * for the cache key: the quantile moves by less than 1e-6 relative over that step.
   */
  t(df: number): number {
    const key = df > 30 ? Math.round(df * 1000) / 1000 : df
    let v = this.tCache.get(key)
    if (v === undefined) {
      if (this.tCache.size >= this.maxEntries) this.tCache.clear()
      v = tQuantile(1 - (1 - this.confidence) / 2, key)
      this.tCache.set(key, v)
    }
    return v
  }
}
