import { createMetricsAggregate, estimateInterval, type MetricsAggregate, mergeAggregate, metricEstimates } from '../metrics/index.js'
import { benjaminiHochberg, CriticalValues } from '../stats/index.js'
import { compareEstimates } from './compare-estimates.js'

/** One segment value's figure. */
export interface SegmentSlice {
  /** The segment value (e.g. `gold`). */
  segment: string
  /** Stored events of the segment. */
  n: number
  /** Σw of the segment's events. */
  count: number
  value: number
  ci_low: number | null
  ci_high: number | null
  /** The metric over every other segment. */
  rest: number | null
  /** One-sided p-value of "this segment is worse than the rest", `null` where no test applies. */
  p_value: number | null
  /** Benjamini–Hochberg adjusted p-value across the tested segments. */
  q_value: number | null
  /** True when q_value ≤ alpha (the segment is significantly worse). */
  worse: boolean
}

/** Reply of a slice analysis (`GET /v1/slices`). */
export interface SliceReport {
  metric: string
  segments: SegmentSlice[]
  /** Segment values flagged worse, most significant first. */
  worse: string[]
}

/** Options of {@link sliceMetric}. */
export interface SliceOptions {
  /** False discovery rate for "worse". Default 0.05. */
  alpha?: number
  /** Two-sided level of each segment's interval. Default 0.95. */
  confidence?: number
  /** Segments with fewer stored events are listed but not tested. Default 30. */
  minCount?: number
}

/**
 * A metric per segment value with its interval and count, and the segments significantly worse
 * than the rest: each segment is tested one-sided against the union of the other segments
 * (two-proportion z test for proportions, Welch for means, z for delta-method figures), and the
 * p-values are adjusted with Benjamini–Hochberg across the tested segments. "Worse" follows the
 * metric's direction (lower accuracy, higher error rate). `metric` is a flat name of
 * `metricEstimates` (`quality.label.accuracy`, `error_rate`, ...). Segments without the metric are
 * left out.
 */
export function sliceMetric(
  segments: Map<string, MetricsAggregate> | Record<string, MetricsAggregate>,
  metric: string,
  options: SliceOptions = {},
): SliceReport {
  const cv = new CriticalValues(options.confidence ?? 0.95)
  const alpha = options.alpha ?? 0.05
  const minCount = options.minCount ?? 30
  const entries = segments instanceof Map ? [...segments] : Object.entries(segments)
  const rows: SegmentSlice[] = []
  const tested: number[] = []
  const pvals: number[] = []
  for (const [segment, agg] of entries) {
    const own = metricEstimates(agg).get(metric)
    if (!own) continue
    const iv = estimateInterval(own.estimate, cv)
    if (!iv) continue
    const rest = createMetricsAggregate()
    for (const [other, oa] of entries) if (other !== segment) mergeAggregate(rest, oa, { sketches: false })
    const restEst = metricEstimates(rest).get(metric)
    let p: number | null = null
    let restValue: number | null = null
    if (restEst) {
      // b = this segment, a = the rest: "worse" is b − a < 0 for higher-is-better metrics.
      const r = compareEstimates(restEst.estimate, own.estimate, cv, own.higherIsBetter ? 'less' : 'greater')
      restValue = r ? r.a : null
      if (r && r.p_value !== null && agg.events.n >= minCount) p = r.p_value
    }
    rows.push({ segment, n: agg.events.n, count: agg.events.w, ...iv, rest: restValue, p_value: p, q_value: null, worse: false })
    if (p !== null) {
      tested.push(rows.length - 1)
      pvals.push(p)
    }
  }
  const q = benjaminiHochberg(pvals)
  tested.forEach((rowIndex, i) => {
    const row = rows[rowIndex] as SegmentSlice
    row.q_value = q[i] as number
    row.worse = row.q_value <= alpha
  })
  const worse = rows
    .filter((r) => r.worse)
    .sort((x, y) => (x.q_value as number) - (y.q_value as number) || (x.p_value as number) - (y.p_value as number))
    .map((r) => r.segment)
  return { metric, segments: rows, worse }
}
