import crypto from 'node:crypto'

/**
 * Hashes as 32-character latin1 strings (one character per byte) rather than Buffers: far cheaper
 * to make and to collect (0.35 against 1–1.5 µs per Merkle node), and written back as bytes.
 */
const node = (scratch: Buffer) => crypto.hash('sha256', scratch, 'binary')

/**
 * The leaf hashes of a batch, each a 32-character latin1 string (`LeafFieldsHasher`), sorted
 * ascending bytewise (as `sortLeaves` orders them: the default string order compares such strings
 * as their bytes) into one buffer of 32 bytes per leaf, the form the chain stores them in
 * (`leaf_hashes`). Sorts `leaves` in place.
 */
export function sortedLeafBytes(leaves: string[]): Buffer {
  leaves.sort()
  const out = Buffer.allocUnsafe(leaves.length * 32)
  for (let i = 0; i < leaves.length; i++) out.write(leaves[i]!, i * 32, 32, 'latin1')
  return out
}

/**
 * The RFC 6962 Merkle tree hash of `sorted` (32-byte leaf hashes, in order, one buffer): the same
 * tree as `merkleRoot`, built bottom-up in one working buffer instead of an array per level.
 */
export function merkleRootOfBytes(sorted: Buffer): Buffer {
  let m = sorted.length / 32
  if (m === 0) return crypto.hash('sha256', Buffer.alloc(0), 'buffer')
  if (m === 1) return Buffer.from(sorted.subarray(0, 32))
  const level = Buffer.from(sorted)
  const scratch = Buffer.allocUnsafe(65)
  scratch[0] = 0x01
  while (m > 1) {
    let w = 0
    for (let i = 0; i + 1 < m; i += 2) {
      level.copy(scratch, 1, i * 32, i * 32 + 64)
      level.write(node(scratch), w * 32, 32, 'latin1')
      w++
    }
    if (m % 2 === 1) {
      level.copy(level, w * 32, (m - 1) * 32, m * 32)
      w++
    }
    m = w
  }
  return Buffer.from(level.subarray(0, 32))
}

/**
 * The audit path of leaf `index` among `sorted` (32-byte leaf hashes, in order, one buffer), as
 * `inclusionPath` computes it (RFC 6962 §2.1.1), bottom-up; each level is built in one working
 * buffer with one scratch input per node, not an array of buffers and a concatenation per node.
 */
export function inclusionPathOfBytes(sorted: Buffer, index: number): Buffer[] {
  let m = sorted.length / 32
  if (!Number.isInteger(index) || index < 0 || index >= m) throw new RangeError(`leaf ${index} is not in a tree of ${m}`)
  const path: Buffer[] = []
  const level = Buffer.from(sorted)
  const scratch = Buffer.allocUnsafe(65)
  scratch[0] = 0x01
  let i = index
  while (m > 1) {
    const sibling = i % 2 === 1 ? i - 1 : i + 1 < m ? i + 1 : -1
    if (sibling >= 0) path.push(Buffer.from(level.subarray(sibling * 32, sibling * 32 + 32)))
    let w = 0
    for (let k = 0; k + 1 < m; k += 2) {
      level.copy(scratch, 1, k * 32, k * 32 + 64)
      level.write(node(scratch), w * 32, 32, 'latin1')
      w++
    }
    if (m % 2 === 1) {
      level.copy(level, w * 32, (m - 1) * 32, m * 32)
      w++
    }
    m = w
    i >>= 1
  }
  return path
}
