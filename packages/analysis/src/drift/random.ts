/** A seeded uniform generator on [0, 1). */
export type Random = () => number

/**
 * Mulberry32: a small 32-bit generator, ample for sampling rows and shuffling labels. Same seed,
 * same sequence, on every platform, which is what makes embedding drift reproducible.
 */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fisher–Yates shuffle of `a` in place. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(a: T, random: Random): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = a[i]!
    a[i] = a[j]!
    a[j] = t
  }
  return a
}

/** `k` distinct indices out of `n`, ascending (all of them when k ≥ n). */
export function sampleIndices(n: number, k: number, random: Random): Uint32Array {
  if (k >= n) {
    const all = new Uint32Array(n)
    for (let i = 0; i < n; i++) all[i] = i
    return all
  }
  // Partial Fisher–Yates over a sparse map: O(k) memory and time.
  const swapped = new Map<number, number>()
  const out = new Uint32Array(k)
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i))
    const vj = swapped.get(j) ?? j
    const vi = swapped.get(i) ?? i
    swapped.set(j, vi)
    out[i] = vj
  }
  return out.sort()
}
