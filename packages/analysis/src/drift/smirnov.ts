/**
 * Survival function of the one-sided one-sample Kolmogorov–Smirnov statistic D⁺ₙ (scipy's
 * `scipy.special.smirnov(n, x)`), from the Birnbaum–Tingey / Smirnov sum
 *   P(D⁺ₙ ≥ x) = x · Σ_{v=0}^{⌊n(1−x)⌋} C(n, v) (x + v/n)^{v−1} (1 − x − v/n)^{n−v},
 * whose terms are all positive and unimodal in v: each is evaluated as the exponential of its
 * logarithm relative to the largest, starting from the peak, so that terms below 1e−308 still add
 * up correctly and only the terms that matter are visited. The special cases follow
 * van Mulbregt (2018, arXiv:1802.06966), the method scipy implements: x ≤ 1/n, x ≥ 1 − 1/n, an
 * underflowing tail, and n > 10⁶ where an asymptotic form replaces the sum.
 */

import gammaln from '@stdlib/math-base-special-gammaln'

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
  // log of term v: log C(n, v) + (v − 1)·log(x + v/n) + (n − v)·log(1 − x − v/n), with x + v/n and
  // 1 − x − v/n from the exact split n·x = floor + alpha (no cancellation).
  const logPowers = (v: number): number => {
    const down = (n - v - nxFloor - alpha) / n
    if (down <= 0) return Number.NEGATIVE_INFINITY
    return (v - 1) * Math.log((v + nxFloor + alpha) / n) + (n - v) * Math.log(down)
  }
  const logN1 = gammaln(n + 1)
  const logBinomAt = (v: number): number => logN1 - gammaln(v + 1) - gammaln(n - v + 1)
  // The terms rise to one peak and fall off geometrically: find the peak on a coarse grid, then
  // add terms outward from it until they drop below e^-50 of the largest. For large n this visits
  // a few thousand terms instead of up to n.
  const gridStep = Math.max(1, Math.floor(lastV / 256))
  let peak = 0
  let peakLog = Number.NEGATIVE_INFINITY
  for (let v = 0; v <= lastV; v += gridStep) {
    const l = logBinomAt(v) + logPowers(v)
    if (l > peakLog) {
      peakLog = l
      peak = v
    }
  }
  let maxLog = peakLog
  let scaled = 0
  const addTerm = (logTerm: number): boolean => {
    if (logTerm > maxLog) {
      scaled = scaled * Math.exp(maxLog - logTerm) + 1
      maxLog = logTerm
      return true
    }
    scaled += Math.exp(logTerm - maxLog)
    return logTerm >= maxLog - 50
  }
  const logBinomPeak = logBinomAt(peak)
  let logBinom = logBinomPeak
  for (let v = peak; v <= lastV; v++) {
    if (v > peak) logBinom += Math.log((n - v + 1) / v)
    if (!addTerm(logBinom + logPowers(v)) && v > peak + gridStep) break
  }
  logBinom = logBinomPeak
  for (let v = peak - 1; v >= 0; v--) {
    logBinom -= Math.log((n - v) / (v + 1))
    if (!addTerm(logBinom + logPowers(v)) && v < peak - gridStep) break
  }
  const sf = x * scaled * Math.exp(maxLog)
  return Math.min(1, Math.max(0, sf))
}
