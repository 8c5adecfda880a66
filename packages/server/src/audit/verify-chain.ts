import type { KeyObject } from 'node:crypto'
import type { LeafScanBatch, VerifyChunk } from '../store/ports/audit-log-scan.js'
import type { CommittedBatch, LoggedAuditRecord, LoggedEvent, LoggedFeedback, StoredTombstone, Store } from '../store/store.js'
import { batchLeaves, sealedHead } from './audit-chain-consumer.js'
import { type Checkpoint, verifyCheckpoint } from './checkpoint.js'
import { LeafHasher } from './leaf-hash.js'
import { LeafFieldsHasher } from './leaf-fields-hasher.js'
import { chainHead, GENESIS_HEAD, merkleRoot, tombstonesRoot } from './merkle.js'
import { readSealed, type SealedBatch, storedCheckpoints } from './sealed-batches.js'
import { merkleRootOfBytes, sortedLeafBytes } from './sorted-leaves.js'

/** Stable codes of what `verify` finds. */
export type VerifyCode =
  | 'no_chain'
  | 'row_mismatch'
  | 'row_missing'
  | 'row_stray'
  | 'batch_missing'
  | 'batch_not_in_chain'
  | 'root_mismatch'
  | 'chain_broken'
  | 'leaves_corrupt'
  | 'checkpoint_mismatch'
  | 'unknown_key'
  | 'bad_signature'
  | 'tombstones_mismatch'

/** One thing found wrong. */
export interface VerifyProblem {
  code: VerifyCode
  message: string
  /** Commit position of the batch concerned. */
  batch?: number
  /** The row concerned, when it can be named. */
  row?: { kind: 'event' | 'feedback' | 'audit'; project: string; id: string; seq?: number }
  /** A leaf hash concerned (a deleted row's), hex. */
  leaf?: string
}

/** What {@link verifyChain} found. */
export interface VerifyReport {
  ok: boolean
  /** Batches checked. */
  batches: number
  /** Leaves checked (rows, tombstones, records). */
  rows: number
  /** The earliest problem in commit order. */
  first_error?: VerifyProblem
  /** Problems found, earliest first (at most 100). */
  errors: VerifyProblem[]
  /** Last sealed batch (0 before the first). */
  sealed_to: number
  /** Last committed batch. */
  head: number
  /** Checkpoints checked, and whether their signatures were (only with trusted keys). */
  checkpoints: { checked: number; signatures: 'checked' | 'unchecked' }
}

/** Options of {@link verifyChain}. */
export interface VerifyOptions {
  /** First batch (commit position) checked, inclusive. Default the first. */
  from?: number
  /** Last batch checked, inclusive. Default the last sealed one. */
  to?: number
  /**
   * Public keys whose checkpoints are accepted; a checkpoint signed by another key fails. Default
   * none: signatures are not checked (the report says so).
   */
  keys?: readonly KeyObject[]
  /** Rows read per step. Default 20 000 (2 000 on SQLite, whose leaf scan holds the rows themselves). */
  chunkRows?: number
  /**
   * What to check: `rows` (every batch's rows, roots and links), `global` (checkpoints and
   * tombstone digests), or `all`. Default `all`; `verifyChainParallel` splits the first among
   * threads and runs the second once.
   */
  parts?: 'all' | 'rows' | 'global'
  /**
   * Where rows stored past the range that claim a batch in it are looked for: to the end of the
   * log (`end`, the default), or only among the rows the range spans (`range`: what
   * `verifyChainParallel` asks of every part but the last, since the next part's scan finds the
   * others; each is then reported once). Only stores with a leaf scan take it.
   */
  strays?: 'end' | 'range'
}

const MAX_ERRORS = 100

/**
 * Recomputes every leaf from the stored rows (tombstones for deleted ones), every batch root and
 * chain link, and checks them against what the chain sealed, then checks each checkpoint (and its
 * signature when keys are given) and each administrative record's tombstone digest. Never
 * changes the store. A store without a chain is a `no_chain` problem.
 */
