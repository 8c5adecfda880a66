import erfc from '@stdlib/math-base-special-erfc'
import type { TestResult } from './chisquare-test.js'
import type { CountPair } from './value-counts.js'

/**
 * Evidently's `z` drift test: a pooled two-proportion Z test of the share of values different from
 * the smallest key (reference vs current), two-sided. When both windows hold the same single value
 * p = 1. The p-value is erfc(|z|/√2), the same quantity as Evidently's 2·(1 − Φ(|z|)) without its
 * loss of precision beyond |z| ≈ 8.
 */
export function zTest(counts: CountPair): TestResult {
  const k = counts.reference.length
  const n1 = counts.nReference
  const n2 = counts.nCurrent
  if (k === 1) return { statistic: 0, pValue: 1 }
  const p1 = (n1 - counts.reference[counts.smallest]!) / n1
  const p2 = (n2 - counts.current[counts.smallest]!) / n2
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
  return { statistic: z, pValue: erfc(Math.abs(z) / Math.SQRT2) }
}
