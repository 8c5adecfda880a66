/**
 * A weighted count: how many stored items (`n`), their weight sum Σw and Σw². With w = 1/sample_rate
 * the weight sum estimates the population count and (Σw)²/Σw² is Kish's effective sample size.
 * Plain numbers so that tallies serialize and merge by addition.
 */
export interface Tally {
  n: number
  w: number
  w2: number
}

/** A tally of nothing. */
export function emptyTally(): Tally {
  return { n: 0, w: 0, w2: 0 }
}

/**
 * Adds (`sign` 1) or retracts (`sign` −1) one item of weight `w`. A tally whose count returns to
 * zero is reset to exact zeros, so float residue from retracting fractional weights cannot linger.
 */
export function tallyAdd(t: Tally, w: number, sign: 1 | -1 = 1): void {
  t.n += sign
  if (t.n === 0) {
    t.w = 0
    t.w2 = 0
  } else {
    t.w += sign * w
    t.w2 += sign * w * w
  }
}

/** Adds `src` into `into`. */
export function tallyMerge(into: Tally, src: Tally): void {
  into.n += src.n
  into.w += src.w
  into.w2 += src.w2
}

/** Kish's effective sample size (Σw)²/Σw²; 0 for an empty tally. */
export function effectiveSize(t: Tally): number {
  return t.w2 > 0 ? (t.w * t.w) / t.w2 : 0
}

/**
 * Effective sample size of the weighted proportion `s.w / t.w`, where `s` tallies the successes
 * (a subset of `t`): n* = p(1−p) / V̂(p), with V̂ the linearization variance of the ratio estimator
 * Σ w_i² (y_i − p)² / (Σw)² (Korn & Graubard 1998). It equals n when every weight is equal, and it
 * accounts for weights that correlate with the outcome, which Kish's size does not. When p̂ is 0 or
 * 1 the variance is 0 and Kish's size of `t` is used instead.
 */
export function proportionEffectiveSize(s: Tally, t: Tally): number {
  if (t.w <= 0) return 0
  const p = s.w / t.w
  if (p <= 0 || p >= 1) return effectiveSize(t)
  const q = 1 - p
  const ss = q * q * s.w2 + p * p * (t.w2 - s.w2)
  if (!(ss > 0)) return effectiveSize(t)
  return (p * q * t.w * t.w) / ss
}
