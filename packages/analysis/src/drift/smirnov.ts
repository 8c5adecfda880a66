/**
 * Survival function of the one-sided one-sample Kolmogorov–Smirnov statistic D⁺ₙ (scipy's
 * `scipy.special.smirnov(n, x)`), from the Birnbaum–Tingey / Smirnov sum
 *   P(D⁺ₙ ≥ x) = x · Σ_{v=0}^{⌊n(1−x)⌋} C(n, v) (x + v/n)^{v−1} (1 − x − v/n)^{n−v},
 * whose terms are all positive: each is evaluated as the exponential of its logarithm, relative to
 * the largest so far, so that terms below 1e−308 still add up correctly. The special cases follow
 * van Mulbregt (2018, arXiv:1802.06966), the method scipy implements: x ≤ 1/n, x ≥ 1 − 1/n, an
 * underflowing tail, and n > 10⁶ where an asymptotic form replaces the sum.
 */

/** log of the smallest positive normal double: exp() of anything below it is 0. */
const MIN_LOG = -708.3964185322641
const SMIRNOV_MAX_COMPUTE_N = 1_000_000
const SPLITTER = 134217729 // 2^27 + 1

/** floor(n·x) and n·x − floor(n·x), computed exactly (Dekker's two-product). */
function floorProduct(n: number, x: number): { floor: number; frac: number } {
  const p = n * x
  const an = SPLITTER * n
  const nh = an - (an - n)
  const nl = n - nh
  const ax = SPLITTER * x
  const xh = ax - (ax - x)
  const xl = x - xh
  const err = nh * xh - p + nh * xl + nl * xh + nl * xl
  let fl = Math.floor(p)
  let frac = p - fl + err
  if (frac < 0) {
    fl -= 1
    frac += 1
  } else if (frac >= 1) {
    fl += 1
    frac -= 1
  }
  return { floor: fl, frac }
}

/**
 * P(D⁺ₙ ≥ x) for a sample of size `n`.
 * @returns NaN outside n ≥ 1, 0 ≤ x ≤ 1
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n >= 1 && x >= 0 && x <= 1) || !Number.isInteger(n)) return Number.NaN
  if (n === 1) return 1 - x
  if (x === 0) return 1
  if (x === 1) return 0
  const { floor: nxFloor, frac: alpha } = floorProduct(n, x)
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) {
    // x ≤ 1/n: P(D⁺ₙ < x) = x (1 + x)^(n−1)
    return 1 - x * (1 + x) ** (n - 1)
  }
  if (-2 * n * x * x < MIN_LOG) return 0
  if (nxFloor >= n - 1) return (1 - x) ** n
  if (n > SMIRNOV_MAX_COMPUTE_N) return Math.exp(-((6 * n * x + 1) ** 2) / 18 / n)
  const lastV = n - nxFloor - 1
  let logBinom = 0
  let maxLog = Number.NEGATIVE_INFINITY
  let scaled = 0
  for (let v = 0; v <= lastV; v++) {
    if (v > 0) logBinom += Math.log((n - v + 1) / v)
    // x + v/n and 1 − x − v/n from the exact split n·x = floor + alpha: no cancellation.
    const up = (v + nxFloor + alpha) / n
    const down = (n - v - nxFloor - alpha) / n
    if (down <= 0) break
    const logTerm = logBinom + (v - 1) * Math.log(up) + (n - v) * Math.log(down)
    if (logTerm > maxLog) {
      scaled = scaled * Math.exp(maxLog - logTerm) + 1
      maxLog = logTerm
    } else {
      scaled += Math.exp(logTerm - maxLog)
      // Past the peak the terms fall off geometrically; e^-50 of the largest cannot matter.
      if (logTerm < maxLog - 50) break
    }
  }
  const sf = x * scaled * Math.exp(maxLog)
  return Math.min(1, Math.max(0, sf))
}
