import { sha256 } from './leaf-hash.js'

/** 2^21: the low part of a sort key holds a leaf's index (batches of up to 2 097 152 leaves). */
const INDEX_RANGE = 2_097_152

/**
 * The leaf hashes of a batch sorted ascending bytewise (as `sortLeaves` orders them) into one
 * buffer of 32 bytes per leaf, the form the chain stores them in (`leaf_hashes`). Sorts numbers,
 * not buffers: each leaf's first 4 bytes and its index make one key; leaves whose first 4 bytes
 * are equal are then ordered by their whole bytes.
 */
export function sortedLeafBytes(leaves: readonly Buffer[]): Buffer {
  const n = leaves.length
  const out = Buffer.allocUnsafe(n * 32)
  if (n >= INDEX_RANGE) {
    const sorted = leaves.slice().sort(Buffer.compare)
    for (let i = 0; i < n; i++) sorted[i]!.copy(out, i * 32)
    return out
  }
  const keys = new Float64Array(n)
  for (let i = 0; i < n; i++) keys[i] = leaves[i]!.readUInt32BE(0) * INDEX_RANGE + i
  keys.sort()
  for (let k = 0; k < n; ) {
    const hi = Math.floor(keys[k]! / INDEX_RANGE)
    let m = k + 1
    while (m < n && Math.floor(keys[m]! / INDEX_RANGE) === hi) m++
    if (m - k === 1) leaves[keys[k]! % INDEX_RANGE]!.copy(out, k * 32)
    else {
      const run: Buffer[] = []
      for (let r = k; r < m; r++) run.push(leaves[keys[r]! % INDEX_RANGE]!)
      run.sort(Buffer.compare)
      for (let r = 0; r < run.length; r++) run[r]!.copy(out, (k + r) * 32)
    }
    k = m
  }
  return out
}

/**
 * The RFC 6962 Merkle tree hash of `sorted` (32-byte leaf hashes, in order, one buffer): the same
 * tree as `merkleRoot`, built bottom-up in one working buffer instead of an array per level.
 */
export function merkleRootOfBytes(sorted: Buffer): Buffer {
  let m = sorted.length / 32
  if (m === 0) return sha256(Buffer.alloc(0))
  if (m === 1) return Buffer.from(sorted.subarray(0, 32))
  const level = Buffer.from(sorted)
  const scratch = Buffer.allocUnsafe(65)
  scratch[0] = 0x01
  while (m > 1) {
    let w = 0
    for (let i = 0; i + 1 < m; i += 2) {
      level.copy(scratch, 1, i * 32, i * 32 + 64)
      sha256(scratch).copy(level, w * 32)
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
      sha256(scratch).copy(level, w * 32)
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
