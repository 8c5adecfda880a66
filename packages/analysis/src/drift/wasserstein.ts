/**
 * First Wasserstein distance between two samples, scipy's `wasserstein_distance(u, v)`:
 * ∫ |U(x) − V(x)| dx with U, V the empirical CDFs, summed between consecutive pooled values.
 * @param u ascending, finite, non-empty
 * @param v ascending, finite, non-empty
 */
export function wassersteinDistance(u: Float64Array, v: Float64Array): number {
  const nu = u.length
  const nv = v.length
  let i = 0
  let j = 0
  let total = 0
  let prev = Math.min(u[0]!, v[0]!)
  while (i < nu || j < nv) {
    const x = j >= nv || (i < nu && u[i]! <= v[j]!) ? u[i]! : v[j]!
    // CDFs are constant on [prev, x): their values after the previous point.
    total += Math.abs(i / nu - j / nv) * (x - prev)
    while (i < nu && u[i]! <= x) i++
    while (j < nv && v[j]! <= x) j++
    prev = x
  }
  return total
}

/** Population standard deviation (ddof 0), two passes for accuracy. */
export function populationStd(values: Float64Array): number {
  const n = values.length
  let sum = 0
  for (let i = 0; i < n; i++) sum += values[i]!
  const mean = sum / n
  let ss = 0
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean
    ss += d * d
  }
  return Math.sqrt(ss / n)
}

/** Floor of the normalizing standard deviation (Evidently's `max(np.std(reference), 0.001)`). */
export const WASSERSTEIN_STD_FLOOR = 0.001

/**
 * Evidently's `wasserstein` drift score: the Wasserstein distance divided by the reference's
 * population standard deviation, floored at 0.001.
 */
export function wassersteinNormed(ref: Float64Array, cur: Float64Array): number {
  return wassersteinDistance(ref, cur) / Math.max(populationStd(ref), WASSERSTEIN_STD_FLOOR)
}
