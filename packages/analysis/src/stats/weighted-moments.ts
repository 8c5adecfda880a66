import { clamp } from './interval.js'

/**
 * Weighted sums of one variable x, enough for the Hájek mean Σwx/Σw and its linearization variance
 * without keeping the values: count n, Σw, Σw², Σwx, Σwx², Σw²x, Σw²x². Sums add under merge and
 * subtract under retraction. With unit weights the mean's interval is the classic t interval.
 */
export interface WeightedMoments {
  n: number
  w: number
  w2: number
  wx: number
  wx2: number
  w2x: number
  w2x2: number
}

/** Moments of nothing. */
export function emptyMoments(): WeightedMoments {
  return { n: 0, w: 0, w2: 0, wx: 0, wx2: 0, w2x: 0, w2x2: 0 }
}

/** Adds (`sign` 1) or retracts (`sign` −1) one value `x` of weight `w`; a count back at zero resets every sum to 0. */
export function momentsAdd(m: WeightedMoments, x: number, w = 1, sign: 1 | -1 = 1): void {
  m.n += sign
  if (m.n === 0) {
    m.w = m.w2 = m.wx = m.wx2 = m.w2x = m.w2x2 = 0
    return
  }
  const sw = sign * w
  const sw2 = sw * w
  m.w += sw
  m.w2 += sw2
  m.wx += sw * x
  m.wx2 += sw * x * x
  m.w2x += sw2 * x
  m.w2x2 += sw2 * x * x
}

/** Adds `src` into `into`. */
export function momentsMerge(into: WeightedMoments, src: WeightedMoments): void {
  into.n += src.n
  into.w += src.w
  into.w2 += src.w2
  into.wx += src.wx
  into.wx2 += src.wx2
  into.w2x += src.w2x
  into.w2x2 += src.w2x2
}

/** `a − b`, for complements (a segment versus the rest). */
export function momentsSubtract(a: WeightedMoments, b: WeightedMoments): WeightedMoments {
  return { n: a.n - b.n, w: a.w - b.w, w2: a.w2 - b.w2, wx: a.wx - b.wx, wx2: a.wx2 - b.wx2, w2x: a.w2x - b.w2x, w2x2: a.w2x2 - b.w2x2 }
}

/** Moments of raw values, with optional weights (default 1 each). */
export function momentsOf(values: readonly number[], weights?: readonly number[]): WeightedMoments {
  const m = emptyMoments()
  for (let i = 0; i < values.length; i++) momentsAdd(m, values[i] as number, weights ? (weights[i] as number) : 1)
  return m
}

/** The weighted mean Σwx/Σw, or `null` when there is no weight. */
export function momentsMean(m: WeightedMoments): number | null {
  return m.w > 0 ? m.wx / m.w : null
}

/**
 * Variance of the weighted mean by linearization (with-replacement design):
 * n/(n−1) · Σ w²(x − m)² / (Σw)². With unit weights this is s²/n, the textbook squared standard
 * error. `null` below two observations.
 */
export function momentsMeanVariance(m: WeightedMoments): number | null {
  if (m.n < 2 || !(m.w > 0)) return null
  const mean = m.wx / m.w
  const ss = m.w2x2 - 2 * mean * m.w2x + mean * mean * m.w2
  return Math.max(0, ((m.n / (m.n - 1)) * ss) / (m.w * m.w))
}

/**
 * Degrees of freedom for the weighted mean's t interval: Kish's effective size minus one, which is
 * n − 1 with unit weights. At least 1.
 */
export function momentsDf(m: WeightedMoments): number {
  const nEff = m.w2 > 0 ? (m.w * m.w) / m.w2 : 0
  return Math.max(1, nEff - 1)
}

/** Weighted population variance of x (Σw(x − m)²/Σw), used for effect sizes and the plain spread. */
export function momentsSpread(m: WeightedMoments): number | null {
  if (!(m.w > 0)) return null
  const mean = m.wx / m.w
  return clamp(m.wx2 / m.w - mean * mean, 0, Number.POSITIVE_INFINITY)
}
