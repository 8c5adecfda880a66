import { Ajv } from 'ajv'
import { MonitoringError, type MonitoringIssue } from '../metrics/monitoring-error.js'
import { issuesFromAjv } from '../metrics/schema-issues.js'

/** Comparison operators of a rule's threshold. */
export type AlertOperator = '>' | '>=' | '<' | '<='

/** Threshold on a metric of the buckets matching `filter` (a `GET /v1/events` filter object). */
export interface MetricCondition {
  type: 'metric'
  /**
   * `count`, `n`, `error_rate`, `latency_ms.PHASE.(p50|p90|p99|mean)`, `usage.(input_tokens|output_tokens|cost_usd)`,
   * `cost_usd.per_request`, or `quality.NAME.METRIC` (`accuracy`, `f1_macro`, `mae`, `rmse`, `mean`, `ece`, `brier`,
   * `coverage`, `conversion_rate`, `precision_macro`, `recall_macro`).
   */
  metric: string
  filter?: Record<string, unknown>
}

/** Threshold on an A/B comparison of a metric between two filters. */
export interface ComparisonCondition {
  type: 'comparison'
  metric: string
  a: Record<string, unknown>
  b: Record<string, unknown>
  /** Which figure the threshold applies to: the difference b − a (default) or its p-value. */
  statistic?: 'diff' | 'p_value'
}

/** Threshold on data drift (computed by the drift analysis). */
export interface DriftCondition {
  type: 'drift'
  fields: string[]
  method?: string
  /** A FILTER or `{profile: NAME}`; absent: the drift analysis default. */
  reference?: Record<string, unknown>
  filter?: Record<string, unknown>
  /** Which figure the threshold applies to. Default `drift_share`. */
  statistic?: 'drift_share' | 'statistic' | 'p_value'
}

/** Threshold on concept drift of a label (computed by the drift analysis). */
export interface ConceptDriftCondition {
  type: 'concept_drift'
  label: string
  method?: string
  reference?: Record<string, unknown>
  filter?: Record<string, unknown>
}

/** Any condition. */
export type AlertCondition = MetricCondition | ComparisonCondition | DriftCondition | ConceptDriftCondition

/** An alert rule (file or API). */
export interface AlertRule {
  /** Stable id, `[A-Za-z0-9_.-]{1,64}`. */
  id: string
  name?: string
  condition: AlertCondition
  /** Evaluation window: `30s`, `5m`, `1h`, `7d` (1 s to 90 d). */
  window: string
  operator: AlertOperator
  threshold: number
  /** The rule never fires on fewer events than this. Default 100. */
  min_samples?: number
  /** Where firing and resolving are POSTed. */
  webhook?: string
}

/** Default minimum sample size of a rule. */
export const DEFAULT_MIN_SAMPLES = 100

const QUALITY_METRICS = 'accuracy|f1_macro|precision_macro|recall_macro|mae|rmse|mean|ece|brier|coverage|conversion_rate'
/** Metric names a rule may use (see {@link MetricCondition}). */
export const ALERT_METRIC_PATTERN = `^(count|n|error_rate|cost_usd\\.per_request|usage\\.(input_tokens|output_tokens|cost_usd)|latency_ms\\.(total|pre|inference|post|ttft)\\.(p50|p90|p99|mean)|quality\\.[^\\s]{1,128}\\.(${QUALITY_METRICS}))$`

const filter = { type: 'object' }
const optionalText = { type: 'string', minLength: 1, maxLength: 256 }

