import type { ByteReader, ByteWriter } from './byte-codec.js'

/** Options of {@link KllSketch}. */
export interface KllOptions {
  /** Accuracy parameter: about 3k values are kept. Default 400 (normalized rank error ≈ 0.7%). */
  k?: number
  /** Seed of the compaction coin. Default 1. */
  seed?: number
}

const MIN_LEVEL_CAPACITY = 8

function mergeSorted(a: number[], b: number[]): number[] {
  const out = new Array<number>(a.length + b.length)
  let i = 0
  let j = 0
  let k = 0
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!
  while (i < a.length) out[k++] = a[i++]!
  while (j < b.length) out[k++] = b[j++]!
  return out
}

/**
 * Normalized rank error of a KLL sketch of parameter `k` (99% confidence), the empirical formula
 * DataSketches publishes for the same compaction scheme: 2.296 / k^0.9723 for a single rank, and
 * 2.446 / k^0.9433 for the difference of two ranks (a bin's share).
 */
export function kllRankError(k: number, pmf = false): number {
  return pmf ? 2.446 / k ** 0.9433 : 2.296 / k ** 0.9723
}

/**
 * A KLL quantile sketch (Karnin, Lang, Liberty 2016): levels of values, level h standing for
 * 2^h values each; when the sketch is full the lowest over-full level is sorted and every other
 * value (random offset) moves up a level. Mergeable, with a rank error that does not depend on n.
 * The coin is a seeded generator, so a sketch is reproducible from its input order.
 */
export class KllSketch {
  readonly k: number
  n = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY
  /** levels[h] holds values of weight 2^h. */
  levels: number[][] = [[]]
  private state: number
  // Cached so that update() is a push and a comparison until the sketch is full.
  private retainedCount = 0
  private capacityTotal = 0
  private caps: number[] = []

  constructor(options: KllOptions = {}) {
    this.k = options.k ?? 400
    this.state = (options.seed ?? 1) >>> 0
    this.recompute()
  }

  private coin(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) & 1
  }

  private capacity(h: number): number {
    const depth = this.levels.length - 1 - h
    const c = Math.max(MIN_LEVEL_CAPACITY, Math.ceil(this.k * (2 / 3) ** depth))
    // Level 0 (weight 1) may hold k/2 values: compactions then sort a few hundred values every
    // few hundred updates instead of eight every four. Extra weight-1 values only lower the error.
    return h === 0 ? Math.max(c, Math.ceil(this.k / 2)) : c
  }

  private recompute(): void {
    this.caps = this.levels.map((_, h) => this.capacity(h))
    this.capacityTotal = this.caps.reduce((a, b) => a + b, 0)
    this.retainedCount = this.levels.reduce((a, l) => a + l.length, 0)
  }

  private compress(): void {
    while (this.retainedCount > this.capacityTotal) {
      let h = 0
      while (h < this.levels.length - 1 && this.levels[h]!.length < this.caps[h]!) h++
      // Levels above 0 are kept sorted (merged on arrival), so only level 0 needs a sort.
      const src = this.levels[h]!
      const level = h === 0 ? new Float64Array(src).sort() : src
      if (h + 1 === this.levels.length) this.levels.push([])
      const keep: number[] = []
      let start = 0
      if (level.length % 2 === 1) {
        keep.push(level[0]!)
        start = 1
      }
      const offset = this.coin()
      const moved: number[] = []
      for (let i = start + offset; i < level.length; i += 2) moved.push(level[i]!)
      this.levels[h + 1] = mergeSorted(this.levels[h + 1]!, moved)
      this.levels[h] = keep
      this.recompute()
    }
  }

  /** Adds one value (NaN is ignored). */
  update(x: number): void {
    if (Number.isNaN(x)) return
    this.n++
    if (x < this.min) this.min = x
    if (x > this.max) this.max = x
    this.levels[0]!.push(x)
    if (++this.retainedCount > this.capacityTotal) this.compress()
  }

  /** Adds every value of `other` (other is left untouched). */
  merge(other: KllSketch): void {
    if (other.n === 0) return
    this.n += other.n
    this.min = Math.min(this.min, other.min)
    this.max = Math.max(this.max, other.max)
    while (this.levels.length < other.levels.length) this.levels.push([])
    other.levels.forEach((l, h) => {
      if (h === 0) for (const v of l) this.levels[0]!.push(v)
      else this.levels[h] = mergeSorted(this.levels[h]!, l)
    })
    this.recompute()
    this.compress()
  }

  /** Estimated number of values < x (`inclusive`: ≤ x), exact at the extremes. */
  rank(x: number, inclusive = false): number {
    if (this.n === 0) return 0
    if (x < this.min || (!inclusive && x === this.min)) return 0
    if (x > this.max || (inclusive && x === this.max)) return this.n
    let r = 0
    this.levels.forEach((l, h) => {
      const w = 2 ** h
      for (const v of l) if (v < x || (inclusive && v === x)) r += w
    })
    return r
  }

  /** The retained values with their weights, ascending (for merges of CDFs). */
  weightedItems(): { values: Float64Array; weights: Float64Array } {
    // Levels above 0 are sorted: merge them pairwise, carrying weights along.
    let values: Float64Array = new Float64Array(this.levels[0]!).sort()
    let weights: Float64Array = new Float64Array(values.length).fill(1)
    for (let h = 1; h < this.levels.length; h++) {
      const l = this.levels[h]!
      const w = 2 ** h
      const nv = new Float64Array(values.length + l.length)
      const nw = new Float64Array(nv.length)
      let i = 0
      let j = 0
      let k = 0
      while (i < values.length || j < l.length) {
        if (j >= l.length || (i < values.length && values[i]! <= l[j]!)) {
          nv[k] = values[i]!
          nw[k++] = weights[i++]!
        } else {
          nv[k] = l[j++]!
          nw[k++] = w
        }
      }
      values = nv
      weights = nw
    }
    return { values, weights }
  }

  /** Estimated q-quantile (0 ≤ q ≤ 1); min and max are exact. */
  quantile(q: number): number {
    if (this.n === 0) return Number.NaN
    if (q <= 0) return this.min
    if (q >= 1) return this.max
    const { values, weights } = this.weightedItems()
    const target = q * this.n
    let acc = 0
    for (let i = 0; i < values.length; i++) {
      acc += weights[i]!
      if (acc >= target) return values[i]!
    }
    return this.max
  }

  /** Number of values kept. */
  get retained(): number {
    return this.retainedCount
  }

  /** Writes the sketch (k, n, extremes, coin state, levels). */
  write(w: ByteWriter): void {
    w.u32(this.k)
    w.f64(this.n)
    w.f64(this.min)
    w.f64(this.max)
    w.u32(this.state)
    w.u32(this.levels.length)
    for (const l of this.levels) w.f64s(l)
  }

  /** Reads a sketch written by {@link KllSketch.write}. */
  static read(r: ByteReader): KllSketch {
    const s = new KllSketch({ k: r.u32() })
    s.n = r.f64()
    s.min = r.f64()
    s.max = r.f64()
    s.state = r.u32()
    const levels = r.u32()
    s.levels = []
    for (let h = 0; h < levels; h++) s.levels.push(Array.from(r.f64s()))
    s.recompute()
    return s
  }
}
