import gammaln from '@stdlib/math-base-special-gammaln'
import { durbinCdf, pomeranzCdf } from './kstwo-exact.js'
import { smirnovSf } from './smirnov.js'

/**
 * Survival function P(Dₙ ≥ x) of the two-sided one-sample Kolmogorov–Smirnov statistic, as scipy's
 * `stats.kstwo.sf(x, n)` computes it: Simard & L'Ecuyer's (2011) choice among exact formulas
 * (Ruben–Gambino at the ends of the support, 2·smirnov where the two one-sided events cannot both
 * happen or their intersection is negligible), Durbin's matrix, Pomeranz's recursion, and the
 * Pelz–Good asymptotic series, each where it is accurate and fast. `ks_2samp` uses this with
 * n = round(n₁n₂/(n₁+n₂)) when an exact two-sample p-value is out of reach.
 */

const PI2 = Math.PI ** 2
const PI4 = Math.PI ** 4
const PI6 = Math.PI ** 6
const SQRT2PI = Math.sqrt(2 * Math.PI)
const SQRT3 = Math.sqrt(3)
const MIN_LOG = -708

const clip = (p: number): number => Math.min(1, Math.max(0, p))

/**
 * Pelz–Good (1976) approximation to P(Dₙ ≤ x): the Li-Chien/Korolyuk expansion
 * K₀(z) + K₁(z)/√n + K₂(z)/n + K₃(z)/n^{3/2} (z = x√n), each term rewritten through Jacobi theta
 * identities into sums of q^{(2k−1)²} that converge fast for small z.
 */
export function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const z = Math.sqrt(n) * x
  const z2 = z * z
  const z3 = z2 * z
  const z4 = z2 * z2
  const z6 = z4 * z2
  const qlog = -PI2 / 8 / z2
  if (qlog < MIN_LOG) return 0
  let q = Math.exp(qlog)
  const k1a = -z2
  const k1b = PI2 / 4
  const k2a = 6 * z6 + 2 * z4
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4
  const k2c = (PI4 * (1 - 2 * z2)) / 16
  const k3d = (PI6 * (5 - 30 * z2)) / 64
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4
  const k3a = -30 * z6 - 90 * z ** 8
  const maxK = Math.ceil((16 * z) / Math.PI)
  // Σ_k c(m) q^{m²} over odd m = 2k−1, nested (Horner) in q^{8k} from the largest k down.
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  for (let k = maxK; k >= 1; k--) {
    const m = 2 * k - 1
    const m2 = m * m
    const m4 = m2 * m2
    const m6 = m4 * m2
    const qp = q ** (8 * k)
    s0 = s0 * qp + 1
    s1 = s1 * qp + (k1a + k1b * m2)
    s2 = s2 * qp + (k2a + k2b * m2 + k2c * m4)
    s3 = s3 * qp + (k3a + k3b * m2 + k3c * m4 + k3d * m6)
  }
  s0 = (s0 * q * SQRT2PI) / z
  s1 = (s1 * q * SQRT2PI) / (6 * z4)
  s2 = (s2 * q * SQRT2PI) / (72 * z ** 7)
  s3 = (s3 * q * SQRT2PI) / (6480 * z ** 10)
  // The sums over all k in K₂ and K₃.
  q = Math.exp(-PI2 / 2 / z2)
  let extra2 = 0
  let extra3 = 0
  const sqrt3z = SQRT3 * z
  for (let k = maxK; k >= 1; k--) {
    const k2 = k * k
    const qk = q ** k2
    extra2 += k2 * qk
    const kpi = Math.PI * k
    extra3 += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk
  }
  s2 += (extra2 * PI2 * SQRT2PI) / (-36 * z3)
  s3 += (extra3 * PI2 * SQRT2PI) / (216 * z6)
  return s0 + s1 / Math.sqrt(n) + s2 / n + s3 / n ** 1.5
}

/**
 * P(Dₙ ≥ x) for the two-sided one-sample KS statistic with sample size `n` (a positive integer).
 */
export function kstwoSf(n: number, x: number): number {
  if (!(n >= 1) || !Number.isInteger(n) || Number.isNaN(x)) return Number.NaN
  if (x >= 1) return 0
  if (x <= 0) return 1
  const t = n * x
  if (t <= 1) {
    if (t <= 0.5) return 1
    // Ruben–Gambino: P(Dₙ ≤ x) = n!/nⁿ (2t − 1)ⁿ for 1/2n ≤ x ≤ 1/n
    let cdf: number
    if (n <= 140) {
      cdf = 1
      for (let i = 1; i <= n; i++) cdf *= (i / n) * (2 * t - 1)
    } else {
      cdf = Math.exp(gammaln(n + 1) - n * Math.log(n) + n * Math.log(2 * t - 1))
    }
    return clip(1 - cdf)
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n)
  if (x >= 0.5) return clip(2 * smirnovSf(n, x))
  const nx2 = t * x
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip(1 - durbinCdf(n, x))
    if (nx2 <= 4) return clip(1 - pomeranzCdf(n, x))
    return clip(2 * smirnovSf(n, x))
  }
  if (nx2 >= 370) return 0
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x))
  const cdf = n <= 100000 && n * x ** 1.5 <= 1.4 ? durbinCdf(n, x) : pelzGoodCdf(n, x)
  return clip(1 - cdf)
}
