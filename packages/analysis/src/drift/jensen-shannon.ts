import type { BinnedShares } from './binned-shares.js'

function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y)
  if (x === 0 && y >= 0) return 0
  return Number.POSITIVE_INFINITY
}

/**
 * scipy's `spatial.distance.jensenshannon(p, q)` with the natural logarithm: both vectors are
 * normalized to sum 1, then √((KL(p‖m) + KL(q‖m))/2) with m = (p + q)/2. Used on the shares of
 * Evidently's binning without the empty-bin fill.
 */
export function jensenShannonDistance(shares: BinnedShares): number {
  const p = shares.reference
  const q = shares.current
  let sp = 0
  let sq = 0
  for (let i = 0; i < p.length; i++) {
    sp += p[i]!
    sq += q[i]!
  }
  let left = 0
  let right = 0
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sp
    const qi = q[i]! / sq
    const m = (pi + qi) / 2
    left += relEntr(pi, m)
    right += relEntr(qi, m)
  }
  return Math.sqrt((left + right) / 2)
}
