import { createRedactor, DETECTOR_KINDS, type DetectorKind, type Redactor } from '@inferlog/schema'
import type { AuditActor } from '../audit/audit-records.js'
import { InferlogError } from '../errors.js'
import { type DerivedMigration, migrateDerived } from '../feed/derived-schema.js'
import type { DerivedStore } from '../store/store.js'
import type { AppendAudit } from './erasure-service.js'

/** A project's server-side redaction rules, as the API shows them. */
export interface RedactionRuleSet {
  /** Field paths dropped from every event and feedback item (`input.ssn`, `input.messages.*.name`). */
  paths: string[]
  /** Detectors whose matches in payload strings become `[REDACTED:kind]`. */
  detectors: DetectorKind[]
  /** When they were set, RFC 3339. */
  updated_at: string
}

/** Most paths one rule set may hold. */
export const MAX_REDACTION_PATHS = 100
/** Longest path, characters. */
export const MAX_PATH_CHARS = 200

// Dropping these would change a record's identity or make it invalid: refused as rules.
const PROTECTED_ROOTS = new Set(['id', 'ts', 'model', 'event_id', 'name', 'shadow_of', 'status', 'sample_rate', 'kind', '*'])
const REQUIRED_FIELDS = new Set(['input', 'output', 'value'])

/**
 * Checks a `PUT /v1/redaction` body: `{paths?: [...], detectors?: [...], reason?}`. `detectors`
 * defaults to all three (`email`, `phone`, `card`), as in the SDK; `[]` turns them off.
 */
export function parseRedactionRules(body: Record<string, unknown>): { paths: string[]; detectors: DetectorKind[]; reason?: string } {
  const fail = (m: string): never => {
    throw new InferlogError('validation_failed', m)
  }
  for (const k of Object.keys(body)) {
    if (!['paths', 'detectors', 'reason'].includes(k)) fail(`unknown field ${JSON.stringify(k)}; known: paths, detectors, reason`)
  }
  const paths = body.paths ?? []
  if (!Array.isArray(paths)) fail('paths must be a list of dotted field paths such as input.ssn')
  if ((paths as unknown[]).length > MAX_REDACTION_PATHS) fail(`at most ${MAX_REDACTION_PATHS} paths`)
  const seen = new Set<string>()
  for (const [i, p] of (paths as unknown[]).entries()) {
    if (typeof p !== 'string' || p === '' || p.length > MAX_PATH_CHARS)
      fail(`paths[${i}] must be a path of 1..${MAX_PATH_CHARS} characters`)
    const segs = (p as string).split('.')
    if (segs.some((s) => s === '')) fail(`paths[${i}] ${JSON.stringify(p)} has an empty segment`)
    if (PROTECTED_ROOTS.has(segs[0]!)) fail(`paths[${i}] ${JSON.stringify(p)} would drop ${segs[0]}, which identifies the record`)
    if (segs.length === 1 && REQUIRED_FIELDS.has(segs[0]!))
      fail(`paths[${i}] ${JSON.stringify(p)} would drop a required field; drop fields inside it`)
    seen.add(p as string)
  }
  const detectors = body.detectors ?? [...DETECTOR_KINDS]
  if (!Array.isArray(detectors)) fail(`detectors must be a list of ${DETECTOR_KINDS.join(', ')}`)
  for (const [i, d] of (detectors as unknown[]).entries()) {
    if (!DETECTOR_KINDS.includes(d as DetectorKind)) fail(`detectors[${i}] must be one of ${DETECTOR_KINDS.join(', ')}`)
  }
  if (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 2000))
    fail('reason must be a string of at most 2000 characters')
  return {
    paths: [...seen],
    detectors: [...new Set(detectors as DetectorKind[])],
    ...(typeof body.reason === 'string' ? { reason: body.reason } : {}),
  }
}

const SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('redaction_rules')
      .addColumn('project', 'text', (c) => c.primaryKey())
      .addColumn('rules', 'text', (c) => c.notNull())
      .addColumn('updated_ms', 'bigint', (c) => c.notNull())
      .execute()
  },
]

