import { createRequire } from 'node:module'
import { Ajv, type ErrorObject } from 'ajv'
import { parseDocument } from 'yaml'
import { DatasetError, type SpecIssue } from '../errors.js'
import type { DatasetSpec } from './dataset-spec.js'
import { parseTime, parseWindow } from './parse-time.js'

const require = createRequire(import.meta.url)

/** The JSON Schema of the dataset spec, as shipped in `schemas/dataset-spec.v1.schema.json`. */
export const datasetSpecJsonSchema: Record<string, unknown> = require('../../schemas/dataset-spec.v1.schema.json')

/** A compiled spec validator; create one and reuse it (compiling the schema takes milliseconds). */
export interface SpecValidator {
  /** Every problem of `value` as a spec (empty when valid). */
  validate(value: unknown): SpecIssue[]
}

function pointer(segments: string[]): string {
  return segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')
}

function issueOf(e: ErrorObject): SpecIssue {
  const p = e.params as Record<string, unknown>
  let path = e.instancePath
  let message = e.message ?? 'is invalid'
  if (e.keyword === 'required' && typeof p.missingProperty === 'string') {
    path += pointer([p.missingProperty])
    message = 'is required'
  } else if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
    path += pointer([p.additionalProperty])
    message = 'is not a known key'
  } else if (e.keyword === 'enum' && Array.isArray(p.allowedValues)) {
    message = `must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
  } else if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
    const description = (e.parentSchema as { description?: unknown } | undefined)?.description
    if (typeof description === 'string') message = `must be ${description}`
  } else if (e.keyword === 'propertyNames') {
    message = `has an invalid key ${JSON.stringify(p.propertyName)}`
    path += pointer([String(p.propertyName)])
  }
  if (e.keyword === 'type' && /\/select\/version(\/\d+)?$/.test(path)) message += " (quote versions in YAML, e.g. '3.10')"
  return { path, message }
}

/** Ajv reports each failed branch of a oneOf besides the oneOf itself: keep the one clear message. */
function prune(errors: ErrorObject[]): ErrorObject[] {
  const branches = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
  return errors.filter((e) => {
    if (e.keyword === 'propertyNames') return true
    // propertyNames reports the key's own failure (pattern) too, with the same instancePath.
    if (errors.some((o) => o.keyword === 'propertyNames' && o.instancePath === e.instancePath && e.schemaPath.includes('/propertyNames/')))
      return false
    return !branches.some(
      (b) =>
        b !== e &&
        e.schemaPath.startsWith(`${b.schemaPath}/`) &&
        (e.instancePath === b.instancePath || e.instancePath.startsWith(`${b.instancePath}/`)),
    )
  })
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Checks the schema cannot express: times, windows, cross-references between keys, ratio sums. */
function semanticIssues(spec: Obj): SpecIssue[] {
  const issues: SpecIssue[] = []
  const select = isObj(spec.select) ? spec.select : {}
  const times: Record<string, number | undefined> = {}
  for (const key of ['from', 'to'] as const) {
    const v = select[key]
    if (typeof v !== 'string' && typeof v !== 'number') continue
    times[key] = parseTime(v)
    if (times[key] === undefined)
      issues.push({ path: `/select/${key}`, message: 'must be an RFC 3339 time (or date) or epoch milliseconds' })
  }
  if (times.from !== undefined && times.to !== undefined && times.from >= times.to) {
    issues.push({ path: '/select/to', message: 'must be after select.from' })
  }
  const feedback = isObj(spec.feedback) ? spec.feedback : {}
  for (const [column, def] of Object.entries(feedback)) {
    if (!isObj(def)) continue
    const w = def.window
    // A string off the pattern is the schema's to report; here only what the pattern lets through (overflow).
    if (
      ((typeof w === 'string' && /^[0-9]+(ms|s|m|h|d|w)$/.test(w)) || Number.isInteger(w)) &&
      parseWindow(w as string | number) === undefined
    ) {
      issues.push({ path: pointer(['feedback', column, 'window']), message: 'must be a duration such as 7d, 12h, 30m, 45s, 500ms' })
    }
  }
  const columns = new Set(Object.keys(feedback))
  const label = isObj(spec.label) ? spec.label : undefined
  if (label && typeof label.from === 'string' && !columns.has(label.from)) {
    issues.push({ path: '/label/from', message: `names no feedback column (have: ${[...columns].join(', ') || 'none'})` })
  }
  if (spec.weight === 'balanced' && !label) issues.push({ path: '/weight', message: 'balanced needs a label' })
  const split = isObj(spec.split) ? spec.split : undefined
  if (split && isObj(split.ratios)) {
    const values = Object.values(split.ratios)
    if (values.every((v) => typeof v === 'number')) {
      const sum = (values as number[]).reduce((a, b) => a + b, 0)
      if (Math.abs(sum - 1) > 1e-6) issues.push({ path: '/split/ratios', message: `must sum to 1 (sum is ${sum})` })
    }
  }
  const format = typeof spec.format === 'string' ? spec.format : 'jsonl'
  if (spec.columns !== undefined && format !== 'parquet' && format !== 'csv') {
    issues.push({ path: '/columns', message: 'applies to format parquet or csv only' })
  }
  if (isObj(spec.columns)) {
    for (const name of Object.keys(spec.columns)) {
      const col = name.startsWith('feedback.') ? name.slice('feedback.'.length) : undefined
      if (col !== undefined && !columns.has(col)) issues.push({ path: pointer(['columns', name]), message: 'names no feedback column' })
    }
  }
  const bandit = isObj(spec.bandit) ? spec.bandit : undefined
  if (bandit && format !== 'bandit') issues.push({ path: '/bandit', message: 'applies to format bandit only' })
  if (format === 'bandit') {
    const reward = typeof bandit?.reward === 'string' ? bandit.reward : undefined
    if (reward !== undefined && !columns.has(reward)) issues.push({ path: '/bandit/reward', message: 'names no feedback column' })
    if (reward === undefined && !label && columns.size !== 1) {
      issues.push({ path: '/bandit/reward', message: 'is required when there is no label and not exactly one feedback column' })
    }
    const by = isObj(bandit?.prioritized) ? bandit.prioritized.by : undefined
    if (typeof by === 'string' && !columns.has(by)) issues.push({ path: '/bandit/prioritized/by', message: 'names no feedback column' })
  }
  return issues
}

/** Compiles the shipped JSON Schema once. */
export function createSpecValidator(): SpecValidator {
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true })
  const check = ajv.compile(datasetSpecJsonSchema)
  return {
    validate(value) {
      if (!isObj(value)) return [{ path: '', message: 'a spec must be an object' }]
      const issues = check(value) ? [] : prune(check.errors ?? []).map(issueOf)
      issues.push(...semanticIssues(value))
      const seen = new Set<string>()
      return issues.filter((i) => {
        const key = `${i.path}\n${i.message}`
        if (seen.has(key)) return false
        seen.add(key)
        return true
      })
    },
  }
}

/** Options of {@link parseDatasetSpec}. */
export interface ParseDatasetSpecOptions {
  /** A validator to reuse; default: one compiled for this call. */
  validator?: SpecValidator
}

/**
 * Reads a spec from JSON or YAML text (YAML 1.2, a superset of JSON) or takes an already parsed
 * value, and validates it. Throws a {@link DatasetError} `invalid_spec` whose `issues` hold the path
 * and reason of every problem (syntax errors carry line and column) before anything is built.
 */
export function parseDatasetSpec(input: unknown, options: ParseDatasetSpecOptions = {}): DatasetSpec {
  let value = input
  if (typeof input === 'string') {
    const doc = parseDocument(input, { uniqueKeys: true, prettyErrors: true })
    if (doc.errors.length > 0) {
      const issues = doc.errors.map((e) => ({ path: '', message: e.message.split('\n')[0] ?? e.message }))
      throw new DatasetError('invalid_spec', `spec is not valid JSON or YAML: ${issues[0]!.message}`, { issues })
    }
    value = doc.toJS()
  }
  const issues = (options.validator ?? createSpecValidator()).validate(value)
  if (issues.length > 0) {
    const first = issues.map((i) => `${i.path || '(spec)'} ${i.message}`).join('; ')
    throw new DatasetError('invalid_spec', `invalid dataset spec: ${first}`, { issues })
  }
  return value as DatasetSpec
}
