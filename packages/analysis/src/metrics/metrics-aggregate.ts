import type { InferenceEvent } from '@inferlog/schema'
import { QuantileSketch } from '../sketch/index.js'
import {
  emptyMoments,
  emptyTally,
  momentsAdd,
  momentsMerge,
  type Tally,
  tallyAdd,
  tallyMerge,
  type WeightedMoments,
} from '../stats/index.js'
import {
  applyLabelContribution,
  emptyLabelAggregate,
  type LabelAggregate,
  type LabelContribution,
  mergeLabelAggregate,
} from './label-aggregate.js'
import { MonitoringError } from './monitoring-error.js'

/** Latency phases of the record, in reply order. */
export const LATENCY_PHASES = ['total', 'pre', 'inference', 'post', 'ttft'] as const

/** One of {@link LATENCY_PHASES}. */
export type LatencyPhase = (typeof LATENCY_PHASES)[number]

/** One latency phase: a quantile sketch (p50/p90/p99) and moments (mean and its interval). */
export interface PhaseAggregate {
  sketch: QuantileSketch
  moments: WeightedMoments
}

/**
 * The mergeable summary of a set of events (one bucket row: a minute, an hour, a day, or a whole
 * window after merging). Every sum is weighted by w = 1/sample_rate; tallies also keep the stored
 * count and Σw² for effective sample sizes. Mutable on purpose: a feed consumer adds thousands of
 * events per second into the current minute.
 */
export interface MetricsAggregate {
  /** All events. */
  events: Tally
  /** Events with `status: "error"`. */
  errors: Tally
  /** Σ w·usage.input_tokens and Σ w·usage.output_tokens. */
  inputTokens: number
  outputTokens: number
  /** Cost per event, over the events whose cost is known (client-sent or derived). */
  cost: WeightedMoments
  /** Per latency phase present in at least one event. */
  latency: Partial<Record<LatencyPhase, PhaseAggregate>>
  /** Per feedback name used as a label. */
  labels: Map<string, LabelAggregate>
  /** Per implicit feedback name: events converted within the attribution window. */
  conversions: Map<string, Tally>
}

/** What one event contributes to a bucket (see {@link observationOf}). */
export interface EventObservation {
  /** 1/sample_rate. Default 1. */
  weight?: number
  /** `status` was `error`. Default false. */
  error?: boolean
  /** Latency per phase in ms; non-finite or negative values are ignored. */
  latencyMs?: Partial<Record<LatencyPhase, number>>
  inputTokens?: number
  outputTokens?: number
  /** The event's cost: client-sent `usage.cost_usd`, else derived from the price table, else absent. */
  costUsd?: number
}

/** An empty aggregate. */
export function createMetricsAggregate(): MetricsAggregate {
  return {
    events: emptyTally(),
    errors: emptyTally(),
    inputTokens: 0,
    outputTokens: 0,
    cost: emptyMoments(),
    latency: {},
    labels: new Map(),
    conversions: new Map(),
  }
}

/** An empty phase aggregate (1% sketch). */
export function emptyPhaseAggregate(): PhaseAggregate {
  return { sketch: new QuantileSketch(), moments: emptyMoments() }
}

/** w = 1/sample_rate, with an absent or out-of-range rate read as 1 (the record's default). */
export function weightOf(sampleRate: number | undefined): number {
  return typeof sampleRate === 'number' && sampleRate > 0 && sampleRate <= 1 ? 1 / sampleRate : 1
}

/**
 * The observation of a stored event. `derivedCostUsd` is used only when the client sent no
 * `usage.cost_usd` (the client's figure wins; see `costOf`).
 */
export function observationOf(event: InferenceEvent, derivedCostUsd?: number | null): EventObservation {
  const obs: EventObservation = { weight: weightOf(event.sample_rate), error: event.status === 'error' }
  if (event.latency_ms) obs.latencyMs = event.latency_ms
  const u = event.usage
  if (u?.input_tokens !== undefined) obs.inputTokens = u.input_tokens
  if (u?.output_tokens !== undefined) obs.outputTokens = u.output_tokens
  const cost = typeof u?.cost_usd === 'number' ? u.cost_usd : derivedCostUsd
  if (typeof cost === 'number' && Number.isFinite(cost)) obs.costUsd = cost
  return obs
}

/**
 * Adds one event to the aggregate.
 *
 * @throws MonitoringError `invalid_observation` when the weight is not positive and finite
 */
export function addEvent(agg: MetricsAggregate, obs: EventObservation): void {
  const w = obs.weight ?? 1
  if (!(w > 0 && Number.isFinite(w))) throw new MonitoringError('invalid_observation', `weight must be positive and finite, got ${w}`)
  tallyAdd(agg.events, w)
  if (obs.error) tallyAdd(agg.errors, w)
  if (typeof obs.inputTokens === 'number' && Number.isFinite(obs.inputTokens)) agg.inputTokens += w * obs.inputTokens
  if (typeof obs.outputTokens === 'number' && Number.isFinite(obs.outputTokens)) agg.outputTokens += w * obs.outputTokens
  if (typeof obs.costUsd === 'number' && Number.isFinite(obs.costUsd)) momentsAdd(agg.cost, obs.costUsd, w)
  const lat = obs.latencyMs
  if (lat) {
    for (const phase of LATENCY_PHASES) {
      const x = lat[phase]
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) continue
      const pa = (agg.latency[phase] ??= emptyPhaseAggregate())
      pa.sketch.add(x, w)
      momentsAdd(pa.moments, x, w)
    }
  }
}

