/** A fitted isotonic (non-decreasing) map from scores to probabilities. */
export interface IsotonicModel {
  /** Distinct ascending scores of the fit. */
  x: number[]
  /** Fitted non-decreasing values at `x`. */
  y: number[]
}

/**
 * Isotonic regression by pool-adjacent-violators (Ayer et al. 1955): the non-decreasing fit of
 * `y` on `x` minimizing the weighted squared error. Ties in x are pooled first. Predictions
 * interpolate linearly between fitted points and clip outside them (scikit-learn's
 * `IsotonicRegression(out_of_bounds='clip')`).
 */
export function fitIsotonic(x: ArrayLike<number>, y: ArrayLike<number>, weights?: ArrayLike<number>): IsotonicModel {
  const n = x.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]!)
  // Blocks: value (weighted mean), weight, and the x values they span.
  const val: number[] = []
  const wt: number[] = []
  const xs: number[] = []
  for (const i of order) {
    const w = weights ? weights[i]! : 1
    if (w <= 0) continue
    if (xs.length > 0 && xs[xs.length - 1] === x[i]!) {
      const k = val.length - 1
      val[k] = (val[k]! * wt[k]! + y[i]! * w) / (wt[k]! + w)
      wt[k]! += w
    } else {
      xs.push(x[i]!)
      val.push(y[i]!)
      wt.push(w)
    }
  }
  // PAV over the tie-pooled points; each block remembers how many points it covers.
  const bVal: number[] = []
  const bWt: number[] = []
  const bLen: number[] = []
  for (let i = 0; i < val.length; i++) {
    bVal.push(val[i]!)
    bWt.push(wt[i]!)
    bLen.push(1)
    while (bVal.length > 1 && bVal[bVal.length - 2]! > bVal[bVal.length - 1]!) {
      const v2 = bVal.pop()!
      const w2 = bWt.pop()!
      const l2 = bLen.pop()!
      const k = bVal.length - 1
      bVal[k] = (bVal[k]! * bWt[k]! + v2 * w2) / (bWt[k]! + w2)
      bWt[k]! += w2
      bLen[k]! += l2
    }
  }
  const fitted: number[] = []
  bVal.forEach((v, b) => {
    for (let j = 0; j < bLen[b]!; j++) fitted.push(v)
  })
  return { x: xs, y: fitted }
}

/** Prediction of an isotonic model at `s`. */
export function predictIsotonic(m: IsotonicModel, s: number): number {
  const { x, y } = m
  if (x.length === 0) return Number.NaN
  if (s <= x[0]!) return y[0]!
  if (s >= x[x.length - 1]!) return y[y.length - 1]!
  let lo = 0
  let hi = x.length - 1
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1
    if (x[mid]! <= s) lo = mid
    else hi = mid
  }
  const t = (s - x[lo]!) / (x[hi]! - x[lo]!)
  return y[lo]! + t * (y[hi]! - y[lo]!)
}
