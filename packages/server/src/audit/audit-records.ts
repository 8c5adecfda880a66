import { uuidv7 } from '@inferlog/schema'
import canonicalize from 'canonicalize'
import { InferlogError } from '../errors.js'
import type { AuditLog, Tombstone } from '../store/ports/audit-log.js'
import type { CompiledWrite } from '../store/ports/derived-store.js'
import { tombstonesRoot } from './merkle.js'

/** Kinds of administrative records the server writes (others may add their own strings). */
export type AuditRecordType = 'erasure' | 'retention' | 'key_created' | 'key_revoked' | 'redaction_rules' | (string & {})

/** Who did it: an API key, or the open-mode local operator (`key_id: null`). */
export interface AuditActor {
  /** The API key's id; `null` for the local operator (open mode) or a command-line tool. */
  key_id: string | null
  /** Free label: the key's name, `operator`, `retention-scheduler`, `inferlog erase`… */
  name?: string
}

/** Input of {@link appendAuditRecord}. */
export interface AuditRecordInput {
  /** The project it concerns. */
  project: string
  /** What happened. */
  type: AuditRecordType
  /** Who asked. */
  actor: AuditActor
  /** Why, in the requester's words (an erasure request's reference, a policy name). Default none. */
  reason?: string
  /** How many rows, by kind, e.g. `{events: 12, feedback: 3}`. Default none. */
  counts?: Record<string, number>
  /** Anything else worth keeping (the selector of an erasure, a key's scopes); JSON. Default none. */
  details?: Record<string, unknown>
  /**
   * Leaf hashes of the rows this operation deletes or blanks (`leafHashHex(kind, row)` of each
   * row as stored, before the change). They go into the tombstone table in the same transaction,
   * and the record commits to their digest (`tombstones: {count, root}`), so `verify` accepts the
   * missing rows and nobody can add a tombstone later. Keep one call under ~50 000 of them; split
   * bigger runs into several records. Default none.
   */
  tombstones?: readonly Tombstone[]
  /**
   * The change itself (deletes, updates), compiled for the store's dialect with
   * `store.derived.db` and `.compile()`; run in the record's transaction, after the tombstones,
   * so the rows and their tombstones can never be out of step. Default none.
   */
  writes?: readonly CompiledWrite[]
  /** When, epoch ms. Default now. */
  nowMs?: number
  /** The record's id. Default a new UUIDv7. */
  id?: string
}

/** What {@link appendAuditRecord} committed. */
export interface AppendedAuditRecord {
  id: string
  /** The batch it committed as (its own). */
  batchSeq: number
  tsMs: number
  /** The stored body, parsed: `{type, at, actor, reason?, counts?, details?, tombstones?}`. */
  body: Record<string, unknown>
}

/**
 * Appends an administrative record to the log as a batch of its own, so the audit chain seals it
 * like any event: who (`actor`), when (`at`), why (`reason`), how many (`counts`), plus the
 * tombstones of deleted rows and the statements that delete them, all in one transaction.
 * Call it for erasures, retention runs, API keys created or revoked, and redaction-rule changes.
 *
 * @example
 * const rows = await store.eventsByIds(project, ids)
 * await appendAuditRecord(store, {
 *   project, type: 'erasure', actor: { key_id: principal.keyId }, reason,
 *   counts: { events: rows.length },
 *   tombstones: rows.map((e) => ({ kind: 'event', project, id: e.id, batch: e.batch, leaf: leafHashHex('event', e) })),
 *   writes: [store.derived.db.deleteFrom('events').where(...).compile()],
 * })
 */
export async function appendAuditRecord(log: Pick<AuditLog, 'appendAudit'>, input: AuditRecordInput): Promise<AppendedAuditRecord> {
  const tsMs = input.nowMs ?? Date.now()
  const id = input.id ?? uuidv7()
  const tombstones = input.tombstones ?? []
  const seen = new Set<string>()
  for (const t of tombstones) {
    if (t.kind !== 'event' && t.kind !== 'feedback')
      throw new InferlogError('invalid_parameter', `tombstone kind ${JSON.stringify(t.kind)}`)
    if (!/^[0-9a-f]{64}$/.test(t.leaf))
      throw new InferlogError('invalid_parameter', `tombstone of ${t.kind} ${t.id}: leaf must be 64 hex digits`)
    if (!Number.isSafeInteger(t.batch) || t.batch < 1)
      throw new InferlogError('invalid_parameter', `tombstone of ${t.kind} ${t.id}: bad batch`)
    const k = JSON.stringify([t.kind, t.project, t.id])
    if (seen.has(k)) throw new InferlogError('invalid_parameter', `two tombstones for ${t.kind} ${t.project}/${t.id}`)
    seen.add(k)
  }
  const body: Record<string, unknown> = {
    type: input.type,
    at: new Date(tsMs).toISOString(),
    actor: input.actor,
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...(input.counts !== undefined ? { counts: input.counts } : {}),
    ...(input.details !== undefined ? { details: input.details } : {}),
    ...(tombstones.length > 0 ? { tombstones: { count: tombstones.length, root: tombstonesRoot(tombstones) } } : {}),
  }
  const text = canonicalize(body)
  if (text === undefined) throw new InferlogError('invalid_parameter', 'audit record is not JSON')
  const { batchSeq } = await log.appendAudit({
    record: { project: input.project, id, tsMs, body: text },
    tombstones,
    ...(input.writes ? { writes: input.writes } : {}),
  })
  return { id, batchSeq, tsMs, body: JSON.parse(text) as Record<string, unknown> }
}