/**
 * Adds a label's contribution for an event of this bucket (the event's bucket, however late the
 * feedback). Pair every later replacement with {@link retractLabel} of the previous contribution.
 *
 * @throws MonitoringError `invalid_label` on a malformed contribution
 */
export function addLabel(agg: MetricsAggregate, name: string, contribution: LabelContribution): void {
  let la = agg.labels.get(name)
  if (!la) {
    la = emptyLabelAggregate()
    agg.labels.set(name, la)
  }
  applyLabelContribution(la, contribution, 1)
}

/**
 * Retracts a contribution added before with {@link addLabel} (pass the same contribution): every
 * count it added is decremented, so replacing a label is retract-then-add and stays exact (exact for
 * whole weights; fractional weights leave at most float rounding, and a count back at zero is exactly 0).
 *
 * @throws MonitoringError `invalid_retraction` when the contribution is not in the aggregate (nothing changes)
 */
export function retractLabel(agg: MetricsAggregate, name: string, contribution: LabelContribution): void {
  const la = agg.labels.get(name)
  if (!la) throw new MonitoringError('invalid_retraction', `no label ${JSON.stringify(name)} in this aggregate`)
  applyLabelContribution(la, contribution, -1)
  if (la.labeled.n === 0) agg.labels.delete(name)
}

/**
 * Counts one conversion (an event that got the implicit feedback `name` within the attribution
 * window). The caller counts an event at most once per name.
 */
export function addConversion(agg: MetricsAggregate, name: string, weight = 1): void {
  let t = agg.conversions.get(name)
  if (!t) {
    t = emptyTally()
    agg.conversions.set(name, t)
  }
  tallyAdd(t, weight)
}

/**
 * Undoes {@link addConversion}.
 *
 * @throws MonitoringError `invalid_retraction` when there is no such conversion
 */
export function retractConversion(agg: MetricsAggregate, name: string, weight = 1): void {
  const t = agg.conversions.get(name)
  if (!t || t.n < 1) throw new MonitoringError('invalid_retraction', `no conversion ${JSON.stringify(name)} in this aggregate`)
  tallyAdd(t, weight, -1)
  if (t.n === 0) agg.conversions.delete(name)
}

/**
 * True when feedback at `feedbackTsMs` attributes to an event at `eventTsMs`: at or after the event
 * and within `windowMs` (default 24 h).
 */
export function withinAttributionWindow(eventTsMs: number, feedbackTsMs: number, windowMs = 86_400_000): boolean {
  const d = feedbackTsMs - eventTsMs
  return d >= 0 && d <= windowMs
}

/** Options of {@link mergeAggregate}. */
export interface MergeAggregateOptions {
  /** Merge the latency sketches. Default true; comparisons that need only means and counts skip them. */
  sketches?: boolean
}

/** Adds `src` into `into`; `src` is left unchanged. */
export function mergeAggregate(into: MetricsAggregate, src: MetricsAggregate, options: MergeAggregateOptions = {}): void {
  tallyMerge(into.events, src.events)
  tallyMerge(into.errors, src.errors)
  into.inputTokens += src.inputTokens
  into.outputTokens += src.outputTokens
  momentsMerge(into.cost, src.cost)
  const sketches = options.sketches ?? true
  for (const phase of LATENCY_PHASES) {
    const s = src.latency[phase]
    if (!s) continue
    const t = (into.latency[phase] ??= emptyPhaseAggregate())
    if (sketches) t.sketch.merge(s.sketch)
    momentsMerge(t.moments, s.moments)
  }
  for (const [name, la] of src.labels) {
    let t = into.labels.get(name)
    if (!t) {
      t = emptyLabelAggregate()
      into.labels.set(name, t)
    }
    mergeLabelAggregate(t, la)
  }
  for (const [name, c] of src.conversions) {
    const t = into.conversions.get(name)
    if (t) tallyMerge(t, c)
    else into.conversions.set(name, { ...c })
  }
}

/**
 * A new aggregate holding the merge of all `aggs` (e.g. 720 hourly rows into one point). Sketches
 * of each phase are merged in one pass ({@link QuantileSketch.union}).
 */
export function mergeAggregates(aggs: Iterable<MetricsAggregate>, options: MergeAggregateOptions = {}): MetricsAggregate {
  const out = createMetricsAggregate()
  const sketches = options.sketches ?? true
  const byPhase = new Map<LatencyPhase, QuantileSketch[]>()
  for (const a of aggs) {
    mergeAggregate(out, a, { sketches: false })
    if (!sketches) continue
    for (const phase of LATENCY_PHASES) {
      const p = a.latency[phase]
      if (!p) continue
      let list = byPhase.get(phase)
      if (!list) byPhase.set(phase, (list = []))
      list.push(p.sketch)
    }
  }
  for (const [phase, list] of byPhase) (out.latency[phase] as PhaseAggregate).sketch = QuantileSketch.union(list)
  return out
}
