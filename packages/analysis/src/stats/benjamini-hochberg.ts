/**
 * Benjamini–Hochberg adjusted p-values (q-values), in the input order: q_(i) = min over j ≥ i of
 * p_(j)·m/j, capped at 1. A hypothesis is rejected at false discovery rate α when its q ≤ α.
 * Matches scipy's `false_discovery_control(p, method='bh')`. NaN p-values are left NaN and do not
 * count toward m.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const idx: number[] = []
  for (let i = 0; i < pValues.length; i++) if (!Number.isNaN(pValues[i])) idx.push(i)
  idx.sort((i, j) => (pValues[i] as number) - (pValues[j] as number))
  const m = idx.length
  const out = pValues.map(() => Number.NaN)
  let running = 1
  for (let r = m - 1; r >= 0; r--) {
    const i = idx[r] as number
    running = Math.min(running, ((pValues[i] as number) * m) / (r + 1))
    out[i] = Math.min(1, running)
  }
  return out
}
