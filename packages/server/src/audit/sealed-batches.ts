import type { DerivedStore } from '../store/store.js'
import type { Checkpoint } from './checkpoint.js'

/** One sealed batch as the chain stored it. */
export interface SealedBatch {
  n: number
  position: number
  committedMs: number
  leaves: number
  rowsTotal: number
  root: Buffer
  head: Buffer
  /** Sorted leaf hashes, 32 bytes each. */
  leafHashes: Buffer
  sealedMs: number
  /** Head before it (only on the first batch a {@link readSealed} call returns). */
  prevHead?: Buffer
}

type Raw = Record<string, unknown>
const num = (v: unknown) => Number(v)
const buf = (v: unknown) => Buffer.from(v as Uint8Array)

function toSealed(r: Raw): SealedBatch {
  return {
    n: num(r.n),
    position: num(r.position),
    committedMs: num(r.committed_ms),
    leaves: num(r.leaves),
    rowsTotal: num(r.rows_total),
    root: buf(r.root),
    head: buf(r.head),
    leafHashes: buf(r.leaf_hashes ?? Buffer.alloc(0)),
    sealedMs: num(r.sealed_ms),
  }
}

/** A pull-style reader of sealed batches with positions in `[from, to]`, in chain order, 500 at a time. */
export function readSealed(derived: DerivedStore, from: number, to: number): { next(): Promise<SealedBatch | undefined> } {
  let buffer: SealedBatch[] = []
  let i = 0
  let lastN: number | undefined
  let done = false
  return {
    async next() {
      if (i < buffer.length) return buffer[i++]
      if (done) return undefined
      let q = derived.db.selectFrom('audit_batches').selectAll().where('position', '>=', from).where('position', '<=', to)
      if (lastN !== undefined) q = q.where('n', '>', lastN)
      const rows = (await q.orderBy('n').limit(500).execute()) as Raw[]
      buffer = rows.map(toSealed)
      i = 0
      if (buffer.length < 500) done = true
      const first = buffer[0]
      if (first && lastN === undefined && first.n > 1) {
        const prev = (await derived.db
          .selectFrom('audit_batches')
          .select('head')
          .where('n', '=', first.n - 1)
          .executeTakeFirst()) as Raw | undefined
        if (prev) first.prevHead = buf(prev.head)
      }
      const last = buffer[buffer.length - 1]
      if (last) lastN = last.n
      return buffer[i++]
    },
  }
}

/** One sealed batch, by chain index or by position. */
export async function sealedBatch(derived: DerivedStore, by: { n: number } | { position: number }): Promise<SealedBatch | undefined> {
  const q = derived.db.selectFrom('audit_batches').selectAll()
  const r = ('n' in by ? await q.where('n', '=', by.n) : await q.where('position', '=', by.position)).executeTakeFirst() as Promise<
    Raw | undefined
  >
  const row = await r
  return row ? toSealed(row) : undefined
}

/** A stored checkpoint row as the published JSON. */
export function toCheckpoint(r: Raw): Checkpoint {
  return {
    batch: num(r.position),
    index: num(r.n),
    rows: num(r.rows_total),
    root: buf(r.head).toString('hex'),
    time: new Date(num(r.signed_ms)).toISOString(),
    key_id: String(r.key_id),
    signature: buf(r.signature).toString('base64'),
  }
}

/** Stored checkpoints of batches in `[from, to]`, each with the sealed batch it names (if any). */
export async function storedCheckpoints(
  derived: DerivedStore,
  from: number,
  to: number,
): Promise<{ checkpoint: Checkpoint; sealed: SealedBatch | undefined }[]> {
  const rows = (await derived.db
    .selectFrom('audit_checkpoints as c')
    .leftJoin('audit_batches as s', 's.n', 'c.n')
    .select([
      'c.n',
      'c.position',
      'c.rows_total',
      'c.head',
      'c.signed_ms',
      'c.key_id',
      'c.signature',
      's.n as s_n',
      's.position as s_position',
      's.committed_ms as s_committed_ms',
      's.leaves as s_leaves',
      's.rows_total as s_rows_total',
      's.root as s_root',
      's.head as s_head',
      's.sealed_ms as s_sealed_ms',
    ])
    .where('c.position', '>=', from)
    .where('c.position', '<=', to)
    .orderBy('c.n')
    .execute()) as Raw[]
  return rows.map((r) => ({
    checkpoint: toCheckpoint(r),
    sealed:
      r.s_n === null || r.s_n === undefined
        ? undefined
        : toSealed({
            n: r.s_n,
            position: r.s_position,
            committed_ms: r.s_committed_ms,
            leaves: r.s_leaves,
            rows_total: r.s_rows_total,
            root: r.s_root,
            head: r.s_head,
            sealed_ms: r.s_sealed_ms,
          }),
  }))
}

/** The latest stored checkpoint, or undefined. */
export async function latestCheckpoint(derived: DerivedStore): Promise<Checkpoint | undefined> {
  const r = (await derived.db.selectFrom('audit_checkpoints').selectAll().orderBy('n', 'desc').limit(1).executeTakeFirst()) as
    | Raw
    | undefined
  return r ? toCheckpoint(r) : undefined
}
