import { CriticalValues, effectiveSize, type IntervalEstimate, momentsMean, weightedWilsonWithZ } from '../stats/index.js'
import { STORED_QUANTILES } from './aggregate-codec.js'
import { setOwn } from './own-key.js'
import { classificationOf, estimateInterval, expectedCalibrationError } from './metric-estimates.js'
import { LATENCY_PHASES, type LatencyPhase, type MetricsAggregate } from './metrics-aggregate.js'

/** Latency figures of one phase in a point. */
export interface LatencyFigures {
  p50: number | null
  p90: number | null
  p99: number | null
  /** Weighted mean (an extension of the contract). */
  mean: number | null
}

/** Per-class figures of a classification label. */
export interface ClassFigures {
  /** Σw of events whose true class is this one. */
  support: number
  /** Absent when the class was never predicted (it counts as 0 in the macro average). */
  precision?: IntervalEstimate
  /** Absent when the class never occurred as truth (it counts as 0 in the macro average). */
  recall?: IntervalEstimate
  f1: IntervalEstimate
}

/** Quality figures of one feedback name in a point (`quality.NAME` of the metrics reply). */
export interface QualityFigures {
  /** Stored events of the bucket with an effective label. */
  n_labeled: number
  /** Weighted share of the bucket's events with a label, `null` for an empty bucket. */
  coverage: number | null
  accuracy?: IntervalEstimate
  precision_macro?: IntervalEstimate
  recall_macro?: IntervalEstimate
  f1_macro?: IntervalEstimate
  per_class?: Record<string, ClassFigures>
  /** Expected calibration error, 10 equal-width bins of the predicted class's confidence. */
  ece?: number
  /** Top-label Brier score: mean (confidence − correct)²; the usual Brier score for two classes. */
  brier?: number
  mae?: IntervalEstimate
  rmse?: IntervalEstimate
  /** Mean rating; for a boolean label without a prediction (thumbs), the share of positives. */
  mean?: IntervalEstimate
  /** Share of the bucket's events converted (implicit feedback within the attribution window). */
  conversion_rate?: IntervalEstimate
}

/** One point of a metrics series, exactly the `points[]` item of `GET /v1/metrics`. */
export interface MetricsPoint {
  /** Bucket start, RFC 3339. */
  start: string
  /** Σw over events: the estimated number of requests. */
  count: number
  /** Stored events. */
  n: number
  /** Kish effective sample size (Σw)²/Σw². */
  n_eff: number
  /** Σw over error events. */
  errors: number
  /** errors / count, `null` for an empty bucket. */
  error_rate: number | null
  latency_ms: Partial<Record<LatencyPhase, LatencyFigures>>
  usage: { input_tokens: number; output_tokens: number; cost_usd: number }
  quality: Record<string, QualityFigures>
}

/** Options of {@link createMetricsFinalizer}. */
export interface MetricsFinalizerOptions {
  /** Two-sided level of every interval. Default 0.95. */
  confidence?: number
}

/** Turns aggregates into reply points; holds a critical-value cache, so keep one per server. */
export interface MetricsFinalizer {
  readonly confidence: number
  /** The point of `agg` for the bucket starting at `start` (RFC 3339, epoch ms or Date). */
  finalize(agg: MetricsAggregate, start: string | number | Date): MetricsPoint
}

function iso(start: string | number | Date): string {
  if (typeof start === 'string') return start
  return new Date(start).toISOString()
}

/**
 * A finalizer. Intervals: Wilson for proportions (accuracy, per-class precision and recall,
 * coverage-type rates, conversion rate, share of positive thumbs) with the design-based effective
 * size under weights; t for means (MAE, mean rating) with df = n_eff − 1; RMSE as the square root of
 * the t interval of the mean squared error; F1 and macro averages by the delta method (see
 * `summarizeConfusion`). ECE and Brier are values without intervals.
 */
export function createMetricsFinalizer(options: MetricsFinalizerOptions = {}): MetricsFinalizer {
  const cv = new CriticalValues(options.confidence ?? 0.95)
  return {
    confidence: cv.confidence,
    finalize: (agg, start) => finalizeWith(agg, start, cv),
  }
}

