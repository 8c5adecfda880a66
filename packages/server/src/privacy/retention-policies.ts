import type { AuditActor } from '../audit/audit-records.js'
import { InferlogError } from '../errors.js'
import { type DerivedMigration, migrateDerived } from '../feed/derived-schema.js'
import type { DerivedStore } from '../store/store.js'
import type { AppendAudit } from './erasure-service.js'

/** A project's retention policy. */
export interface RetentionPolicy {
  /** Events whose `ts` is older than this many days are removed. */
  events_days: number
  /** Feedback items older than the same number of days are removed too (else kept). Default true. */
  feedback: boolean
  /** When it was set, RFC 3339. */
  updated_at: string
}

/** Longest retention a policy may name: 100 years. */
export const MAX_RETENTION_DAYS = 36_500

/** Checks a `PUT /v1/retention` body: `{events_days: 1..36500, feedback?: boolean, reason?: string}`. */
export function parseRetentionPolicy(body: Record<string, unknown>): { events_days: number; feedback: boolean; reason?: string } {
  const fail = (m: string): never => {
    throw new InferlogError('validation_failed', m)
  }
  for (const k of Object.keys(body)) {
    if (!['events_days', 'feedback', 'reason'].includes(k)) fail(`unknown field ${JSON.stringify(k)}; known: events_days, feedback, reason`)
  }
  const days = body.events_days
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS)
    fail(`events_days must be a whole number of days, 1..${MAX_RETENTION_DAYS}`)
  if (body.feedback !== undefined && typeof body.feedback !== 'boolean') fail('feedback must be true or false')
  if (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 2000))
    fail('reason must be a string of at most 2000 characters')
  return {
    events_days: days as number,
    feedback: body.feedback !== false,
    ...(typeof body.reason === 'string' ? { reason: body.reason } : {}),
  }
}

const SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('retention_policies')
      .addColumn('project', 'text', (c) => c.primaryKey())
      .addColumn('events_days', 'integer', (c) => c.notNull())
      .addColumn('feedback', 'integer', (c) => c.notNull())
      .addColumn('updated_ms', 'bigint', (c) => c.notNull())
      .execute()
  },
]

interface Row {
  project: string
  events_days: number
  feedback: number
  updated_ms: number | string
}

const toPolicy = (r: Row): RetentionPolicy => ({
  events_days: Number(r.events_days),
  feedback: Number(r.feedback) === 1,
  updated_at: new Date(Number(r.updated_ms)).toISOString(),
})

/**
 * Retention policies per project, kept beside derived data. Setting or clearing one is an
 * administrative record of the audit chain, committed with the change itself.
 */
export class RetentionPolicies {
  private ready: Promise<void> | undefined

  constructor(
    private readonly derived: DerivedStore,
    private readonly appendAudit: AppendAudit,
    private readonly now: () => number = Date.now,
  ) {}

  private ensure(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'retention_policies', SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  async get(project: string): Promise<RetentionPolicy | undefined> {
    await this.ensure()
    const r = (await this.derived.db.selectFrom('retention_policies').selectAll().where('project', '=', project).executeTakeFirst()) as
      | Row
      | undefined
    return r && toPolicy(r)
  }

  /** Every project's policy. */
  async all(): Promise<Map<string, RetentionPolicy>> {
    await this.ensure()
    const rows = (await this.derived.db.selectFrom('retention_policies').selectAll().orderBy('project').execute()) as Row[]
    return new Map(rows.map((r) => [r.project, toPolicy(r)]))
  }

  /** Sets a project's policy; resolves with it and the audit record's id. */
  async set(project: string, p: { events_days: number; feedback: boolean; reason?: string }, actor: AuditActor) {
    await this.ensure()
    const nowMs = this.now()
    const row = { project, events_days: p.events_days, feedback: p.feedback ? 1 : 0, updated_ms: nowMs }
    const write = this.derived.db
      .insertInto('retention_policies')
      .values(row)
      .onConflict((oc) => oc.column('project').doUpdateSet({ events_days: row.events_days, feedback: row.feedback, updated_ms: nowMs }))
      .compile()
    const rec = await this.appendAudit({
      project,
      type: 'retention_policy',
      actor,
      ...(p.reason !== undefined ? { reason: p.reason } : {}),
      details: { events_days: p.events_days, feedback: p.feedback },
      writes: [write],
      nowMs,
    })
    return { policy: toPolicy(row), record: rec.id }
  }

  /** Removes a project's policy (nothing expires any more); resolves with the record's id, or null when there was none. */
  async clear(project: string, actor: AuditActor, reason?: string): Promise<string | null> {
    if (!(await this.get(project))) return null
    const write = this.derived.db.deleteFrom('retention_policies').where('project', '=', project).compile()
    const rec = await this.appendAudit({
      project,
      type: 'retention_policy',
      actor,
      ...(reason !== undefined ? { reason } : {}),
      details: { events_days: null },
      writes: [write],
      nowMs: this.now(),
    })
    return rec.id
  }
}
