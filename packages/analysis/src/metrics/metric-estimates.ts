import {
  CriticalValues,
  clamp,
  type IntervalEstimate,
  meanIntervalWith,
  momentsMean,
  type Tally,
  type WeightedMoments,
  weightedWilsonWithZ,
} from '../stats/index.js'
import { type ClassificationSummary, summarizeConfusion } from './classification.js'
import type { LabelAggregate } from './label-aggregate.js'
import { LATENCY_PHASES, type MetricsAggregate } from './metrics-aggregate.js'

/**
 * How a metric is estimated, which decides its interval and the test that compares it:
 * - `proportion`: Σw over successes / Σw over the total (Wilson; two-proportion z test, Newcombe interval);
 * - `mean`: the weighted mean of moments (t interval; Welch's t test);
 * - `root-mean`: the square root of such a mean, RMSE (t interval on the mean, then square roots; delta-method z test);
 * - `delta`: a smooth function with a delta-method variance, F1 and macro averages (normal interval; z test);
 * - `point`: no sampling distribution in closed form, ECE (value only).
 */
export type MetricEstimate =
  | { kind: 'proportion'; successes: Tally; total: Tally }
  | { kind: 'mean'; moments: WeightedMoments }
  | { kind: 'root-mean'; moments: WeightedMoments }
  | { kind: 'delta'; value: number; variance: number | null }
  | { kind: 'point'; value: number }

/** A metric's estimate and its direction (for "significantly worse"). */
export interface NamedEstimate {
  estimate: MetricEstimate
  /** True for accuracy-like metrics, false for error-like ones (error rate, MAE, latency, cost). */
  higherIsBetter: boolean
}

/** The point value of an estimate, `null` when there is no data. */
export function estimateValue(e: MetricEstimate): number | null {
  switch (e.kind) {
    case 'proportion':
      return e.total.w > 0 ? clamp(e.successes.w / e.total.w, 0, 1) : null
    case 'mean':
      return momentsMean(e.moments)
    case 'root-mean': {
      const m = momentsMean(e.moments)
      return m === null ? null : Math.sqrt(Math.max(0, m))
    }
    default:
      return e.value
  }
}

/**
 * The estimate with its interval at the critical values `cv`; `undefined` when there is no data.
 * Point estimates (ECE) have `null` bounds. Delta-method intervals are clipped to [0, 1] (they are
 * only used for scores in that range).
 */
export function estimateInterval(e: MetricEstimate, cv: CriticalValues): IntervalEstimate | undefined {
  switch (e.kind) {
    case 'proportion':
      return weightedWilsonWithZ(e.successes, e.total, cv.z)
    case 'mean':
      return meanIntervalWith(e.moments, cv)
    case 'root-mean': {
      const m = meanIntervalWith(e.moments, cv)
      if (!m) return undefined
      const root = (x: number | null) => (x === null ? null : Math.sqrt(Math.max(0, x)))
      return { value: Math.sqrt(Math.max(0, m.value)), ci_low: root(m.ci_low), ci_high: root(m.ci_high) }
    }
    case 'delta': {
      if (e.variance === null) return { value: e.value, ci_low: null, ci_high: null }
      const half = cv.z * Math.sqrt(e.variance)
      return { value: e.value, ci_low: clamp(e.value - half, 0, 1), ci_high: clamp(e.value + half, 0, 1) }
    }
    default:
      return { value: e.value, ci_low: null, ci_high: null }
  }
}

/** Expected calibration error: Σ_bins |Σw·correct − Σw·confidence| / Σw (10 equal-width bins). */
export function expectedCalibrationError(la: LabelAggregate): number | undefined {
  const cal = la.calibration
  if (!cal || !(cal.brier.w > 0)) return undefined
  let s = 0
  for (const b of cal.bins) s += Math.abs(b.wCorrect - b.wConf)
  return s / cal.brier.w
}

function put(out: Map<string, NamedEstimate>, name: string, estimate: MetricEstimate, higherIsBetter: boolean): void {
  out.set(name, { estimate, higherIsBetter })
}