/** One-off {@link MetricsFinalizer.finalize}; a long-lived finalizer is faster over many points. */
export function finalizeAggregate(
  agg: MetricsAggregate,
  start: string | number | Date,
  options: MetricsFinalizerOptions = {},
): MetricsPoint {
  return createMetricsFinalizer(options).finalize(agg, start)
}

function finalizeWith(agg: MetricsAggregate, start: string | number | Date, cv: CriticalValues): MetricsPoint {
  const ev = agg.events
  const latency: Partial<Record<LatencyPhase, LatencyFigures>> = {}
  for (const phase of LATENCY_PHASES) {
    const p = agg.latency[phase]
    if (!p || p.moments.n === 0) continue
    // One call for the three: a stored sketch answers them from the values kept beside it (no decode).
    const [p50, p90, p99] = p.sketch.quantiles(STORED_QUANTILES) as [number | null, number | null, number | null]
    latency[phase] = { p50, p90, p99, mean: momentsMean(p.moments) }
  }
  const quality: Record<string, QualityFigures> = {}
  for (const [name, la] of agg.labels) {
    const q: QualityFigures = { n_labeled: la.labeled.n, coverage: ev.w > 0 ? la.labeled.w / ev.w : null }
    const cs = classificationOf(la)
    if (cs) {
      const acc = weightedWilsonWithZ(cs.correct, cs.total, cv.z)
      if (acc) q.accuracy = acc
      q.precision_macro = estimateInterval({ kind: 'delta', ...cs.precisionMacro }, cv) as IntervalEstimate
      q.recall_macro = estimateInterval({ kind: 'delta', ...cs.recallMacro }, cv) as IntervalEstimate
      q.f1_macro = estimateInterval({ kind: 'delta', ...cs.f1Macro }, cv) as IntervalEstimate
      const per: Record<string, ClassFigures> = {}
      for (const [cls, s] of cs.perClass) {
        const f: ClassFigures = { support: s.actual.w, f1: estimateInterval({ kind: 'delta', ...s.f1 }, cv) as IntervalEstimate }
        const pr = weightedWilsonWithZ(s.correct, s.predicted, cv.z)
        if (pr) f.precision = pr
        const rc = weightedWilsonWithZ(s.correct, s.actual, cv.z)
        if (rc) f.recall = rc
        setOwn(per, cls, f)
      }
      q.per_class = per
    }
    const ece = expectedCalibrationError(la)
    if (ece !== undefined && la.calibration) {
      q.ece = ece
      q.brier = momentsMean(la.calibration.brier) as number
    }
    if (la.absError && la.absError.n > 0) q.mae = estimateInterval({ kind: 'mean', moments: la.absError }, cv)
    if (la.sqError && la.sqError.n > 0) q.rmse = estimateInterval({ kind: 'root-mean', moments: la.sqError }, cv)
    if (la.values && la.values.n > 0) q.mean = estimateInterval({ kind: 'mean', moments: la.values }, cv)
    else if (la.positives && la.positives.all.n > 0) q.mean = weightedWilsonWithZ(la.positives.pos, la.positives.all, cv.z)
    setOwn(quality, name, q)
  }
  for (const [name, t] of agg.conversions) {
    const rate = weightedWilsonWithZ(t, ev, cv.z)
    let q = Object.hasOwn(quality, name) ? (quality[name] as QualityFigures) : undefined
    if (!q) {
      q = { n_labeled: t.n, coverage: ev.w > 0 ? t.w / ev.w : null }
      setOwn(quality, name, q)
    }
    if (rate) q.conversion_rate = rate
  }
  return {
    start: iso(start),
    count: ev.w,
    n: ev.n,
    n_eff: effectiveSize(ev),
    errors: agg.errors.w,
    error_rate: ev.w > 0 ? agg.errors.w / ev.w : null,
    latency_ms: latency,
    usage: { input_tokens: agg.inputTokens, output_tokens: agg.outputTokens, cost_usd: agg.cost.wx },
    quality,
  }
}
