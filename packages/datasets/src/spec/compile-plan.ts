import canonicalize from 'canonicalize'
import type { ScanFilter } from '../source/dataset-source.js'
import type { DatasetFormat, DatasetSpec, FeedbackAggregate, JsonValue, TabularType } from './dataset-spec.js'
import { parseTime, parseWindow } from './parse-time.js'

/** One feedback column, resolved. */
export interface ColumnPlan {
  /** Output key. */
  column: string
  /** Feedback `name` it joins. */
  name: string
  /** Undefined: any time. */
  windowMs: number | undefined
  aggregate: FeedbackAggregate
  /** `drop`, or the JSON text of the default value. */
  missing: 'drop' | { json: string; value: JsonValue }
  /** Added by the format (`correction`, `preference`), not written as a feedback column. */
  implicit: boolean
}

/** The split, resolved: names sorted so the assignment does not depend on key order in the spec. */
export interface SplitPlan {
  by: string[]
  names: string[]
  /** Cumulative upper bounds of `names`, the last forced to 1. */
  bounds: number[]
  seed: string
}

/** A validated spec turned into what the pipeline executes. */
export interface DatasetPlan {
  spec: DatasetSpec
  filter: ScanFilter
  where: { path: string[]; canonical: string }[]
  limit: number | undefined
  /** Sorted by column key. */
  columns: ColumnPlan[]
  /** Feedback names to fetch. */
  feedbackNames: string[]
  label: { from: string; map: Map<string, JsonValue> | undefined } | undefined
  weight: 'inverse_sample_rate' | 'none' | 'balanced'
  dedupe: boolean
  split: SplitPlan
  format: DatasetFormat
  /** Declared tabular columns, when given. */
  declared: Map<string, TabularType> | undefined
  bandit:
    | {
        reward: string
        probability: string[] | undefined
        prioritized: { by: string; size: number; alpha: number; epsilon: number; seed: string } | undefined
      }
    | undefined
}

/** Parses a dotted path; keys with dots are not addressable (a documented limit). */
export function splitPath(path: string): string[] {
  return path.split('.')
}

/** Turns a spec that passed validation into a plan (throws only on a spec that did not). */
export function compilePlan(spec: DatasetSpec): DatasetPlan {
  const select = spec.select ?? {}
  const filter: ScanFilter = { status: select.status ?? 'ok' }
  if (select.model !== undefined) filter.model = select.model
  if (select.version !== undefined) filter.versions = Array.isArray(select.version) ? [...select.version] : [select.version]
  if (select.stage !== undefined) filter.stage = select.stage
  if (select.from !== undefined) filter.fromMs = parseTime(select.from)
  if (select.to !== undefined) filter.toMs = parseTime(select.to)
  if (select.session_id !== undefined) filter.sessionId = select.session_id
  if (select.user_id !== undefined) filter.userId = select.user_id
  if (select.arm !== undefined) filter.arm = select.arm
  const where = Object.entries(select.where ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, value]) => ({ path: splitPath(path), canonical: canonicalize(value) as string }))

  const format = spec.format ?? 'jsonl'
  const columns: ColumnPlan[] = Object.entries(spec.feedback ?? {}).map(([column, def]) => ({
    column,
    name: def.name ?? column,
    windowMs: def.window === undefined ? undefined : parseWindow(def.window),
    aggregate: def.aggregate ?? 'latest',
    missing:
      def.missing === undefined || def.missing === 'drop'
        ? 'drop'
        : { json: JSON.stringify(def.missing.default), value: def.missing.default },
    implicit: false,
  }))
  const implicit = (column: string, aggregate: FeedbackAggregate) => {
    if (columns.some((c) => c.column === column)) return
    columns.push({ column, name: column, windowMs: undefined, aggregate, missing: { json: 'null', value: null }, implicit: true })
  }
  if (format === 'openai-chat' || format === 'preference') implicit('correction', 'latest')
  if (format === 'preference') implicit('preference', 'all')
  columns.sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0))

  const ratios = spec.split?.ratios ?? { train: 1 }
  const names = Object.keys(ratios).sort()
  let acc = 0
  const bounds = names.map((n) => (acc += ratios[n]!))
  bounds[bounds.length - 1] = 1

  const label = spec.label
    ? { from: spec.label.from, map: spec.label.map ? new Map(Object.entries(spec.label.map)) : undefined }
    : undefined
  let bandit: DatasetPlan['bandit']
  if (format === 'bandit') {
    const reward = spec.bandit?.reward ?? label?.from ?? columns.find((c) => !c.implicit)!.column
    const p = spec.bandit?.prioritized
    bandit = {
      reward,
      probability: spec.bandit?.probability === undefined ? undefined : splitPath(spec.bandit.probability),
      prioritized: p && { by: p.by ?? reward, size: p.size, alpha: p.alpha ?? 1, epsilon: p.epsilon ?? 0.01, seed: String(p.seed ?? '') },
    }
  }
  return {
    spec,
    filter,
    where,
    limit: select.limit,
    columns,
    feedbackNames: [...new Set(columns.map((c) => c.name))].sort(),
    label,
    weight: spec.weight ?? 'inverse_sample_rate',
    dedupe: spec.dedupe === 'input',
    split: { by: splitPath(spec.split?.by ?? 'trace.session_id'), names, bounds, seed: String(spec.split?.seed ?? '') },
    format,
    declared: spec.columns ? new Map(Object.entries(spec.columns)) : undefined,
    bandit,
  }
}