/** Options of {@link RedactionRules}. */
export interface RedactionRulesOptions {
  /** How long a project's rules are trusted before they are read again, ms. Default 2 000. */
  cacheMs?: number
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number
}

/**
 * Server-side redaction rules per project, kept beside derived data and applied by the collector
 * before anything is stored. A change is an administrative record of the audit chain committed
 * with it; other collectors pick it up within the cache time.
 */
export class RedactionRules {
  private ready: Promise<void> | undefined
  private readonly cache = new Map<string, { redactor: Redactor | undefined; until: number }>()
  private readonly cacheMs: number
  private readonly now: () => number

  constructor(
    private readonly derived: DerivedStore,
    private readonly appendAudit: AppendAudit,
    o: RedactionRulesOptions = {},
  ) {
    this.cacheMs = o.cacheMs ?? 2_000
    this.now = o.now ?? Date.now
  }

  private ensure(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'redaction_rules', SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  async get(project: string): Promise<RedactionRuleSet | undefined> {
    await this.ensure()
    const r = (await this.derived.db.selectFrom('redaction_rules').selectAll().where('project', '=', project).executeTakeFirst()) as
      | { rules: string; updated_ms: number | string }
      | undefined
    if (!r) return undefined
    const rules = JSON.parse(r.rules) as { paths: string[]; detectors: DetectorKind[] }
    return { ...rules, updated_at: new Date(Number(r.updated_ms)).toISOString() }
  }

  /**
   * The redactor for a project's ingest, or undefined when it has no rules. Cached; when the rules
   * cannot be read the last known ones stay in force, and with none known the request fails
   * (`unavailable`) rather than storing unredacted data.
   */
  async redactorFor(project: string): Promise<Redactor | undefined> {
    const now = this.now()
    const hit = this.cache.get(project)
    if (hit && hit.until > now) return hit.redactor
    try {
      const rules = await this.get(project)
      const redactor = rules ? createRedactor({ paths: rules.paths, detectors: rules.detectors }) : undefined
      this.cache.set(project, { redactor, until: now + this.cacheMs })
      return redactor
    } catch (e) {
      if (hit) return hit.redactor
      throw new InferlogError('unavailable', `redaction rules of project ${project} cannot be read: ${(e as Error).message}`, {
        retryAfter: 1,
        cause: e,
      })
    }
  }

  /** Replaces a project's rules; resolves with them and the audit record's id. */
  async set(project: string, rules: { paths: string[]; detectors: DetectorKind[]; reason?: string }, actor: AuditActor) {
    await this.ensure()
    const nowMs = this.now()
    const text = JSON.stringify({ paths: rules.paths, detectors: rules.detectors })
    const write = this.derived.db
      .insertInto('redaction_rules')
      .values({ project, rules: text, updated_ms: nowMs })
      .onConflict((oc) => oc.column('project').doUpdateSet({ rules: text, updated_ms: nowMs }))
      .compile()
    const rec = await this.appendAudit({
      project,
      type: 'redaction_rules',
      actor,
      ...(rules.reason !== undefined ? { reason: rules.reason } : {}),
      details: { paths: rules.paths, detectors: rules.detectors },
      writes: [write],
      nowMs,
    })
    this.cache.delete(project)
    return { rules: { paths: rules.paths, detectors: rules.detectors, updated_at: new Date(nowMs).toISOString() }, record: rec.id }
  }

  /** Removes a project's rules; the record's id, or null when it had none. */
  async clear(project: string, actor: AuditActor, reason?: string): Promise<string | null> {
    if (!(await this.get(project))) return null
    const rec = await this.appendAudit({
      project,
      type: 'redaction_rules',
      actor,
      ...(reason !== undefined ? { reason } : {}),
      details: { paths: [], detectors: [] },
      writes: [this.derived.db.deleteFrom('redaction_rules').where('project', '=', project).compile()],
      nowMs: this.now(),
    })
    this.cache.delete(project)
    return rec.id
  }
}
