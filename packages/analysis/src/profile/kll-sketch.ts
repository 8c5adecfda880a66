import { type ByteReader, type ByteWriter, ProfileDecodeError } from './byte-codec.js'

/** Options of {@link KllSketch}. */
export interface KllOptions {
  /** Accuracy parameter: about 3k values are kept. Default 400 (normalized rank error ≈ 0.7%). */
  k?: number
  /** Seed of the compaction coin. Default 1. */
  seed?: number
}

const MIN_LEVEL_CAPACITY = 8
const EMPTY = new Float64Array(0)

/** Merges two ascending arrays into a new one. */
function mergeSorted(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length === 0) return b.slice()
  if (b.length === 0) return a.slice()
  const out = new Float64Array(a.length + b.length)
  let i = 0
  let j = 0
  let k = 0
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!
  while (i < a.length) out[k++] = a[i++]!
  while (j < b.length) out[k++] = b[j++]!
  return out
}

/** Number of values in ascending `a` that are < x (`inclusive`: ≤ x). */
function countBelow(a: Float64Array, x: number, inclusive: boolean): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (inclusive ? a[mid]! <= x : a[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
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
 *
 * Values live in typed arrays: level 0 is an unsorted `Float64Array` buffer filled in place,
 * levels above it sorted `Float64Array`s. An update is a store and a comparison until the sketch
 * is full; serialization and merges copy whole arrays.
 */
export class KllSketch {
  readonly k: number
  n = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY
  /** Level 0 (weight 1): unsorted, the first `size0` slots in use. */
  private buf0: Float64Array
  private size0 = 0
  /** upper[h − 1] holds the sorted values of weight 2^h. */
  private upper: Float64Array[] = []
  private state: number
  private retainedCount = 0
  private capacityTotal = 0
  private caps: number[] = []
  /** Merges leave compaction to the next read or update, so merging many sketches compacts once. */
  private pending = false

  constructor(options: KllOptions = {}) {
    this.k = options.k ?? 400
    this.state = (options.seed ?? 1) >>> 0
    this.buf0 = new Float64Array(Math.max(MIN_LEVEL_CAPACITY, Math.ceil(this.k / 2)) + 1)
    this.recompute()
  }

  private coin(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) & 1
  }

  /** Number of levels (level 0 included). */
  private get depth(): number {
    return this.upper.length + 1
  }

  private capacity(h: number): number {
    const depth = this.depth - 1 - h
    const c = Math.max(MIN_LEVEL_CAPACITY, Math.ceil(this.k * (2 / 3) ** depth))
    // Level 0 (weight 1) may hold k/2 values: compactions then sort a few hundred values every
    // few hundred updates instead of eight every four. Extra weight-1 values only lower the error.
    return h === 0 ? Math.max(c, Math.ceil(this.k / 2)) : c
  }

  private recompute(): void {
    this.caps = Array.from({ length: this.depth }, (_, h) => this.capacity(h))
    this.capacityTotal = this.caps.reduce((a, b) => a + b, 0)
    let r = this.size0
    for (const l of this.upper) r += l.length
    this.retainedCount = r
  }

  private levelSize(h: number): number {
    return h === 0 ? this.size0 : this.upper[h - 1]!.length
  }

  private ensure0(n: number): void {
    if (n <= this.buf0.length) return
    const next = new Float64Array(Math.max(n, this.buf0.length * 2))
    next.set(this.buf0.subarray(0, this.size0))
    this.buf0 = next
  }

  private compress(): void {
    this.pending = false
    while (this.retainedCount > this.capacityTotal) {
      let h = 0
      while (h < this.depth - 1 && this.levelSize(h) < this.caps[h]!) h++
      const level = h === 0 ? this.buf0.subarray(0, this.size0).sort() : this.upper[h - 1]!
      if (h + 1 === this.depth) this.upper.push(EMPTY)
      const odd = level.length % 2
      const offset = this.coin()
      const moved = new Float64Array((level.length - odd) >>> 1)
      for (let i = odd + offset, j = 0; j < moved.length; i += 2, j++) moved[j] = level[i]!
      this.upper[h] = mergeSorted(this.upper[h]!, moved)
      // An odd level keeps its smallest value.
      if (h === 0) this.size0 = odd
      else this.upper[h - 1] = odd ? level.slice(0, 1) : EMPTY
      this.recompute()
    }
  }

  /** Adds one value (NaN is ignored). */
  update(x: number): void {
    if (x !== x) return
    this.n++
    if (x < this.min) this.min = x
    if (x > this.max) this.max = x
    if (this.size0 === this.buf0.length) this.ensure0(this.size0 + 1)
    this.buf0[this.size0++] = x
    if (++this.retainedCount > this.capacityTotal || this.pending) this.compress()
  }

  /** Adds every value of `other` (other is left untouched). */
  merge(other: KllSketch): void {
    if (other.n === 0) return
    this.n += other.n
    if (other.min < this.min) this.min = other.min
    if (other.max > this.max) this.max = other.max
    this.ensure0(this.size0 + other.size0)
    this.buf0.set(other.buf0.subarray(0, other.size0), this.size0)
    this.size0 += other.size0
    while (this.upper.length < other.upper.length) this.upper.push(EMPTY)
    other.upper.forEach((l, i) => {
      if (l.length > 0) this.upper[i] = mergeSorted(this.upper[i]!, l)
    })
    this.recompute()
    this.pending = true
  }

  /** Runs the compaction merges left pending. */
  private settle(): void {
    if (this.pending) this.compress()
  }

  /** Estimated number of values < x (`inclusive`: ≤ x), exact at the extremes. */
  rank(x: number, inclusive = false): number {
    this.settle()
    if (this.n === 0) return 0
    if (x < this.min || (!inclusive && x === this.min)) return 0
    if (x > this.max || (inclusive && x === this.max)) return this.n
    let r = 0
    for (let i = 0; i < this.size0; i++) {
      const v = this.buf0[i]!
      if (v < x || (inclusive && v === x)) r++
    }
    this.upper.forEach((l, i) => {
      r += countBelow(l, x, inclusive) * 2 ** (i + 1)
    })
    return r
  }

  /** The retained values with their weights, ascending (for merges of CDFs). */
  weightedItems(): { values: Float64Array; weights: Float64Array } {
    this.settle()
    // Levels above 0 are sorted: merge them in, carrying weights along.
    let values: Float64Array = this.buf0.slice(0, this.size0).sort()
    let weights: Float64Array = new Float64Array(values.length).fill(1)
    this.upper.forEach((l, i) => {
      if (l.length === 0) return
      const w = 2 ** (i + 1)
      const nv = new Float64Array(values.length + l.length)
      const nw = new Float64Array(nv.length)
      let a = 0
      let b = 0
      let k = 0
      while (a < values.length || b < l.length) {
        if (b >= l.length || (a < values.length && values[a]! <= l[b]!)) {
          nv[k] = values[a]!
          nw[k++] = weights[a++]!
        } else {
          nv[k] = l[b++]!
          nw[k++] = w
        }
      }
      values = nv
      weights = nw
    })
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
    this.settle()
    return this.retainedCount
  }

  /** Writes the sketch (k, n, extremes, coin state, levels). */
  write(w: ByteWriter): void {
    this.settle()
    w.u32(this.k)
    w.f64(this.n)
    w.f64(this.min)
    w.f64(this.max)
    w.u32(this.state)
    w.u32(this.depth)
    w.f64s(this.buf0.subarray(0, this.size0))
    for (const l of this.upper) w.f64s(l)
  }

  /** Reads a sketch written by {@link KllSketch.write}. */
  static read(r: ByteReader): KllSketch {
    const s = new KllSketch({ k: r.u32() })
    s.n = r.f64()
    s.min = r.f64()
    s.max = r.f64()
    s.state = r.u32()
    const levels = r.u32()
    if (levels < 1 || levels > 64) throw new ProfileDecodeError(`a KLL sketch of ${levels} levels`)
    const l0 = r.f64s()
    s.ensure0(l0.length)
    s.buf0.set(l0)
    s.size0 = l0.length
    for (let h = 1; h < levels; h++) s.upper.push(r.f64s())
    s.recompute()
    return s
  }
}
