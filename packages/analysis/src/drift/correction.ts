/** Multiple-testing correction across the p-values of one drift request. */
export type PValueCorrection = 'none' | 'bonferroni' | 'benjamini-hochberg'

/**
 * Adjusted p-values: Bonferroni min(1, m·p); Benjamini–Hochberg step-up
 * min_{j ≥ i} (m/j)·p₍ⱼ₎ over the ascending order, capped at 1 (controls the false discovery rate).
 */
export function adjustPValues(pValues: readonly number[], correction: PValueCorrection): number[] {
  const m = pValues.length
  if (correction === 'none' || m === 0) return pValues.slice()
  if (correction === 'bonferroni') return pValues.map((p) => Math.min(1, p * m))
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a]! - pValues[b]!)
  const out = new Array<number>(m)
  let running = 1
  for (let r = m - 1; r >= 0; r--) {
    const i = order[r]!
    running = Math.min(running, (pValues[i]! * m) / (r + 1))
    out[i] = Math.min(1, running)
  }
  return out
}
