import type { DDSketch } from '@datadog/sketches-js'

type Store = DDSketch['store']

/**
 * The occupied bins of a DDSketch store as two parallel arrays, keys ascending and counts
 * non-zero. This is the read-side form of a sketch: decoding, merging and querying stored sketches
 * never builds the library's dense store. Arrays are never mutated once built, so sketches may share them.
 */
export interface SparseBins {
  readonly keys: ArrayLike<number>
  readonly counts: ArrayLike<number>
  /** Σ counts. */
  readonly total: number
}

/** No bins. */
export const NO_BINS: SparseBins = Object.freeze({ keys: new Float64Array(0), counts: new Float64Array(0), total: 0 })

/** Bins of a dense store (its occupied range only). */
export function binsOfStore(store: Store): SparseBins {
  if (store.count === 0) return NO_BINS
  const keys: number[] = []
  const counts: number[] = []
  let total = 0
  for (let k = store.minKey; k <= store.maxKey; k++) {
    const c = store.bins[k - store.offset] as number
    if (c !== 0) {
      keys.push(k)
      counts.push(c)
      total += c
    }
  }
  return { keys, counts, total }
}

/** Adds bins into a dense store, growing it once for the whole key range. */
export function addBinsToStore(store: Store, bins: SparseBins): void {
  const n = bins.keys.length
  if (n === 0) return
  store.add(bins.keys[0] as number, bins.counts[0] as number)
  if (n > 1) store.add(bins.keys[n - 1] as number, bins.counts[n - 1] as number)
  for (let i = 1; i < n - 1; i++) store.add(bins.keys[i] as number, bins.counts[i] as number)
}

/** The union of two bin sets (counts of equal keys add). */
export function mergeBins(a: SparseBins, b: SparseBins): SparseBins {
  if (b.keys.length === 0) return a
  if (a.keys.length === 0) return b
  return unionBins([a, b])
}

/**
 * The union of many bin sets in one pass: counts are summed into a dense accumulator over the
 * combined key range, then compacted. Merging 720 hourly sketches this way allocates once.
 */
export function unionBins(all: readonly SparseBins[]): SparseBins {
  let lo = Number.POSITIVE_INFINITY
  let hi = Number.NEGATIVE_INFINITY
  let nonEmpty = 0
  let last: SparseBins = NO_BINS
  for (const b of all) {
    const n = b.keys.length
    if (n === 0) continue
    nonEmpty++
    last = b
    if ((b.keys[0] as number) < lo) lo = b.keys[0] as number
    if ((b.keys[n - 1] as number) > hi) hi = b.keys[n - 1] as number
  }
  if (nonEmpty <= 1) return last
  const acc = new Float64Array(hi - lo + 1)
  for (const b of all) {
    const keys = b.keys
    const counts = b.counts
    for (let i = 0; i < keys.length; i++) {
      const at = (keys[i] as number) - lo
      acc[at] = (acc[at] as number) + (counts[i] as number)
    }
  }
  let occupied = 0
  for (let i = 0; i < acc.length; i++) if (acc[i] !== 0) occupied++
  const keys = new Float64Array(occupied)
  const counts = new Float64Array(occupied)
  let total = 0
  for (let i = 0, j = 0; i < acc.length; i++) {
    const c = acc[i] as number
    if (c === 0) continue
    keys[j] = i + lo
    counts[j++] = c
    total += c
  }
  return { keys, counts, total }
}

/**
 * The key holding rank `rank` (0-based, weighted), with the dense store's convention: `lower`
 * picks the first bin whose running count exceeds the rank, otherwise the first whose running
 * count reaches rank + 1. The last key when the rank is past the end.
 */
export function keyAtRank(b: SparseBins, rank: number, lower = true): number {
  let running = 0
  const n = b.keys.length
  for (let i = 0; i < n; i++) {
    running += b.counts[i] as number
    if (lower ? running > rank : running >= rank + 1) return b.keys[i] as number
  }
  return b.keys[n - 1] as number
}