export async function verifyChain(store: Store, o: VerifyOptions = {}): Promise<VerifyReport> {
  const head = await store.commitHead()
  const problems: VerifyProblem[] = []
  const report = (p: VerifyProblem) => {
    if (problems.length < MAX_ERRORS * 10) problems.push(p)
  }
  const finish = (batches: number, rows: number, sealedTo: number, checked: number): VerifyReport => {
    problems.sort((a, b) => (a.batch ?? Number.MAX_SAFE_INTEGER) - (b.batch ?? Number.MAX_SAFE_INTEGER))
    const errors = problems.slice(0, MAX_ERRORS)
    return {
      ok: errors.length === 0,
      batches,
      rows,
      ...(errors[0] ? { first_error: errors[0] } : {}),
      errors,
      sealed_to: sealedTo,
      head,
      checkpoints: { checked, signatures: o.keys && o.keys.length > 0 ? 'checked' : 'unchecked' },
    }
  }
  let sealed: Awaited<ReturnType<typeof sealedHead>>
  try {
    sealed = await sealedHead(store.derived)
  } catch {
    sealed = undefined
    if (head === 0) return finish(0, 0, 0, 0)
    report({ code: 'no_chain', message: 'this store has no audit chain (the `audit` consumer never ran here)' })
    return finish(0, 0, 0, 0)
  }
  if (!sealed) {
    if (head > 0) report({ code: 'no_chain', message: `this store has ${head} committed batches and none is sealed: no audit chain` })
    return finish(0, 0, 0, 0)
  }
  const from = Math.max(1, o.from ?? 1)
  const to = Math.min(o.to ?? sealed.position, sealed.position)

  // The chain's own rows, read ahead of the log in the same order.
  const seals = readSealed(store.derived, from, to)
  let s = await seals.next()
  let prevHead: Buffer | undefined
  let prevN = 0
  let batches = 0
  let rows = 0
  const hasher = new LeafHasher()

  /** The chain link of a batch, before its leaves are checked: the first head, the index. */
  const beginLink = (position: number, seal: SealedBatch) => {
    batches++
    if (prevHead === undefined) prevHead = seal.prevHead ?? GENESIS_HEAD
    if (prevN !== 0 && seal.n !== prevN + 1)
      report({ code: 'chain_broken', batch: position, message: `batch ${position}: chain index ${seal.n} follows ${prevN}` })
    prevN = seal.n
  }

  /** The chain link of a batch, after its leaves: the commit time and the head. */
  const endLink = (position: number, committedMs: number, leaves: number, root: Buffer, seal: SealedBatch) => {
    if (committedMs !== seal.committedMs)
      report({
        code: 'chain_broken',
        batch: position,
        message: `batch ${position}: commit time ${committedMs} differs from the sealed ${seal.committedMs}`,
      })
    const expect = chainHead(prevHead!, { index: seal.n, position, committedMs, leaves, root })
    if (!expect.equals(seal.head)) {
      if (leaves === seal.leaves && root.equals(seal.root) && committedMs === seal.committedMs)
        report({
          code: 'chain_broken',
          batch: position,
          message: `batch ${position}: chain head does not follow from the previous one`,
        })
    }
    // Continue from the sealed head: one broken link is reported once, not at every later batch.
    prevHead = seal.head
  }

  const checkBatch = (b: CommittedBatch, seal: SealedBatch, tombs: readonly StoredTombstone[]) => {
    const leaves = batchLeaves(b, tombs, hasher)
    rows += leaves.length
    const root = merkleRoot(leaves)
    beginLink(b.position, seal)
    if (leaves.length !== seal.leaves || !root.equals(seal.root)) {
      diagnose(b, seal, leaves, tombs)
    } else if (!Buffer.concat(leaves).equals(seal.leafHashes)) {
      report({ code: 'leaves_corrupt', batch: b.position, message: `batch ${b.position}: the stored leaf hashes do not match its root` })
    }
    endLink(b.position, b.committedMs, leaves.length, root, seal)
  }

  /**
   * A batch from the leaf scan: its leaves hashed from the scanned text, no object per row. When
   * they are exactly what the chain sealed (count, sorted leaf list, root), only the link is left
   * to check; anything else (a tombstone in the batch, an unusual row, a mismatch) reads the rows
   * as objects and checks the batch as {@link checkBatch} does, so what is reported is the same.
   */
  const checkLeafBatch = async (lb: LeafScanBatch, seal: SealedBatch, tombs: readonly StoredTombstone[]) => {
    const leaves = tombs.length === 0 ? scannedLeaves(lb) : undefined
    if (leaves && leaves.length === seal.leaves) {
      const sorted = sortedLeafBytes(leaves)
      if (sorted.equals(seal.leafHashes)) {
        const root = merkleRootOfBytes(sorted)
        if (root.equals(seal.root)) {
          rows += leaves.length
          beginLink(lb.position, seal)
          endLink(lb.position, lb.committedMs, leaves.length, root, seal)
          return
        }
      }
    }
    checkBatch(await rowsOf(lb), seal, tombs)
  }

  const fieldsHasher = new LeafFieldsHasher()
  const scannedLeaves = (lb: LeafScanBatch): string[] | undefined => {
    const leaves: string[] = []
    if (lb.leaves) {
      // Hashed by the store.
      if (lb.leaves.length !== (lb.events.length + lb.feedback.length + lb.audit.length) * 32) return undefined
      for (let i = 0; i < lb.leaves.length; i += 32) leaves.push(lb.leaves.toString('latin1', i, i + 32))
      return leaves
    }
    for (const [kind, list] of [
      ['event', lb.events],
      ['feedback', lb.feedback],
      ['audit', lb.audit],
    ] as const) {
      for (const r of list) {
        const leaf = fieldsHasher.hash(kind, r[2], r[3])
        if (!leaf) return undefined
        leaves.push(leaf)
      }
    }
    return leaves
  }

  /** A leaf-scanned batch with its rows read as objects (by row number). */
  const rowsOf = async (lb: LeafScanBatch): Promise<CommittedBatch> => {
    const bySeq = store.rowsBySeq!.bind(store)
    const seqs = (list: LeafScanBatch['events']) => list.map((r) => r[0])
    const [events, feedback, audit] = await Promise.all([
      bySeq('event', seqs(lb.events)),
      bySeq('feedback', seqs(lb.feedback)),
      bySeq('audit', seqs(lb.audit)),
    ])
    return {
      position: lb.position,
      committedMs: lb.committedMs,
      events: events as LoggedEvent[],
      feedback: feedback as LoggedFeedback[],
      audit: audit as LoggedAuditRecord[],
    }
  }

  const diagnose = (b: CommittedBatch, seal: SealedBatch, leaves: readonly Buffer[], tombs: readonly StoredTombstone[]) => {
    const sealedSet = new Set<string>()
    for (let i = 0; i < seal.leafHashes.length; i += 32) sealedSet.add(seal.leafHashes.subarray(i, i + 32).toString('hex'))
    const gone = new Set(tombs.map((t) => `${t.kind}\u0000${t.project}\u0000${t.id}`))
    const named = (kind: 'event' | 'feedback' | 'audit', r: { project: string; id: string; seq: number }) => {
      if (gone.has(`${kind}\u0000${r.project}\u0000${r.id}`)) return false
      const leaf = hasher.hash(kind as 'event', r as never).toString('hex')
      if (sealedSet.has(leaf)) return false
      report({
        code: 'row_mismatch',
        batch: b.position,
        row: { kind, project: r.project, id: r.id, seq: r.seq },
        message: `batch ${b.position}: ${kind} ${r.project}/${r.id} does not match what was sealed (edited, or inserted after sealing)`,
      })
      return true
    }
    for (const e of b.events) if (named('event', e)) return
    for (const f of b.feedback) if (named('feedback', f)) return
    for (const r of b.audit ?? []) if (named('audit', r)) return
    for (const t of tombs) {
      if (!sealedSet.has(t.leaf)) {
        report({
          code: 'tombstones_mismatch',
          batch: b.position,
          row: { kind: t.kind, project: t.project, id: t.id },
          message: `batch ${b.position}: the tombstone of ${t.kind} ${t.project}/${t.id} does not match the sealed leaf`,
        })
        return
      }
    }
    const have = new Set(leaves.map((l) => l.toString('hex')))
    const missing = [...sealedSet].filter((l) => !have.has(l))
    if (missing.length > 0) {
      report({
        code: 'row_missing',
        batch: b.position,
        leaf: missing[0]!,
        message: `batch ${b.position}: ${missing.length} sealed row(s) missing (deleted without a tombstone); first leaf ${missing[0]}`,
      })
      return
    }
    report({ code: 'root_mismatch', batch: b.position, message: `batch ${b.position}: the sealed root does not match its leaves` })
  }

  const parts = o.parts ?? 'all'
  if (parts === 'global') {
    const checked = await checkCheckpoints(store, from, to, o.keys, report)
    await checkTombstoneDigests(store, from, to, report)
    return finish(0, 0, sealed.position, checked)
  }
  // The leaf scan when the store has one (no object per row), else the rows as objects.
  const leafScan = store.scanLeafRows !== undefined && store.rowsBySeq !== undefined
  const chunks =
    leafScan && store.scanLeafRows
      ? store.scanLeafRows(from - 1, to, o.chunkRows, o.strays)
      : (store.scanForVerify(from - 1, to, o.chunkRows) as AsyncIterable<{
          batches: (CommittedBatch | LeafScanBatch)[]
          stray: VerifyChunk['stray']
        }>)
  for await (const chunk of chunks) {
    for (const r of chunk.stray) {
      report({
        code: 'row_stray',
        batch: r.claims,
        row: { kind: r.kind, project: r.project, id: r.id, seq: r.seq },
        message: `${r.kind} ${r.project}/${r.id} (row ${r.seq}) claims batch ${r.claims} but is not stored with it (inserted or moved)`,
      })
    }
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
      while (s && s.position < b.position) {
        report({ code: 'batch_missing', batch: s.position, message: `batch ${s.position} is sealed but no longer in the log` })
        prevHead = s.head
        prevN = s.n
        s = await seals.next()
      }
      if (!s || s.position > b.position) {
        report({
          code: 'batch_not_in_chain',
          batch: b.position,
          message: `batch ${b.position} is in the log but not in the chain (inserted or renumbered)`,
        })
        continue
      }
      const t = tombs.get(b.position) ?? []
      if (leafScan) await checkLeafBatch(b as LeafScanBatch, s, t)
      else checkBatch(b as CommittedBatch, s, t)
      s = await seals.next()
    }
  }
  for (; s; s = await seals.next())
    report({ code: 'batch_missing', batch: s.position, message: `batch ${s.position} is sealed but no longer in the log` })

  if (parts === 'rows') return finish(batches, rows, sealed.position, 0)
  const checked = await checkCheckpoints(store, from, to, o.keys, report)
  await checkTombstoneDigests(store, from, to, report)
  return finish(batches, rows, sealed.position, checked)
}

