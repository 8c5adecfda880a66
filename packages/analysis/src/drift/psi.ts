import { type BinnedShares, fillZeroShares } from './binned-shares.js'

/** Population stability index Σ (r − c)·ln(r/c) over shares with Evidently's empty-bin fill. */
export function psi(shares: BinnedShares): number {
  const r = fillZeroShares(shares.reference)
  const c = fillZeroShares(shares.current)
  let total = 0
  for (let i = 0; i < r.length; i++) total += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!)
  return total
}