/** JSON Schema (draft-07) of one alert rule. */
export const alertRuleJsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'condition', 'window', 'operator', 'threshold'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
    name: optionalText,
    window: { type: 'string', pattern: '^[1-9][0-9]{0,6}(s|m|h|d)$' },
    operator: { enum: ['>', '>=', '<', '<='] },
    threshold: { type: 'number' },
    min_samples: { type: 'integer', minimum: 1 },
    webhook: { type: 'string', pattern: '^https?://', maxLength: 2048 },
    condition: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['metric', 'comparison', 'drift', 'concept_drift'] } },
      allOf: [
        {
          if: { properties: { type: { const: 'metric' } } },
          then: {
            additionalProperties: false,
            required: ['metric'],
            properties: { type: {}, metric: { type: 'string', pattern: ALERT_METRIC_PATTERN }, filter },
          },
        },
        {
          if: { properties: { type: { const: 'comparison' } } },
          then: {
            additionalProperties: false,
            required: ['metric', 'a', 'b'],
            properties: {
              type: {},
              metric: { type: 'string', pattern: ALERT_METRIC_PATTERN },
              a: filter,
              b: filter,
              statistic: { enum: ['diff', 'p_value'] },
            },
          },
        },
        {
          if: { properties: { type: { const: 'drift' } } },
          then: {
            additionalProperties: false,
            required: ['fields'],
            properties: {
              type: {},
              fields: { type: 'array', minItems: 1, maxItems: 1000, items: optionalText },
              method: optionalText,
              reference: filter,
              filter,
              statistic: { enum: ['drift_share', 'statistic', 'p_value'] },
            },
          },
        },
        {
          if: { properties: { type: { const: 'concept_drift' } } },
          then: {
            additionalProperties: false,
            required: ['label'],
            properties: { type: {}, label: optionalText, method: optionalText, reference: filter, filter },
          },
        },
      ],
    },
  },
} as const

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const MAX_WINDOW_MS = 90 * 86_400_000

/** Milliseconds of a window such as `5m`; `undefined` when malformed. */
export function windowMs(window: string): number | undefined {
  const m = /^([1-9][0-9]{0,6})(s|m|h|d)$/.exec(window)
  if (!m) return undefined
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number)
}

function validateRules(input: unknown, list: boolean): MonitoringIssue[] {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTuples: false })
  const validate = ajv.compile(list ? { type: 'array', maxItems: 10000, items: alertRuleJsonSchema } : alertRuleJsonSchema)
  if (!validate(input)) {
    // `if/then` failures repeat as an "if" error on the condition; the branch errors carry the paths.
    return issuesFromAjv((validate.errors ?? []).filter((e) => e.keyword !== 'if'))
  }
  const issues: MonitoringIssue[] = []
  const rules = (list ? input : [input]) as AlertRule[]
  const ids = new Map<string, number>()
  rules.forEach((r, i) => {
    const at = list ? `/${i}` : ''
    const ms = windowMs(r.window)
    if (ms === undefined || ms > MAX_WINDOW_MS) issues.push({ path: `${at}/window`, message: 'must be between 1s and 90d' })
    if (!Number.isFinite(r.threshold)) issues.push({ path: `${at}/threshold`, message: 'must be a finite number' })
    const first = ids.get(r.id)
    if (first !== undefined) issues.push({ path: `${at}/id`, message: `duplicates the id of /${first}` })
    else ids.set(r.id, i)
  })
  return issues
}

/**
 * Validates one rule as a whole.
 *
 * @throws MonitoringError `invalid_alert_rule` with every issue and its JSON Pointer
 */
export function parseAlertRule(input: unknown): AlertRule {
  const issues = validateRules(input, false)
  if (issues.length > 0) throw new MonitoringError('invalid_alert_rule', `alert rule rejected: ${issues.length} problem(s)`, issues)
  return input as AlertRule
}

/**
 * Validates a list of rules as a whole (a rules file): one bad rule rejects the list; paths start
 * with the rule's index; ids must be unique.
 *
 * @throws MonitoringError `invalid_alert_rule` with every issue and its JSON Pointer
 */
export function parseAlertRules(input: unknown): AlertRule[] {
  const issues = validateRules(input, true)
  if (issues.length > 0) throw new MonitoringError('invalid_alert_rule', `alert rules rejected: ${issues.length} problem(s)`, issues)
  return input as AlertRule[]
}