/** Each checkpoint in range against the sealed batch it names, and its signature. */
async function checkCheckpoints(
  store: Store,
  from: number,
  to: number,
  keys: readonly KeyObject[] | undefined,
  report: (p: VerifyProblem) => void,
): Promise<number> {
  let checked = 0
  for (const { checkpoint: c, sealed } of await storedCheckpoints(store.derived, from, to)) {
    checked++
    if (!sealed || sealed.head.toString('hex') !== c.root || sealed.position !== c.batch || sealed.rowsTotal !== c.rows) {
      report({
        code: 'checkpoint_mismatch',
        batch: c.batch,
        message: `checkpoint of batch ${c.batch} (index ${c.index}) does not match the chain`,
      })
      continue
    }
    if (keys && keys.length > 0) {
      const r = verifyCheckpoint(c as Checkpoint, keys)
      if (r === 'unknown_key')
        report({ code: 'unknown_key', batch: c.batch, message: `checkpoint of batch ${c.batch} is signed by an unknown key ${c.key_id}` })
      else if (r !== 'ok')
        report({ code: 'bad_signature', batch: c.batch, message: `checkpoint of batch ${c.batch}: signature does not verify` })
    }
  }
  return checked
}

/** Every administrative record in range that created tombstones: the tombstones stored under it hash to what it committed. */
async function checkTombstoneDigests(store: Store, from: number, to: number, report: (p: VerifyProblem) => void): Promise<void> {
  const db = store.derived.db
  const position = store.derived.dialect === 'postgres' ? 'b.commit_seq' : 'r.batch'
  const records = (await db
    .selectFrom('audit_records as r')
    .leftJoin('batches as b', 'b.seq', 'r.batch')
    .select(['r.project', 'r.id', 'r.body', `${position} as position`])
    .where('r.body', 'like', '%"tombstones":%')
    .execute()) as { project: string; id: string; body: string; position: number | null }[]
  for (const r of records) {
    const claimed = (JSON.parse(r.body) as { tombstones?: { count: number; root: string } }).tombstones
    if (!claimed) continue
    const stored = (await db
      .selectFrom('audit_tombstones')
      .select(['kind', 'project', 'id', 'batch', 'leaf'])
      .where('record', '=', r.id)
      .execute()) as StoredTombstone[]
    const position = r.position === null ? undefined : Number(r.position)
    if (position !== undefined && (position < from || position > to)) continue
    if (stored.length !== claimed.count || tombstonesRoot(stored.map((t) => ({ ...t, batch: Number(t.batch) }))) !== claimed.root) {
      report({
        code: 'tombstones_mismatch',
        ...(position !== undefined ? { batch: position } : {}),
        row: { kind: 'audit', project: r.project, id: r.id },
        message: `record ${r.id} committed ${claimed.count} tombstones; ${stored.length} stored under it do not hash to its digest`,
      })
    }
  }
  if (from <= 1) {
    const orphans = (await db
      .selectFrom('audit_tombstones as t')
      .select(['t.kind', 't.project', 't.id', 't.batch', 't.record'])
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('audit_records as r').select('r.id').whereRef('r.id', '=', 't.record'))),
      )
      .limit(10)
      .execute()) as StoredTombstone[]
    for (const t of orphans) {
      report({
        code: 'tombstones_mismatch',
        batch: Number(t.batch),
        row: { kind: t.kind, project: t.project, id: t.id },
        message: `tombstone of ${t.kind} ${t.project}/${t.id} names record ${t.record}, which is not in the log`,
      })
    }
  }
}
