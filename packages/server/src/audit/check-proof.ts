import type { KeyObject } from 'node:crypto'
import { verifyCheckpoint } from './checkpoint.js'
import type { InclusionProof } from './inclusion-proof.js'
import { LeafHasher } from './leaf-hash.js'
import { chainHead, verifyInclusion } from './merkle.js'

/** What {@link checkProof} concluded. */
export interface ProofCheck {
  /** Every hash checks and, when keys were given, the checkpoint is signed by one of them. */
  ok: boolean
  /** The first step that failed, in words. */
  error?: string
  /** Whether a checkpoint anchors the proof, and whether its signature was checked. */
  checkpoint: 'verified' | 'unchecked' | 'none'
  event_id?: string
  batch?: number
}

const HEX32 = /^[0-9a-f]{64}$/
const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

/**
 * Checks an inclusion proof offline (no store, no server): recomputes the leaf from the stored
 * columns, walks the Merkle path to the batch root, chains the batch and every later link to the
 * head, and matches the head against the checkpoint and its signature. With `keys` (trusted
 * public keys), a proof without a checkpoint or signed by another key fails; without, the
 * signature is reported unchecked. Never throws on malformed input.
 */
export function checkProof(proof: unknown, keys: readonly KeyObject[] = []): ProofCheck {
  const p = proof as InclusionProof
  const fail = (error: string, checkpoint: ProofCheck['checkpoint'] = 'none'): ProofCheck => ({
    ok: false,
    error,
    checkpoint,
    ...(typeof p?.leaf_input?.id === 'string' ? { event_id: p.leaf_input.id } : {}),
    ...(isInt(p?.batch?.position) ? { batch: p.batch.position } : {}),
  })
  try {
    if (!p || p.format !== 'inferlog.proof/v1') return fail('not an inferlog.proof/v1 document')
    const f = p.leaf_input
    const b = p.batch
    if (!f || f.kind !== 'event' || !b || !Array.isArray(b.path) || !Array.isArray(p.chain)) return fail('missing fields')
    for (const h of [p.leaf, b.root, b.prev_head, p.head, ...b.path, ...p.chain.map((l) => l.root)]) {
      if (typeof h !== 'string' || !HEX32.test(h)) return fail('a hash is not 64 hex digits')
    }
    for (const l of [b, ...p.chain]) {
      if (![l.index, l.position, l.committed_ms, l.leaves].every(isInt))
        return fail('a chain link has a field that is not a non-negative integer')
    }
    const leaf = new LeafHasher().hash('event', {
      project: f.project,
      id: f.id,
      tsMs: f.ts_ms,
      receivedMs: f.received_ms,
      model: f.model,
      version: f.version,
      stage: f.stage,
      status: f.status,
      sessionId: f.session_id,
      userId: f.user_id,
      arm: f.arm,
      shadowOf: f.shadow_of,
      body: f.body,
    })
    if (leaf.toString('hex') !== p.leaf) return fail('the leaf does not hash from the event as given')
    const root = Buffer.from(b.root, 'hex')
    if (
      !verifyInclusion(
        leaf,
        b.leaf_index,
        b.leaves,
        b.path.map((h) => Buffer.from(h, 'hex')),
        root,
      )
    )
      return fail(`the Merkle path does not lead to the root of batch ${b.position}`)
    let head = chainHead(Buffer.from(b.prev_head, 'hex'), {
      index: b.index,
      position: b.position,
      committedMs: b.committed_ms,
      leaves: b.leaves,
      root,
    })
    let index = b.index
    let position = b.position
    for (const l of p.chain) {
      if (l.index !== index + 1 || l.position <= position) return fail(`chain link ${l.index} does not follow ${index} in order`)
      head = chainHead(head, {
        index: l.index,
        position: l.position,
        committedMs: l.committed_ms,
        leaves: l.leaves,
        root: Buffer.from(l.root, 'hex'),
      })
      index = l.index
      position = l.position
    }
    if (head.toString('hex') !== p.head) return fail('the chain does not lead to the stated head')
    const c = p.checkpoint
    if (!c) {
      return keys.length > 0
        ? fail('no checkpoint covers this batch yet (ask again after the next one)')
        : { ok: true, checkpoint: 'none', event_id: f.id, batch: b.position }
    }
    if (c.index !== index || c.batch !== position || c.root !== p.head)
      return fail(`checkpoint ${c.index} is not the head the chain reaches`, 'unchecked')
    if (keys.length === 0) return { ok: true, checkpoint: 'unchecked', event_id: f.id, batch: b.position }
    const v = verifyCheckpoint(c, keys)
    if (v === 'unknown_key') return fail(`the checkpoint is signed by an unknown key (${c.key_id})`, 'unchecked')
    if (v !== 'ok') return fail('the checkpoint signature does not verify', 'unchecked')
    return { ok: true, checkpoint: 'verified', event_id: f.id, batch: b.position }
  } catch (e) {
    return fail(`malformed proof: ${(e as Error).message}`)
  }
}
