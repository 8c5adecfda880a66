import { type MetricsAggregate, metricEstimates } from '../metrics/index.js'
import { CriticalValues, sampleRatioMismatch } from '../stats/index.js'
import { compareEstimates } from './compare-estimates.js'

/** One metric side by side: `diff` is b − a, with its interval and p-value (`null` where no test applies). */
export interface MetricComparison {
  a: number
  b: number
  diff: number
  ci_low: number | null
  ci_high: number | null
  p_value: number | null
}

/** Reply of an A/B comparison (`POST /v1/compare` with `a` and `b`). */
export interface AbComparison {
  a: { n: number; count: number }
  b: { n: number; count: number }
  srm: { p_value: number; mismatch: boolean; expected_split: number; observed_split: number | null }
  /** Flat metric names as in `metricEstimates`: `error_rate`, `latency_ms.total.mean`, `quality.NAME.accuracy`, ... */
  metrics: Record<string, MetricComparison>
}

/** Options of {@link compareAggregates}. */
export interface CompareOptions {
  /** Expected share of traffic in a. Default 0.5. */
  expectedSplit?: number
  /** Two-sided level of the intervals. Default 0.95. */
  confidence?: number
  /** SRM alarm level. Default 0.001. */
  srmAlpha?: number
}

/**
 * A/B comparison of two aggregates (merge each side's buckets first; latency sketches are not
 * needed, so `mergeAggregate(..., {sketches: false})` is enough). Every metric present on both
 * sides is compared with the test that fits it (see `compareEstimates`). The SRM check tests the
 * stored counts against the expected split, adjusted for each side's mean sample rate.
 */
export function compareAggregates(a: MetricsAggregate, b: MetricsAggregate, options: CompareOptions = {}): AbComparison {
  const cv = new CriticalValues(options.confidence ?? 0.95)
  const split = options.expectedSplit ?? 0.5
  const rate = (x: MetricsAggregate) => (x.events.w > 0 ? x.events.n / x.events.w : 1)
  const srm = sampleRatioMismatch(a.events.n, b.events.n, {
    expectedSplit: split,
    alpha: options.srmAlpha ?? 0.001,
    sampleRates: { a: rate(a), b: rate(b) },
  })
  const ea = metricEstimates(a)
  const eb = metricEstimates(b)
  const metrics: Record<string, MetricComparison> = {}
  for (const [name, na] of ea) {
    const nb = eb.get(name)
    if (!nb) continue
    const r = compareEstimates(na.estimate, nb.estimate, cv)
    // Flat names always carry a prefix or are fixed words, so none can be `__proto__`.
    if (r) metrics[name] = { a: r.a, b: r.b, diff: r.diff, ci_low: r.ci_low, ci_high: r.ci_high, p_value: r.p_value }
  }
  return {
    a: { n: a.events.n, count: a.events.w },
    b: { n: b.events.n, count: b.events.w },
    srm: { p_value: srm.p_value, mismatch: srm.mismatch, expected_split: split, observed_split: srm.observed_share },
    metrics,
  }
}
