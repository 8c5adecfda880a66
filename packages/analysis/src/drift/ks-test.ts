import { ksExactTwoSided, roundHalfEven } from './ks-exact.js'
import { kstwoSf } from './kstwo.js'

/** Largest max(n₁, n₂) for which scipy's `method='auto'` attempts the exact p-value. */
export const KS_MAX_EXACT_N = 10000

/** Two-sample Kolmogorov–Smirnov test result. */
export interface KsResult {
  /** sup |F₁ − F₂| over the pooled sample (ties handled: the ECDFs jump together). */
  statistic: number
  /** Two-sided p-value. */
  pValue: number
  /** Which distribution gave the p-value. */
  method: 'exact' | 'asymp'
}

/**
 * KS statistic of two ascending arrays: the ECDFs are compared right after every distinct value of
 * the pooled sample, which is how `searchsorted(side='right')` in scipy treats ties.
 */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  const n1 = a.length
  const n2 = b.length
  let i = 0
  let j = 0
  let maxDiff = 0
  let minDiff = 0
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!
    while (i < n1 && a[i]! <= v) i++
    while (j < n2 && b[j]! <= v) j++
    const diff = i / n1 - j / n2
    if (diff > maxDiff) maxDiff = diff
    if (diff < minDiff) minDiff = diff
  }
  return Math.max(maxDiff, Math.min(-minDiff, 1))
}

/**
 * Two-sided two-sample KS test with scipy's `ks_2samp(method='auto')` semantics: exact p-value
 * when max(n₁, n₂) ≤ 10 000 (statistic snapped to h/lcm(n₁, n₂)), falling back to the asymptotic
 * form when the exact arithmetic fails; otherwise `kstwo.sf(d, round(n₁n₂/(n₁+n₂)))`.
 * @param a reference values, sorted ascending, finite, non-empty
 * @param b current values, sorted ascending, finite, non-empty
 */
export function ks2Samp(a: Float64Array, b: Float64Array): KsResult {
  const n1 = a.length
  const n2 = b.length
  if (n1 === 0 || n2 === 0) throw new RangeError('ks2Samp needs two non-empty samples')
  let d = ksStatistic(a, b)
  if (Math.max(n1, n2) <= KS_MAX_EXACT_N) {
    const exact = ksExactTwoSided(n1, n2, d)
    d = exact.statistic
    if (!Number.isNaN(exact.pValue)) return { statistic: d, pValue: exact.pValue, method: 'exact' }
  }
  const m = Math.max(n1, n2)
  const n = Math.min(n1, n2)
  const en = (m * n) / (m + n)
  const p = kstwoSf(roundHalfEven(en), d)
  return { statistic: d, pValue: Math.min(1, Math.max(0, p)), method: 'asymp' }
}