/** The classification summary of a label, `undefined` without classification data. */
export function classificationOf(la: LabelAggregate): ClassificationSummary | undefined {
  return la.confusion ? summarizeConfusion(la.confusion) : undefined
}

/**
 * Every metric of an aggregate under a flat name, for comparisons, slices and alerts:
 * `error_rate`, `latency_ms.PHASE.mean`, `cost_usd.per_request`, and per label NAME
 * `quality.NAME.coverage`, `.accuracy`, `.precision_macro`, `.recall_macro`, `.f1_macro`,
 * `.precision.CLASS`, `.recall.CLASS`, `.f1.CLASS`, `.ece`, `.brier`, `.mae`, `.rmse`, `.mean`, and
 * `quality.NAME.conversion_rate` for implicit feedback.
 */
export function metricEstimates(agg: MetricsAggregate): Map<string, NamedEstimate> {
  const out = new Map<string, NamedEstimate>()
  if (agg.events.n > 0) put(out, 'error_rate', { kind: 'proportion', successes: agg.errors, total: agg.events }, false)
  for (const phase of LATENCY_PHASES) {
    const p = agg.latency[phase]
    if (p && p.moments.n > 0) put(out, `latency_ms.${phase}.mean`, { kind: 'mean', moments: p.moments }, false)
  }
  if (agg.cost.n > 0) put(out, 'cost_usd.per_request', { kind: 'mean', moments: agg.cost }, false)
  for (const [name, la] of agg.labels) {
    const q = `quality.${name}`
    if (agg.events.n > 0) put(out, `${q}.coverage`, { kind: 'proportion', successes: la.labeled, total: agg.events }, true)
    const cs = classificationOf(la)
    if (cs) {
      put(out, `${q}.accuracy`, { kind: 'proportion', successes: cs.correct, total: cs.total }, true)
      put(out, `${q}.precision_macro`, { kind: 'delta', ...cs.precisionMacro }, true)
      put(out, `${q}.recall_macro`, { kind: 'delta', ...cs.recallMacro }, true)
      put(out, `${q}.f1_macro`, { kind: 'delta', ...cs.f1Macro }, true)
      for (const [cls, s] of cs.perClass) {
        if (s.predicted.w > 0) put(out, `${q}.precision.${cls}`, { kind: 'proportion', successes: s.correct, total: s.predicted }, true)
        if (s.actual.w > 0) put(out, `${q}.recall.${cls}`, { kind: 'proportion', successes: s.correct, total: s.actual }, true)
        put(out, `${q}.f1.${cls}`, { kind: 'delta', ...s.f1 }, true)
      }
    }
    const ece = expectedCalibrationError(la)
    if (ece !== undefined && la.calibration) {
      put(out, `${q}.ece`, { kind: 'point', value: ece }, false)
      put(out, `${q}.brier`, { kind: 'mean', moments: la.calibration.brier }, false)
    }
    if (la.absError && la.absError.n > 0) put(out, `${q}.mae`, { kind: 'mean', moments: la.absError }, false)
    if (la.sqError && la.sqError.n > 0) put(out, `${q}.rmse`, { kind: 'root-mean', moments: la.sqError }, false)
    if (la.values && la.values.n > 0) put(out, `${q}.mean`, { kind: 'mean', moments: la.values }, true)
    else if (la.positives && la.positives.all.n > 0)
      put(out, `${q}.mean`, { kind: 'proportion', successes: la.positives.pos, total: la.positives.all }, true)
  }
  if (agg.events.n > 0) {
    for (const [name, t] of agg.conversions)
      put(out, `quality.${name}.conversion_rate`, { kind: 'proportion', successes: t, total: agg.events }, true)
  }
  return out
}

/** Interval of a named metric of an aggregate (95% unless `cv` says otherwise); `undefined` when absent. */
export function metricInterval(
  agg: MetricsAggregate,
  name: string,
  cv: CriticalValues = new CriticalValues(),
): IntervalEstimate | undefined {
  const e = metricEstimates(agg).get(name)
  return e ? estimateInterval(e.estimate, cv) : undefined
}
