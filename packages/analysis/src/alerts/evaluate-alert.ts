import type { MetricsPoint } from '../metrics/index.js'
import { type AlertOperator, type AlertRule, DEFAULT_MIN_SAMPLES } from './alert-rule.js'

/** A rule's state between evaluations. */
export type AlertState = 'ok' | 'firing'

/** One evaluation's input: the rule's figure over its window and the number of events behind it. */
export interface AlertObservation {
  /** `null` when the figure does not exist for the window (no data). */
  value: number | null
  /** Stored events (or labeled events for a quality metric) the figure rests on. */
  n: number
}

/** Why an evaluation ended where it did. */
export type AlertReason = 'condition_met' | 'condition_not_met' | 'insufficient_samples' | 'no_value'

/** Result of {@link evaluateAlert}. */
export interface AlertEvaluation {
  state: AlertState
  /** `fired` on ok → firing, `resolved` on firing → ok, else `null`. */
  transition: 'fired' | 'resolved' | null
  reason: AlertReason
  value: number | null
  n: number
  threshold: number
}

/** `value OP threshold`. */
export function thresholdMet(value: number, operator: AlertOperator, threshold: number): boolean {
  switch (operator) {
    case '>':
      return value > threshold
    case '>=':
      return value >= threshold
    case '<':
      return value < threshold
    default:
      return value <= threshold
  }
}

/**
 * One evaluation of a rule, pure. Semantics (no hysteresis, no "for" duration):
 * - fewer than `min_samples` events (default 100) or no value: the state stays what it was and
 *   nothing transitions; a rule therefore never fires on too few events, and a firing rule is not
 *   resolved by a quiet window either;
 * - otherwise the condition decides: met → `firing` (a `fired` transition when it was `ok`),
 *   not met → `ok` (a `resolved` transition when it was `firing`).
 * A value that oscillates around the threshold fires and resolves on every crossing; use a
 * longer window to smooth it.
 */
export function evaluateAlert(rule: AlertRule, previous: AlertState, obs: AlertObservation): AlertEvaluation {
  const base = { value: obs.value, n: obs.n, threshold: rule.threshold }
  const min = rule.min_samples ?? DEFAULT_MIN_SAMPLES
  if (obs.value === null || !Number.isFinite(obs.value)) return { ...base, state: previous, transition: null, reason: 'no_value' }
  if (!(obs.n >= min)) return { ...base, state: previous, transition: null, reason: 'insufficient_samples' }
  if (thresholdMet(obs.value, rule.operator, rule.threshold)) {
    return { ...base, state: 'firing', transition: previous === 'firing' ? null : 'fired', reason: 'condition_met' }
  }
  return { ...base, state: 'ok', transition: previous === 'firing' ? 'resolved' : null, reason: 'condition_not_met' }
}

/**
 * Reads a metric condition's figure from a finalized point (`all` bucket over the rule's window):
 * `{value, n}` with n the point's stored events, or the label's `n_labeled` for quality metrics.
 * `undefined` for a name the point does not have.
 */
export function metricObservation(point: MetricsPoint, metric: string): AlertObservation | undefined {
  if (metric === 'count') return { value: point.count, n: point.n }
  if (metric === 'n') return { value: point.n, n: point.n }
  if (metric === 'error_rate') return { value: point.error_rate, n: point.n }
  let m = /^usage\.(input_tokens|output_tokens|cost_usd)$/.exec(metric)
  if (m) return { value: point.usage[m[1] as 'input_tokens'], n: point.n }
  if (metric === 'cost_usd.per_request') return { value: point.count > 0 ? point.usage.cost_usd / point.count : null, n: point.n }
  m = /^latency_ms\.(total|pre|inference|post|ttft)\.(p50|p90|p99|mean)$/.exec(metric)
  if (m) {
    const phase = point.latency_ms[m[1] as 'total']
    return phase ? { value: phase[m[2] as 'p50'], n: point.n } : undefined
  }
  m = /^quality\.(.+)\.([a-z0-9_]+)$/.exec(metric)
  if (m) {
    const q = point.quality[m[1] as string]
    if (!q) return undefined
    const key = m[2] as string
    const v = (q as unknown as Record<string, unknown>)[key]
    const value = typeof v === 'number' ? v : typeof v === 'object' && v !== null ? (v as { value: number }).value : null
    if (key === 'coverage' || key === 'conversion_rate') return { value, n: point.n }
    return v === undefined ? undefined : { value, n: q.n_labeled }
  }
  return undefined
}
