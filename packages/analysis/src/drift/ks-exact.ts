/**
 * Exact null distribution of the two-sided two-sample Kolmogorov–Smirnov statistic, as scipy's
 * `ks_2samp(method='exact')` computes it: the share of monotone lattice paths from (0, 0) to
 * (m, n) that leave the band |x/m − y/n| < h/lcm(m, n) (Hodges 1958, after Drion, Gnedenko and
 * Korolyuk). For m = n a closed alternating sum is evaluated in Horner form; otherwise the
 * "inside method" recursion is run directly on 1 − p, which Viehmann (2021, arXiv:2102.08037)
 * showed to be numerically stable: with B(x, y) the probability that a uniformly random path to
 * (x, y) has already left the band, B = 1 outside the band and inside it
 * B(x, y) = (x·B(x−1, y) + y·B(x, y−1)) / (x + y).
 */

/** Result of the exact computation: the statistic rounded to a lattice value, and its p-value. */
export interface ExactKsResult {
  /** `h / lcm(m, n)`: the statistic snapped to the lattice of attainable values. */
  statistic: number
  /** P(D ≥ statistic) under the null; `NaN` when the computation failed (caller falls back). */
  pValue: number
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b
    a = b
    b = t
  }
  return a
}

/** Rounds half to even, as `numpy.round` does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x)
  if (Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0) return r - 1
  return r
}

/**
 * P(D_{n,n} ≥ h/n) = 2·Σ_{k≥1} (−1)^{k−1} C(2n, n−kh) / C(2n, n), each ratio of binomials built as a
 * product of h simple factors and the alternating sum nested as 2·A1(1 − A2(1 − A3(…))) so that it
 * never subtracts two large numbers.
 */
function outsideSquare(n: number, h: number): number {
  let p = 0
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let ratio = 1
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1)
    p = ratio * (1 - p)
  }
  return 2 * p
}

/** Share of paths to (m, n), m ≥ n, that touch |n'x − m'y| ≥ h (m' = m/g, n' = n/g). */
function leaveBandProbability(m: number, n: number, g: number, h: number): number {
  const mg = m / g
  const ng = n / g
  // One column of B over y = 0..n; entries outside the current band hold 1.
  const col = new Float64Array(n + 1).fill(1)
  const firstHi = Math.min(Math.ceil(h / mg), n + 1)
  col.fill(0, 0, firstHi)
  let lo = 0
  let hi = firstHi
  for (let x = 1; x <= m; x++) {
    const nextLo = Math.min(Math.max(Math.floor((ng * x - h) / mg) + 1, 0), n)
    hi = Math.min(Math.ceil((ng * x + h) / mg), n + 1)
    if (hi <= nextLo) return 1
    // The band only moves up: cells that fell below it are outside now.
    col.fill(1, lo, nextLo)
    lo = nextLo
    let below = lo === 0 ? 0 : 1
    for (let y = lo; y < hi; y++) {
      below = (col[y]! * x + below * y) / (x + y)
      col[y] = below
    }
  }
  return col[hi - 1]!
}

/**
 * Exact two-sided p-value of a two-sample KS statistic `d` for sample sizes `n1`, `n2`.
 * Returns `pValue: NaN` when the arithmetic leaves [0, 1] (scipy then switches to the asymptotic
 * distribution, and so does {@link ks2Samp}).
 */
export function ksExactTwoSided(n1: number, n2: number, d: number): ExactKsResult {
  const g = gcd(n1, n2)
  const lcm = (n1 / g) * n2
  const h = roundHalfEven(d * lcm)
  const statistic = h / lcm
  if (h === 0) return { statistic, pValue: 1 }
  let p: number
  if (n1 === n2) p = outsideSquare(n1, h)
  else p = n1 >= n2 ? leaveBandProbability(n1, n2, g, h) : leaveBandProbability(n2, n1, g, h)
  if (!(p >= 0 && p <= 1)) return { statistic, pValue: Number.NaN }
  return { statistic, pValue: p }
}
