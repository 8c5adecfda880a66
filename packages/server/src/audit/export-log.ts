import { InferlogError } from '../errors.js'
import type { LoggedAuditRecord, LoggedEvent, LoggedFeedback, StoredTombstone, Store } from '../store/store.js'
import { batchLeaves, ensureAuditTables, sealedHead } from './audit-chain-consumer.js'
import type { Checkpoint } from './checkpoint.js'
import type { EventLeafFields } from './inclusion-proof.js'
import { LeafHasher } from './leaf-hash.js'
import { GENESIS_HEAD, merkleRoot } from './merkle.js'
import { readSealed, storedCheckpoints } from './sealed-batches.js'

/** Format name of the first line of an export. */
export const EXPORT_FORMAT = 'inferlog.export/v1'

/** First line: where the export starts in the chain. */
export interface ExportHeader {
  type: 'header'
  format: typeof EXPORT_FORMAT
  /** Batches after this commit position (exclusive). */
  after: number
  /** Chain index and head at `after` (0 and 32 zero bytes from the start). */
  prev_index: number
  prev_head: string
  /** Leaves sealed up to `after`. */
  prev_rows: number
  /** Last sealed batch when the export started: the export stops there. */
  sealed_to: number
  exported_at: string
}

/** A batch's chain record, followed by its rows. */
export interface ExportBatch {
  type: 'batch'
  index: number
  position: number
  committed_ms: number
  leaves: number
  root: string
  head: string
  /** How many lines of each kind follow. */
  events: number
  feedback: number
  audit: number
  tombstones: number
}

/** An event line of an export: the stored columns its leaf hashes, tagged `type: 'event'`. */
export type ExportEvent = { type: 'event' } & Omit<EventLeafFields, 'kind'>

export interface ExportFeedback {
  type: 'feedback'
  project: string
  id: string
  event_id: string
  name: string
  ts_ms: number
  received_ms: number
  body: string
}

export interface ExportAudit {
  type: 'audit'
  project: string
  id: string
  ts_ms: number
  body: string
}

export interface ExportTombstone {
  type: 'tombstone'
  kind: 'event' | 'feedback'
  project: string
  id: string
  leaf: string
  /** The administrative record that removed the row. */
  record: string
}

/** Last line: what the export held (its absence means a truncated file). */
export interface ExportEnd {
  type: 'end'
  batches: number
  rows: number
  index: number
  head: string
}

/** One NDJSON line of an export. */
export type ExportLine =
  | ExportHeader
  | ExportBatch
  | ExportEvent
  | ExportFeedback
  | ExportAudit
  | ExportTombstone
  | (Checkpoint & { type: 'checkpoint' })
  | ExportEnd

const eventLine = (e: LoggedEvent): ExportEvent => ({
  type: 'event',
  project: e.project,
  id: e.id,
  ts_ms: e.tsMs,
  received_ms: e.receivedMs,
  model: e.model,
  version: e.version,
  stage: e.stage,
  status: e.status,
  session_id: e.sessionId,
  user_id: e.userId,
  arm: e.arm,
  shadow_of: e.shadowOf,
  body: e.body,
})
const feedbackLine = (f: LoggedFeedback): ExportFeedback => ({
  type: 'feedback',
  project: f.project,
  id: f.id,
  event_id: f.eventId,
  name: f.name,
  ts_ms: f.tsMs,
  received_ms: f.receivedMs,
  body: f.body,
})
const auditLine = (r: LoggedAuditRecord): ExportAudit => ({ type: 'audit', project: r.project, id: r.id, ts_ms: r.tsMs, body: r.body })

/**
 * The sealed log after batch `after` (exclusive), in commit order: a header, then per batch its
 * chain record and its rows (erased rows as their tombstones, never their content), the
 * checkpoints as they come, and an `end` line. Every batch is checked against its seal while it is
 * read: a store that does not verify is not exported (`conflict`, naming the batch).
 */
