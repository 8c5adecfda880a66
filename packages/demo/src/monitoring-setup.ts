import type { CollectorApi } from './collector-api.js'
import { MODEL_NAME } from './models/train-models.js'
import { FEATURE_NAMES } from './weather-data.js'

/** Ids of the demo's alert rules. */
export const DRIFT_RULE = 'weather-input-drift'
export const QUALITY_RULE = 'control-accuracy'

/** The fields the drift rule and the model configuration watch. */
export const MONITORED_FIELDS = FEATURE_NAMES.map((f) => `input.${f}`)

/** A window in whole seconds, as alert rules take it (at least `1s`). */
export function windowText(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`
}

/** Timeline the rules are written against. */
export interface RuleTimes {
  /** When the first (backfilled) traffic is dated (epoch ms): the drift reference starts here. */
  startMs: number
  /** When traffic moves to New York (epoch ms): the drift reference ends here. */
  shiftMs: number
  /** Time compression (see DemoOptions.speed). */
  speed: number
  /** Requests per second of live traffic: the drift rule's minimum sample is a quarter of a window's worth (20 to 100). */
  rate: number
}

/**
 * The demo's alert rules (DESIGN read-side contract, `PUT /v1/alerts/rules`):
 * - data drift of the four inputs of primary traffic over the last 20 s (÷ speed, at least 8 s:
 *   ingestion lags by seconds on a loaded machine) against the traffic before the shift, by
 *   two-sample KS at p ≤ 0.05 whatever the reference size (Evidently's default for large
 *   references, Wasserstein ≥ 0.1 σ, is noise on a few hundred rows); fires when three of the four
 *   drift: about 0.1% false alarms per evaluation before the shift, and it fires once the window
 *   is mostly New York (`scripts/drift-rule-check.py` simulates both on the data);
 * - the control arm's accuracy (labels joined late) over the last 2 min (÷ speed; metrics buckets
 *   are minutes, so at least the minutes it touches) below 0.7.
 */
export function demoRules(t: RuleTimes): unknown[] {
  const driftWindowMs = Math.max(8_000, 20_000 / t.speed)
  return [
    {
      id: DRIFT_RULE,
      name: 'Input drift of weather-clf (vs. the Seattle traffic before the shift)',
      condition: {
        type: 'drift',
        fields: MONITORED_FIELDS,
        reference: { model: MODEL_NAME, stage: 'primary', from: t.startMs, to: t.shiftMs },
        filter: { model: MODEL_NAME, stage: 'primary' },
        method: 'ks',
      },
      window: windowText(driftWindowMs),
      operator: '>=',
      threshold: 0.75,
      // A window the latest batches have not reached yet (a loaded box) holds fewer rows and less
      // power: below a quarter of its expected rows it is skipped rather than allowed to resolve.
      min_samples: Math.round(Math.min(100, Math.max(20, (t.rate * driftWindowMs) / 1000 / 4))),
    },
    {
      id: QUALITY_RULE,
      name: 'Accuracy of the control arm (labels arrive late)',
      condition: { type: 'metric', metric: 'quality.label.accuracy', filter: { model: MODEL_NAME, version: '1.4.0', stage: 'primary' } },
      window: windowText(120_000 / t.speed),
      operator: '<',
      threshold: 0.7,
      min_samples: 50,
    },
  ]
}

/** Declares the model's label (`thumbs` is inferred: share positive), monitored fields and city dimension, then the alert rules. */
export async function configureMonitoring(api: CollectorApi, t: RuleTimes): Promise<void> {
  await api.put(`/v1/models/${MODEL_NAME}`, {
    labels: { label: { output: 'label', type: 'class' } },
    monitored_fields: MONITORED_FIELDS,
    dimensions: ['entity.city'],
  })
  await api.put('/v1/alerts/rules', { rules: demoRules(t) })
}

/** One rule as `GET /v1/alerts` lists it (the parts the demo reads). */
export interface AlertRuleView {
  rule: { id: string }
  state: 'ok' | 'firing'
  last: { value: number | null; n: number; reason: string } | null
}

/** Evaluates the rules now (`POST /v1/alerts/evaluate`) and returns every rule's state. */
export async function evaluateAlerts(
  api: CollectorApi,
): Promise<{ transitions: { id: string; transition: string }[]; rules: AlertRuleView[] }> {
  const { transitions } = await api.post<{ transitions: { id: string; transition: string }[] }>('/v1/alerts/evaluate', {})
  const { rules } = await api.get<{ rules: AlertRuleView[] }>('/v1/alerts')
  return { transitions, rules }
}
