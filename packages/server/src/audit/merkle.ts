import { sha256 } from './leaf-hash.js'

/**
 * The Merkle tree of one batch and the chain of batch roots, as RFC 6962 (Certificate
 * Transparency) defines the tree: leaves are hashed with a 0x00 prefix (`LeafHasher`), interior
 * nodes as `SHA-256(0x01 || left || right)`, the empty tree is `SHA-256("")`, and a tree of n > 1
 * leaves splits at the largest power of two below n. A batch's leaves are its rows' leaf hashes
 * **sorted ascending bytewise** (a batch is a set: the order carries no meaning, and a deleted
 * row's tombstone falls back into its place by its hash alone).
 */

const NODE = Buffer.from([0x01])
const LINK = Buffer.from([0x02])
const TOMBSTONE = Buffer.from([0x03])

/** `head_0`, the chain head before the first batch: 32 zero bytes. */
export const GENESIS_HEAD: Buffer = Buffer.alloc(32)

/** `SHA-256(0x01 || left || right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(Buffer.concat([NODE, left, right]))
}

/** Sorts leaf hashes ascending bytewise, in place, and returns them. */
export function sortLeaves(leaves: Buffer[]): Buffer[] {
  return leaves.sort(Buffer.compare)
}

/**
 * The RFC 6962 Merkle tree hash of `leaves` (already leaf hashes, already in order). Computed
 * bottom-up: pairing neighbours level by level and carrying an unpaired last node up unchanged
 * gives the same tree as splitting at the largest power of two.
 */
export function merkleRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256(Buffer.alloc(0))
  // One scratch buffer for every node's input (0x01 || left || right).
  const scratch = Buffer.allocUnsafe(65)
  scratch[0] = 0x01
  let level: Buffer[] = leaves.slice()
  while (level.length > 1) {
    const next: Buffer[] = []
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 < level.length) {
        level[i]!.copy(scratch, 1)
        level[i + 1]!.copy(scratch, 33)
        next.push(sha256(scratch))
      } else next.push(level[i]!)
    }
    level = next
  }
  return level[0]!
}

/**
 * The audit path of leaf `index` in the tree of `leaves` (RFC 6962 §2.1.1 `PATH`), bottom-up:
 * the sibling hashes a verifier combines with the leaf to reach the root.
 */
export function inclusionPath(leaves: readonly Buffer[], index: number): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length)
    throw new RangeError(`leaf ${index} is not in a tree of ${leaves.length}`)
  const path: Buffer[] = []
  let level: Buffer[] = leaves.slice()
  let i = index
  while (level.length > 1) {
    if (i % 2 === 1) path.push(level[i - 1]!)
    else if (i + 1 < level.length) path.push(level[i + 1]!)
    const next: Buffer[] = []
    for (let k = 0; k < level.length; k += 2) next.push(k + 1 < level.length ? nodeHash(level[k]!, level[k + 1]!) : level[k]!)
    level = next
    i >>= 1
  }
  return path
}

/**
 * Checks an audit path (RFC 9162 §2.1.3.2): true when `leaf` at `index` of a tree of `size`
 * leaves, combined with `path`, gives `root`.
 */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false
  let fn = index
  let sn = size - 1
  let r: Buffer = Buffer.from(leaf)
  for (const p of path) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && r.equals(Buffer.from(root))
}

/** What the chain commits to for one batch besides its root. */
export interface ChainLink {
  /** Place of the batch in the chain: 1 for the first sealed batch, then 2, 3… without gaps. */
  index: number
  /** The batch's commit position (may skip numbers on PostgreSQL). */
  position: number
  /** When the batch committed, epoch ms. */
  committedMs: number
  /** Number of leaves (rows, tombstones included) under the root. */
  leaves: number
  /** The batch's Merkle root. */
  root: Uint8Array
}

const u64 = (n: number) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(n))
  return b
}

/**
 * `head_n = SHA-256(0x02 || head_{n-1} || u64(index) || u64(position) || u64(committed_ms) ||
 * u64(leaves) || root_n)`, integers as 8-byte big-endian; `head_0` is {@link GENESIS_HEAD}.
 */
export function chainHead(prev: Uint8Array, link: ChainLink): Buffer {
  return sha256(Buffer.concat([LINK, prev, u64(link.index), u64(link.position), u64(link.committedMs), u64(link.leaves), link.root]))
}

/** A row removed by erasure or retention, as its tombstone's digest sees it. */
export interface TombstoneEntry {
  kind: string
  project: string
  id: string
  /** Commit position of the batch whose leaf the row was. */
  batch: number
  /** The row's leaf hash, hex. */
  leaf: string
}

const field = (s: string) => {
  const b = Buffer.from(s, 'utf8')
  const len = Buffer.alloc(4)
  len.writeUInt32BE(b.length)
  return Buffer.concat([len, b])
}

/** `SHA-256(0x03 || field(kind) || field(project) || field(id) || field(batch as decimal) || leaf)`. */
export function tombstoneHash(t: TombstoneEntry): Buffer {
  return sha256(
    Buffer.concat([TOMBSTONE, field(t.kind), field(t.project), field(t.id), field(String(t.batch)), Buffer.from(t.leaf, 'hex')]),
  )
}

/**
 * The digest an administrative record commits to for the tombstones it created: the Merkle root
 * of their {@link tombstoneHash}es sorted ascending. `verify` recomputes it from the tombstone
 * table, so a tombstone cannot be added or altered without breaking a sealed record.
 */
export function tombstonesRoot(entries: readonly TombstoneEntry[]): string {
  return merkleRoot(sortLeaves(entries.map(tombstoneHash))).toString('hex')
}
