import { CriticalValues } from './distributions.js'
import { clamp, type IntervalEstimate, type IntervalOptions } from './interval.js'
import { proportionEffectiveSize, type Tally } from './tally.js'

/**
 * Wilson score interval for a proportion `successes / n`. `n` may be an effective (fractional)
 * sample size: pass p̂·n* as `successes` and n* as `n` for weighted data, as
 * {@link weightedWilsonInterval} does. Returns the point estimate p̂ = successes / n.
 *
 * @throws RangeError when `n` is not positive or `successes` is outside [0, n]
 */
export function wilsonInterval(successes: number, n: number, options: IntervalOptions = {}): IntervalEstimate {
  return wilsonWithZ(successes, n, new CriticalValues(options.confidence ?? 0.95).z)
}

/** {@link wilsonInterval} with a precomputed critical value. */
export function wilsonWithZ(successes: number, n: number, z: number): IntervalEstimate {
  if (!(n > 0)) throw new RangeError(`n must be positive, got ${n}`)
  if (!(successes >= 0 && successes <= n * (1 + 1e-12))) throw new RangeError(`successes must be in [0, n], got ${successes}`)
  const p = clamp(successes / n, 0, 1)
  const z2 = z * z
  const denom = 1 + z2 / n
  const center = (p + z2 / (2 * n)) / denom
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  return { value: p, ci_low: clamp(center - half, 0, 1), ci_high: clamp(center + half, 0, 1) }
}

/**
 * Wilson interval of the weighted proportion Σ_success w / Σ w, with the design-based effective
 * sample size of {@link proportionEffectiveSize} in place of n. With unit weights it is exactly
 * the classic Wilson interval. `undefined` when `total` has no weight.
 */
export function weightedWilsonInterval(successes: Tally, total: Tally, options: IntervalOptions = {}): IntervalEstimate | undefined {
  return weightedWilsonWithZ(successes, total, new CriticalValues(options.confidence ?? 0.95).z)
}

/** {@link weightedWilsonInterval} with a precomputed critical value. */
export function weightedWilsonWithZ(successes: Tally, total: Tally, z: number): IntervalEstimate | undefined {
  if (!(total.w > 0)) return undefined
  const p = clamp(successes.w / total.w, 0, 1)
  const nStar = proportionEffectiveSize(successes, total)
  if (!(nStar > 0)) return { value: p, ci_low: null, ci_high: null }
  const est = wilsonWithZ(p * nStar, nStar, z)
  return { value: p, ci_low: est.ci_low, ci_high: est.ci_high }
}