export async function* exportLog(store: Store, o: { after?: number; now?: () => number } = {}): AsyncGenerator<ExportLine> {
  const after = o.after ?? 0
  if (!Number.isSafeInteger(after) || after < 0) throw new InferlogError('invalid_parameter', 'after must be a batch number ≥ 0')
  await ensureAuditTables(store.derived)
  const sealed = await sealedHead(store.derived)
  const sealedTo = sealed?.position ?? 0
  if (!sealed && (await store.commitHead()) > 0)
    throw new InferlogError(
      'conflict',
      'this store has no audit chain yet (its batches were never sealed): nothing can be exported with its chain',
    )
  // The chain state at `after`: the last sealed batch at or before it.
  const prev = (await store.derived.db
    .selectFrom('audit_batches')
    .select(['n', 'head', 'rows_total'])
    .where('position', '<=', after)
    .orderBy('n', 'desc')
    .limit(1)
    .executeTakeFirst()) as { n: number; head: Uint8Array; rows_total: number } | undefined
  yield {
    type: 'header',
    format: EXPORT_FORMAT,
    after,
    prev_index: prev ? Number(prev.n) : 0,
    prev_head: (prev ? Buffer.from(prev.head) : GENESIS_HEAD).toString('hex'),
    prev_rows: prev ? Number(prev.rows_total) : 0,
    sealed_to: sealedTo,
    exported_at: new Date((o.now ?? Date.now)()).toISOString(),
  }
  const checkpoints = (await storedCheckpoints(store.derived, after + 1, sealedTo)).map((c) => c.checkpoint)
  let nextCheckpoint = 0
  const seals = readSealed(store.derived, after + 1, sealedTo)
  const hasher = new LeafHasher()
  let batches = 0
  let rows = 0
  let index = prev ? Number(prev.n) : 0
  let head = (prev ? Buffer.from(prev.head) : GENESIS_HEAD).toString('hex')
  for await (const chunk of store.scanForVerify(after, sealedTo)) {
    const [stray] = chunk.stray
    if (stray)
      throw new InferlogError(
        'conflict',
        `${stray.kind} ${stray.project}/${stray.id} claims batch ${stray.claims} but is not stored with it: run inferlog verify`,
      )
    const first = chunk.batches[0]
    const last = chunk.batches[chunk.batches.length - 1]
    if (!first || !last) continue
    const tombs = new Map<number, StoredTombstone[]>()
    for (const t of await store.tombstonesIn(first.position - 1, last.position)) {
      const l = tombs.get(t.batch)
      if (l) l.push(t)
      else tombs.set(t.batch, [t])
    }
    for (const b of chunk.batches) {
      const seal = await seals.next()
      const ts = tombs.get(b.position) ?? []
      const leaves = batchLeaves(b, ts, hasher)
      if (!seal || seal.position !== b.position || seal.leaves !== leaves.length || !merkleRoot(leaves).equals(seal.root)) {
        throw new InferlogError('conflict', `batch ${b.position} does not match its seal: run inferlog verify`)
      }
      const gone = new Set(ts.map((t) => `${t.kind}\u0000${t.project}\u0000${t.id}`))
      const events = b.events.filter((e) => !gone.has(`event\u0000${e.project}\u0000${e.id}`))
      const feedback = b.feedback.filter((f) => !gone.has(`feedback\u0000${f.project}\u0000${f.id}`))
      const audit = b.audit ?? []
      yield {
        type: 'batch',
        index: seal.n,
        position: b.position,
        committed_ms: b.committedMs,
        leaves: seal.leaves,
        root: seal.root.toString('hex'),
        head: seal.head.toString('hex'),
        events: events.length,
        feedback: feedback.length,
        audit: audit.length,
        tombstones: ts.length,
      }
      for (const e of events) yield eventLine(e)
      for (const f of feedback) yield feedbackLine(f)
      for (const r of audit) yield auditLine(r)
      for (const t of ts) yield { type: 'tombstone', kind: t.kind, project: t.project, id: t.id, leaf: t.leaf, record: t.record }
      batches++
      rows += seal.leaves
      index = seal.n
      head = seal.head.toString('hex')
      while (nextCheckpoint < checkpoints.length && checkpoints[nextCheckpoint]!.index <= index) {
        const c = checkpoints[nextCheckpoint++]!
        if (c.index === index) yield { type: 'checkpoint', ...c }
      }
    }
  }
  yield { type: 'end', batches, rows, index, head }
}
