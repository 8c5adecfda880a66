import crypto from 'node:crypto'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { type Checkpoint, checkpointMessage, keyId, signCheckpoint, verifyCheckpoint } from './checkpoint.js'
import { type LeafKind, leafHashHex } from './leaf-hash.js'
import { chainHead, GENESIS_HEAD, inclusionPath, merkleRoot, tombstoneHash, verifyInclusion } from './merkle.js'

// Vectors from an independent Python implementation (fixtures/audit_reference.py): what docs/audit.md
// promises any language can recompute.
const v = JSON.parse(fs.readFileSync(new URL('./fixtures/audit-vectors.json', import.meta.url), 'utf8')) as {
  leaves: { kind: LeafKind; row: Record<string, unknown>; leaf: string }[]
  trees: { leaves: string[]; root: string; paths: string[][] }[]
  chain: { index: number; position: number; committed_ms: number; leaves: number; root: string; head: string }[]
  checkpoint: { private_key_pem: string; message: string; signed: Checkpoint }
  tombstone: { entry: { kind: string; project: string; id: string; batch: number; leaf: string }; hash: string }
}

const camel = (r: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(r).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), x])) as never

describe('audit vectors (Python reference)', () => {
  it('leaf hashes, indexed columns in key form included', () => {
    for (const l of v.leaves) expect(leafHashHex(l.kind, camel(l.row))).toBe(l.leaf)
  })

  it('Merkle roots and audit paths of 0 to 11 leaves', () => {
    for (const t of v.trees) {
      const leaves = t.leaves.map((h) => Buffer.from(h, 'hex'))
      expect(merkleRoot(leaves).toString('hex')).toBe(t.root)
      t.paths.forEach((p, m) => {
        expect(inclusionPath(leaves, m).map((x) => x.toString('hex'))).toEqual(p)
        expect(
          verifyInclusion(
            leaves[m]!,
            m,
            leaves.length,
            p.map((x) => Buffer.from(x, 'hex')),
            Buffer.from(t.root, 'hex'),
          ),
        ).toBe(true)
      })
    }
  })

  it('chain heads', () => {
    let head = GENESIS_HEAD
    for (const l of v.chain) {
      head = chainHead(head, {
        index: l.index,
        position: l.position,
        committedMs: l.committed_ms,
        leaves: l.leaves,
        root: Buffer.from(l.root, 'hex'),
      })
      expect(head.toString('hex')).toBe(l.head)
    }
  })

  it('checkpoint message, key id and Ed25519 signature (deterministic)', () => {
    const c = v.checkpoint.signed
    expect(checkpointMessage(c).toString('utf8')).toBe(v.checkpoint.message)
    const key = crypto.createPrivateKey(v.checkpoint.private_key_pem)
    expect(keyId(crypto.createPublicKey(key))).toBe(c.key_id)
    const { key_id: _k, signature: _s, ...body } = c
    expect(signCheckpoint(body, key)).toEqual(c)
    expect(verifyCheckpoint(c, [crypto.createPublicKey(key)])).toBe('ok')
  })

  it('tombstone hash', () => {
    expect(tombstoneHash(v.tombstone.entry).toString('hex')).toBe(v.tombstone.hash)
  })
})
