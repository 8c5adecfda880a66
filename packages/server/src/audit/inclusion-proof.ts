import { InferlogError } from '../errors.js'
import type { LoggedEvent, Store } from '../store/store.js'
import { AUDIT_CONSUMER, ensureAuditTables } from './audit-chain-consumer.js'
import type { Checkpoint } from './checkpoint.js'
import { LeafHasher } from './leaf-hash.js'
import { GENESIS_HEAD } from './merkle.js'
import { sealedBatch, toCheckpoint } from './sealed-batches.js'
import { inclusionPathOfBytes } from './sorted-leaves.js'

/** The stored columns of an event, as its leaf hashes them (names as in docs/audit.md). */
export interface EventLeafFields {
  kind: 'event'
  project: string
  id: string
  ts_ms: number
  received_ms: number
  model: string
  version: string
  stage: string
  status: string
  session_id: string | null
  user_id: string | null
  arm: string | null
  shadow_of: string | null
  /** The stored JSON text, exactly. */
  body: string
}

/** One link of the chain after the event's batch. */
export interface ProofLink {
  index: number
  position: number
  committed_ms: number
  leaves: number
  /** Batch root, hex. */
  root: string
}

/**
 * Everything an outside verifier needs to check, with no access to the store, that an event is in
 * the log as stored: its leaf, the Merkle path to its batch's root, the chain from there to a
 * signed checkpoint (docs/audit.md, "Checking a proof").
 */
export interface InclusionProof {
  format: 'inferlog.proof/v1'
  leaf_input: EventLeafFields
  /** Leaf hash, hex. */
  leaf: string
  batch: ProofLink & {
    /** Place of the leaf among the batch's sorted leaves. */
    leaf_index: number
    /** Audit path, bottom-up, hex. */
    path: string[]
    /** Chain head before this batch, hex. */
    prev_head: string
  }
  /** Links after the batch up to the checkpoint (or to the sealed head when none covers it yet). */
  chain: ProofLink[]
  /** The chain head the links reach, hex. */
  head: string
  /** The first checkpoint at or after the batch; null until one is signed. */
  checkpoint: Checkpoint | null
}

/** The leaf fields of a logged event. */
export function eventLeafFields(e: LoggedEvent): EventLeafFields {
  return {
    kind: 'event',
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
  }
}

/** Index of `leaf` among `sorted` 32-byte leaves (binary search), or -1. */
function findLeaf(sorted: Buffer, leaf: Buffer): number {
  let lo = 0
  let hi = sorted.length / 32 - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const c = Buffer.compare(sorted.subarray(mid * 32, mid * 32 + 32), leaf)
    if (c === 0) return mid
    if (c < 0) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

const link = (r: Record<string, unknown>): ProofLink => ({
  index: Number(r.n),
  position: Number(r.position),
  committed_ms: Number(r.committed_ms),
  leaves: Number(r.leaves),
  root: Buffer.from(r.root as Uint8Array).toString('hex'),
})

/**
 * Builds the inclusion proof of event `id` of `project`. Errors: `not_found` (no such event),
 * `erased` (410: it was erased; its tombstone keeps the chain whole), `unavailable` (its batch is
 * not sealed yet; retry), `conflict` (the stored event no longer matches its sealed leaf: run
 * `inferlog verify`).
 */
export async function buildInclusionProof(store: Store, project: string, id: string): Promise<InclusionProof> {
  const [e] = await store.eventsByIds(project, [id])
  const [gone] = await store.tombstonesOf('event', project, [id])
  if (gone) throw new InferlogError('erased', `event ${JSON.stringify(id)} was erased (record ${gone.record})`)
  if (!e) throw new InferlogError('not_found', `no event with id ${JSON.stringify(id)}`)
  await ensureAuditTables(store.derived)
  const sealed = await sealedBatch(store.derived, { position: e.batch })
  if (!sealed) {
    const at = await store.derived.watermark(AUDIT_CONSUMER)
    throw new InferlogError(
      'unavailable',
      `event ${JSON.stringify(id)} is in batch ${e.batch}, not sealed yet (sealed up to ${at}); retry shortly`,
      {
        retryAfter: 1,
      },
    )
  }
  const leaf = new LeafHasher().hash('event', e)
  const index = findLeaf(sealed.leafHashes, leaf)
  if (index < 0)
    throw new InferlogError('conflict', `event ${JSON.stringify(id)} does not match what batch ${e.batch} sealed; run inferlog verify`)
  const db = store.derived.db
  const [prev, cp] = await Promise.all([
    sealed.n > 1
      ? db
          .selectFrom('audit_batches')
          .select('head')
          .where('n', '=', sealed.n - 1)
          .executeTakeFirst()
      : undefined,
    db.selectFrom('audit_checkpoints').selectAll().where('n', '>=', sealed.n).orderBy('n').limit(1).executeTakeFirst(),
  ])
  const checkpoint = cp ? toCheckpoint(cp as Record<string, unknown>) : null
  let chainQuery = db
    .selectFrom('audit_batches')
    .select(['n', 'position', 'committed_ms', 'leaves', 'root', 'head'])
    .where('n', '>', sealed.n)
    .orderBy('n')
  if (checkpoint) chainQuery = chainQuery.where('n', '<=', checkpoint.index)
  const rows = (await chainQuery.execute()) as Record<string, unknown>[]
  const last = rows[rows.length - 1]
  return {
    format: 'inferlog.proof/v1',
    leaf_input: eventLeafFields(e),
    leaf: leaf.toString('hex'),
    batch: {
      index: sealed.n,
      position: sealed.position,
      committed_ms: sealed.committedMs,
      leaves: sealed.leaves,
      root: sealed.root.toString('hex'),
      leaf_index: index,
      path: inclusionPathOfBytes(sealed.leafHashes, index).map((p) => p.toString('hex')),
      prev_head: (prev ? Buffer.from((prev as { head: Uint8Array }).head) : GENESIS_HEAD).toString('hex'),
    },
    chain: rows.map(link),
    head: (last ? Buffer.from(last.head as Uint8Array) : sealed.head).toString('hex'),
    checkpoint,
  }
}
