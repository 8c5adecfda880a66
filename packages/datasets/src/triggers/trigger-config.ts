import { createRequire } from 'node:module'
import { Ajv, type ErrorObject } from 'ajv'
import { Cron } from 'croner'
import { DatasetError, type SpecIssue } from '../errors.js'
import type { DatasetSpec } from '../spec/dataset-spec.js'
import { parseDatasetSpec, type SpecValidator } from '../spec/parse-spec.js'
import { parseWindow } from '../spec/parse-time.js'

const require = createRequire(import.meta.url)

/** The JSON Schema of a trigger, as shipped in `schemas/dataset-trigger.v1.schema.json`. */
export const datasetTriggerJsonSchema: Record<string, unknown> = require('../../schemas/dataset-trigger.v1.schema.json')

/** When a trigger builds on its own. */
export type TriggerSchedule = { every: string } | { cron: string; timezone?: string }

/** Where a built version's manifest is POSTed. */
export interface TriggerWebhook {
  url: string
  /** Shared secret of `X-Inferlog-Signature`; without it deliveries are unsigned. */
  secret?: string
  /** Default {@link DEFAULT_WEBHOOK_TIMEOUT_MS}. */
  timeout_ms?: number
  /** Default {@link DEFAULT_WEBHOOK_ATTEMPTS}. */
  max_attempts?: number
}

/** A dataset trigger (`PUT /v1/datasets/{name}/trigger`). */
export interface DatasetTrigger {
  /** The parsed, validated spec. */
  spec: DatasetSpec
  schedule?: TriggerSchedule
  /** Alert rule ids whose `fired` transitions build a version. */
  on_alert?: string[]
  /** Default true. */
  since_last?: boolean
  webhook?: TriggerWebhook
}

/** Time a webhook receiver may take to answer, ms. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000
/** Deliveries tried per built version before the delivery is marked failed. */
export const DEFAULT_WEBHOOK_ATTEMPTS = 8

const MIN_EVERY_MS = 60_000
const MAX_EVERY_MS = 366 * 86_400_000

function issueOf(e: ErrorObject): SpecIssue {
  const p = e.params as Record<string, unknown>
  let path = e.instancePath
  let message = e.message ?? 'is invalid'
  if (e.keyword === 'required' && typeof p.missingProperty === 'string') {
    path += `/${p.missingProperty}`
    message = 'is required'
  } else if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
    path += `/${p.additionalProperty}`
    message = 'is not a known key'
  } else if (e.keyword === 'anyOf' && path === '') {
    message = 'needs a schedule, on_alert, or both'
  } else if (e.keyword === 'oneOf') {
    const description = (e.parentSchema as { description?: unknown } | undefined)?.description
    if (typeof description === 'string') message = `must be ${description}`
  }
  return { path, message }
}

/** A compiled trigger validator; reuse one (compiling takes milliseconds). */
export interface TriggerValidator {
  validate(value: unknown): SpecIssue[]
}

/** Compiles the shipped trigger schema once. */
export function createTriggerValidator(): TriggerValidator {
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true })
  const check = ajv.compile(datasetTriggerJsonSchema)
  return {
    validate(value) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [{ path: '', message: 'a trigger must be an object' }]
      if (check(value)) return []
      const errors = check.errors ?? []
      // Keep the oneOf's (anyOf's) one clear message, not each failed branch's.
      const branches = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
      return errors.filter((e) => !branches.some((b) => b !== e && e.schemaPath.startsWith(`${b.schemaPath}/`))).map(issueOf)
    },
  }
}

/** Checks of a schedule the schema cannot make: the duration's range, the cron expression and its time zone. */
function scheduleIssues(schedule: TriggerSchedule | undefined): SpecIssue[] {
  if (!schedule) return []
  if ('every' in schedule) {
    const ms = parseWindow(schedule.every)
    return ms === undefined || ms < MIN_EVERY_MS || ms > MAX_EVERY_MS
      ? [{ path: '/schedule/every', message: 'must be a duration from 1m to 366d, e.g. 30m, 6h, 1d, 1w' }]
      : []
  }
  const fields = schedule.cron.trim().split(/\s+/)
  if (fields.length !== 5) return [{ path: '/schedule/cron', message: 'must have five fields: minute hour day-of-month month day-of-week' }]
  try {
    new Cron(schedule.cron, { paused: true, timezone: schedule.timezone ?? 'UTC' })
  } catch (e) {
    return [{ path: '/schedule/cron', message: `is not a valid cron expression: ${(e as Error).message}` }]
  }
  if (schedule.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: schedule.timezone })
    } catch {
      return [{ path: '/schedule/timezone', message: 'is not an IANA time zone (e.g. UTC, Europe/Paris)' }]
    }
  }
  return []
}

/**
 * Validates a trigger (JSON object) whole: the trigger's keys against the shipped JSON Schema, the
 * schedule, and the dataset spec inside it. Throws a {@link DatasetError} `invalid_spec` whose
 * `issues` hold every problem with its JSON Pointer (spec problems under `/spec`).
 */
export function parseDatasetTrigger(
  input: unknown,
  options: { validator?: TriggerValidator; specValidator?: SpecValidator } = {},
): DatasetTrigger {
  const issues = (options.validator ?? createTriggerValidator()).validate(input)
  const o = input as Record<string, unknown>
  if (issues.length === 0) issues.push(...scheduleIssues(o.schedule as TriggerSchedule | undefined))
  let spec: DatasetSpec | undefined
  if (o && typeof o === 'object' && o.spec !== undefined && (typeof o.spec === 'object' || typeof o.spec === 'string')) {
    try {
      spec = parseDatasetSpec(o.spec, options.specValidator ? { validator: options.specValidator } : {})
    } catch (e) {
      if (!(e instanceof DatasetError)) throw e
      issues.push(...e.issues.map((i) => ({ path: `/spec${i.path}`, message: i.message })))
    }
  }
  if (issues.length > 0 || spec === undefined) {
    const first = issues.map((i) => `${i.path || '(trigger)'} ${i.message}`).join('; ')
    throw new DatasetError('invalid_spec', `invalid dataset trigger: ${first}`, { issues })
  }
  return { ...(o as Omit<DatasetTrigger, 'spec'>), spec }
}

/**
 * The first scheduled time strictly after `afterMs` (epoch ms), or undefined without a schedule.
 * `every`: the next multiple of the duration since the Unix epoch (so `1h` is every full hour UTC,
 * `1d` every UTC midnight, whatever time the trigger was set). `cron`: the next minute the
 * expression matches in its time zone (day-of-month and day-of-week combine with OR when both are
 * restricted, as crontab(5) does).
 */
export function nextScheduledMs(schedule: TriggerSchedule | undefined, afterMs: number): number | undefined {
  if (!schedule) return undefined
  if ('every' in schedule) {
    const step = parseWindow(schedule.every)!
    return (Math.floor(afterMs / step) + 1) * step
  }
  const next = new Cron(schedule.cron, { paused: true, timezone: schedule.timezone ?? 'UTC', legacyMode: true }).nextRun(new Date(afterMs))
  return next ? next.getTime() : undefined
}
