import { LABEL_TYPES, type LabelConfig } from '@inferlog/analysis'
import { InferlogError } from '../errors.js'
import { type DerivedMigration, migrateDerived } from '../feed/derived-schema.js'
import type { DerivedStore } from '../store/store.js'

/** What `PUT /v1/models/{name}` declares about a model (every key optional). */
export interface ModelConfig {
  /** Feedback names that are labels: the output path they are compared with, and their type. */
  labels?: Record<string, LabelConfig>
  /** Input/output fields whose drift is watched (profiles kept per hour). */
  monitored_fields?: string[]
  /** `entity.KEY` / `tag.KEY` keys metrics may be grouped by (capped cardinality). */
  dimensions?: string[]
}

/** Most declared dimensions per model. */
export const MAX_DIMENSIONS = 8
/** Most distinct values kept per dimension; later values count as `(other)`. */
export const MAX_DIMENSION_VALUES = 50
/** Most monitored fields per model. */
export const MAX_MONITORED_FIELDS = 100

const FIELD_PATH = /^(input|output|internals|context|usage|latency_ms|model\.params)(\.[^.\s]{1,128}){0,16}$/
const DIMENSION = /^(entity|tag)\.[A-Za-z0-9_.:-]{1,128}$/

function issue(path: string, message: string): { path: string; message: string } {
  return { path, message }
}

/**
 * Validates a model configuration whole: every problem with its path, or the typed config.
 * Unknown keys are refused (typo safety).
 */
export function parseModelConfig(body: unknown): ModelConfig {
  const issues: { path: string; message: string }[] = []
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InferlogError('validation_failed', 'a model configuration is a JSON object', { details: [issue('', 'must be an object')] })
  }
  const b = body as Record<string, unknown>
  for (const k of Object.keys(b))
    if (!['labels', 'monitored_fields', 'dimensions'].includes(k)) issues.push(issue(`/${k}`, 'is not a known key'))
  const out: ModelConfig = {}
  if (b.labels !== undefined) {
    if (typeof b.labels !== 'object' || b.labels === null || Array.isArray(b.labels)) issues.push(issue('/labels', 'must be an object'))
    else {
      out.labels = {}
      for (const [name, v] of Object.entries(b.labels as Record<string, unknown>)) {
        const p = `/labels/${name}`
        if (name.length === 0 || name.length > 128) issues.push(issue(p, 'feedback names are 1-128 characters'))
        const c = v as Record<string, unknown> | null
        if (typeof c !== 'object' || c === null) {
          issues.push(issue(p, 'must be {"output": PATH, "type": TYPE}'))
          continue
        }
        if (typeof c.output !== 'string') issues.push(issue(`${p}/output`, 'must be a path inside the output ("" for the whole output)'))
        if (!LABEL_TYPES.includes(c.type as never)) issues.push(issue(`${p}/type`, `must be one of ${LABEL_TYPES.join(', ')}`))
        for (const k of Object.keys(c)) if (k !== 'output' && k !== 'type') issues.push(issue(`${p}/${k}`, 'is not a known key'))
        if (typeof c.output === 'string' && LABEL_TYPES.includes(c.type as never)) {
          Object.defineProperty(out.labels, name, {
            value: { output: c.output, type: c.type },
            enumerable: true,
            writable: true,
            configurable: true,
          })
        }
      }
    }
  }
  const list = (key: 'monitored_fields' | 'dimensions', re: RegExp, max: number, what: string) => {
    const v = b[key]
    if (v === undefined) return undefined
    if (!Array.isArray(v)) {
      issues.push(issue(`/${key}`, 'must be a list'))
      return undefined
    }
    if (v.length > max) issues.push(issue(`/${key}`, `at most ${max} entries`))
    v.forEach((x, i) => {
      if (typeof x !== 'string' || !re.test(x)) issues.push(issue(`/${key}/${i}`, what))
    })
    return [...new Set(v.filter((x): x is string => typeof x === 'string'))]
  }
  const fields = list('monitored_fields', FIELD_PATH, MAX_MONITORED_FIELDS, 'must be a dotted path such as input.age or output.score')
  if (fields) out.monitored_fields = fields
  const dims = list('dimensions', DIMENSION, MAX_DIMENSIONS, 'must be entity.KEY or tag.KEY')
  if (dims) out.dimensions = dims
  if (issues.length > 0) {
    throw new InferlogError(
      'validation_failed',
      `invalid model configuration: ${issues.map((i) => `${i.path || '(body)'} ${i.message}`).join('; ')}`,
      {
        details: issues,
      },
    )
  }
  return out
}

const SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('model_configs')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('updated_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_configs_pk', ['project', 'name'])
      .execute()
  },
]

/** Model configurations, kept beside derived data (they steer how the feed aggregates). */
export class ModelConfigs {
  private ready: Promise<void> | undefined

  constructor(
    private readonly derived: DerivedStore,
    private readonly now: () => number = Date.now,
  ) {}

  private prepare(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'model_configs', SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  async get(project: string, name: string): Promise<ModelConfig | undefined> {
    await this.prepare()
    const r = (await this.derived.db
      .selectFrom('model_configs')
      .select('config')
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst()) as { config: string } | undefined
    return r ? (JSON.parse(r.config) as ModelConfig) : undefined
  }

  /** Every configured model of a project (or of several, for the feed). */
  async all(projects: readonly string[]): Promise<Map<string, ModelConfig>> {
    await this.prepare()
    if (projects.length === 0) return new Map()
    const rows = (await this.derived.db
      .selectFrom('model_configs')
      .select(['project', 'name', 'config'])
      .where('project', 'in', projects as string[])
      .execute()) as { project: string; name: string; config: string }[]
    return new Map(rows.map((r) => [configKey(r.project, r.name), JSON.parse(r.config) as ModelConfig]))
  }

  /** Replaces a model's configuration. */
  async put(project: string, name: string, config: ModelConfig): Promise<void> {
    await this.prepare()
    const text = JSON.stringify(config)
    const q = this.derived.db
      .insertInto('model_configs')
      .values({ project, name, config: text, updated_ms: this.now() })
      .onConflict((oc) => oc.columns(['project', 'name']).doUpdateSet({ config: text, updated_ms: this.now() }))
      .compile()
    await this.derived.write([q])
  }
}

/** Map key of a (project, model) pair. */
export function configKey(project: string, name: string): string {
  return `${project}\u0000${name}`
}
