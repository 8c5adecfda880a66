import {
  type Alternative,
  CriticalValues,
  clamp,
  type DifferenceTest,
  meanSampleOf,
  momentsMean,
  momentsMeanVariance,
  normalPValue,
  twoProportionWithZ,
  weightedProportionSample,
  welchWith,
} from '../stats/index.js'
import { estimateValue, type MetricEstimate } from '../metrics/index.js'

/**
 * Compares one metric between groups a and b (difference b − a) with the test that fits its kind:
 * proportions by the pooled two-proportion z test with Newcombe's interval (effective sizes under
 * weights); means by Welch's t test; RMSE and delta-method figures by a z test on the difference
 * with variance V_a + V_b (RMSE's variance V(MSE)/(4·MSE)); point figures (ECE) get the difference
 * only, with `null` interval and p-value. `undefined` when either side has no data.
 */
export function compareEstimates(
  a: MetricEstimate,
  b: MetricEstimate,
  cv: CriticalValues,
  alternative: Alternative = 'two-sided',
): (Omit<DifferenceTest, 'p_value' | 'statistic'> & { p_value: number | null; statistic: number | null }) | undefined {
  if (a.kind === 'proportion' && b.kind === 'proportion') {
    const sa = weightedProportionSample(a.successes, a.total)
    const sb = weightedProportionSample(b.successes, b.total)
    if (!sa || !sb) return undefined
    const r = twoProportionWithZ(sa, sb, cv.z, alternative)
    return {
      ...r,
      a: clamp(a.successes.w / a.total.w, 0, 1),
      b: clamp(b.successes.w / b.total.w, 0, 1),
      diff: b.successes.w / b.total.w - a.successes.w / a.total.w,
    }
  }
  if (a.kind === 'mean' && b.kind === 'mean') {
    const sa = meanSampleOf(a.moments)
    const sb = meanSampleOf(b.moments)
    if (!sa || !sb) return pointDiff(a, b)
    return welchWith(sa, sb, cv, alternative)
  }
  const na = normalOf(a)
  const nb = normalOf(b)
  if (na && nb && na.variance !== null && nb.variance !== null) {
    const diff = nb.value - na.value
    const se = Math.sqrt(na.variance + nb.variance)
    if (!(se > 0)) return { a: na.value, b: nb.value, diff, ci_low: diff, ci_high: diff, statistic: 0, p_value: diff === 0 ? 1 : 0 }
    const z = diff / se
    return {
      a: na.value,
      b: nb.value,
      diff,
      ci_low: diff - cv.z * se,
      ci_high: diff + cv.z * se,
      statistic: z,
      p_value: normalPValue(z, alternative),
    }
  }
  return pointDiff(a, b)
}

function normalOf(e: MetricEstimate): { value: number; variance: number | null } | undefined {
  if (e.kind === 'delta') return { value: e.value, variance: e.variance }
  if (e.kind === 'root-mean') {
    const m = momentsMean(e.moments)
    const v = momentsMeanVariance(e.moments)
    if (m === null) return undefined
    const root = Math.sqrt(Math.max(0, m))
    return { value: root, variance: v === null || !(m > 0) ? null : v / (4 * m) }
  }
  return undefined
}

function pointDiff(a: MetricEstimate, b: MetricEstimate) {
  const va = estimateValue(a)
  const vb = estimateValue(b)
  if (va === null || vb === null) return undefined
  return { a: va, b: vb, diff: vb - va, ci_low: null, ci_high: null, statistic: null, p_value: null }
}
