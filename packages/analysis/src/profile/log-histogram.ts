import { type ByteReader, type ByteWriter, ProfileDecodeError } from './byte-codec.js'

/** Options of {@link LogHistogram}. */
export interface LogHistogramOptions {
  /** Relative width of a bucket: (γ − 1)/(γ + 1). Default 0.005 (buckets 1% wide). */
  relativeAccuracy?: number
}

/** Values closer to 0 than this share the zero bucket. */
const ZERO_BAND = 1e-300

/** Buckets of one sign: ascending keys with their counts. */
interface SignedBuckets {
  keys: Int32Array
  counts: Float64Array
}

const NO_BUCKETS: SignedBuckets = { keys: new Int32Array(0), counts: new Float64Array(0) }

/** Adds two ascending bucket lists key by key. */
function mergeBuckets(a: SignedBuckets, b: SignedBuckets): SignedBuckets {
  if (b.keys.length === 0) return a
  if (a.keys.length === 0) return { keys: b.keys.slice(), counts: b.counts.slice() }
  const keys = new Int32Array(a.keys.length + b.keys.length)
  const counts = new Float64Array(keys.length)
  let i = 0
  let j = 0
  let k = 0
  while (i < a.keys.length || j < b.keys.length) {
    const ka = i < a.keys.length ? a.keys[i]! : Number.POSITIVE_INFINITY
    const kb = j < b.keys.length ? b.keys[j]! : Number.POSITIVE_INFINITY
    if (ka === kb) {
      keys[k] = ka
      counts[k++] = a.counts[i++]! + b.counts[j++]!
    } else if (ka < kb) {
      keys[k] = ka
      counts[k++] = a.counts[i++]!
    } else {
      keys[k] = kb
      counts[k++] = b.counts[j++]!
    }
  }
  return { keys: keys.slice(0, k), counts: counts.slice(0, k) }
}

/** Bucket counts gathered by adds, as an ascending list. */
function bucketsOf(m: Map<number, number>): SignedBuckets {
  const keys = Int32Array.from(m.keys()).sort()
  const counts = new Float64Array(keys.length)
  for (let i = 0; i < keys.length; i++) counts[i] = m.get(keys[i]!)!
  return { keys, counts }
}

/**
 * A histogram on logarithmically spaced buckets (the DDSketch layout, Masson et al. 2019): a value
 * x > 0 goes to bucket ⌈log_γ x⌉, which covers (γ^(k−1), γ^k], negatives mirror it, and counts per
 * bucket are exact. Mergeable by adding counts; about 230 buckets per decade of |x| at the default
 * accuracy. Profiles use it for bin shares (PSI, Jensen–Shannon) and Wasserstein: counting a bin is
 * exact except inside the two buckets cut by its edges, where mass is spread uniformly — which
 * keeps the tails (where a rank sketch is weakest) accurate.
 *
 * Buckets are kept as ascending typed arrays (keys `Int32Array`, counts `Float64Array`) per sign;
 * adds gather in a small map that is folded in before any read, so merges and serialization are
 * linear passes and array copies.
 */
export class LogHistogram {
  readonly relativeAccuracy: number
  readonly gamma: number
  private readonly logGamma: number
  private pos: SignedBuckets = NO_BUCKETS
  private neg: SignedBuckets = NO_BUCKETS
  private pendingPos = new Map<number, number>()
  private pendingNeg = new Map<number, number>()
  zero = 0
  n = 0
  // Sorted intervals, rebuilt after any change (drift from profiles reads them several times).
  private sorted: { keyMin: number; keyMax: number; iv: { lo: Float64Array; hi: Float64Array; count: Float64Array } } | undefined

  constructor(options: LogHistogramOptions = {}) {
    this.relativeAccuracy = options.relativeAccuracy ?? 0.005
    // Bucket keys are int32: finer buckets would overflow them at the extremes of float64.
    if (!(this.relativeAccuracy >= 1e-6 && this.relativeAccuracy < 1)) throw new RangeError('relativeAccuracy must be in [1e-6, 1)')
    this.gamma = (1 + this.relativeAccuracy) / (1 - this.relativeAccuracy)
    this.logGamma = Math.log(this.gamma)
  }

  private key(a: number): number {
    return Math.ceil(Math.log(a) / this.logGamma)
  }

  /** Folds pending adds into the sorted buckets. */
  private settle(): void {
    if (this.pendingPos.size > 0) {
      this.pos = mergeBuckets(this.pos, bucketsOf(this.pendingPos))
      this.pendingPos.clear()
    }
    if (this.pendingNeg.size > 0) {
      this.neg = mergeBuckets(this.neg, bucketsOf(this.pendingNeg))
      this.pendingNeg.clear()
    }
  }

  /** Adds `weight` occurrences of `x` (finite). */
  add(x: number, weight = 1): void {
    this.sorted = undefined
    this.n += weight
    if (Math.abs(x) < ZERO_BAND) this.zero += weight
    else if (x > 0) {
      const k = this.key(x)
      this.pendingPos.set(k, (this.pendingPos.get(k) ?? 0) + weight)
    } else {
      const k = this.key(-x)
      this.pendingNeg.set(k, (this.pendingNeg.get(k) ?? 0) + weight)
    }
    // Bound the map: beyond a few thousand keys, fold it into the arrays.
    if (this.pendingPos.size + this.pendingNeg.size > 4096) this.settle()
  }

  /** Adds the counts of another histogram of the same accuracy. */
  merge(o: LogHistogram): void {
    if (o.relativeAccuracy !== this.relativeAccuracy) throw new RangeError('LogHistogram accuracies differ')
    this.sorted = undefined
    this.settle()
    o.settle()
    this.pos = mergeBuckets(this.pos, o.pos)
    this.neg = mergeBuckets(this.neg, o.neg)
    this.zero += o.zero
    this.n += o.n
  }

  /**
   * A new histogram holding the counts of all of `list` (same accuracy), added in one pass per
   * sign over a dense key range: merging n histograms costs their total size, not n passes.
   */
  static sum(list: readonly LogHistogram[]): LogHistogram {
    const first = list[0]
    const out = new LogHistogram({ relativeAccuracy: first?.relativeAccuracy ?? 0.005 })
    if (!first) return out
    for (const h of list) {
      if (h.relativeAccuracy !== out.relativeAccuracy) throw new RangeError('LogHistogram accuracies differ')
      h.settle()
      out.zero += h.zero
      out.n += h.n
    }
    const side = (pick: (h: LogHistogram) => SignedBuckets): SignedBuckets => {
      let lo = Number.POSITIVE_INFINITY
      let hi = Number.NEGATIVE_INFINITY
      let total = 0
      for (const h of list) {
        const b = pick(h)
        if (b.keys.length === 0) continue
        lo = Math.min(lo, b.keys[0]!)
        hi = Math.max(hi, b.keys[b.keys.length - 1]!)
        total += b.keys.length
      }
      if (total === 0) return NO_BUCKETS
      // A sparse spread (few buckets over a huge key range) is merged pairwise instead.
      if (hi - lo + 1 > 4 * total + 65_536) return list.reduce((acc, h) => mergeBuckets(acc, pick(h)), NO_BUCKETS)
      const dense = new Float64Array(hi - lo + 1)
      for (const h of list) {
        const b = pick(h)
        for (let i = 0; i < b.keys.length; i++) dense[b.keys[i]! - lo]! += b.counts[i]!
      }
      let used = 0
      for (let i = 0; i < dense.length; i++) if (dense[i]! !== 0) used++
      const keys = new Int32Array(used)
      const counts = new Float64Array(used)
      for (let i = 0, k = 0; i < dense.length; i++) {
        if (dense[i]! === 0) continue
        keys[k] = i + lo
        counts[k++] = dense[i]!
      }
      return { keys, counts }
    }
    out.pos = side((h) => h.pos)
    out.neg = side((h) => h.neg)
    return out
  }

  /** Positive buckets (key k covers (γ^(k−1), γ^k]), ascending. */
  get positive(): ReadonlyMap<number, number> {
    this.settle()
    return new Map(Array.from(this.pos.keys, (k, i) => [k, this.pos.counts[i]!]))
  }

  /** Negative buckets by |x| (key k covers [−γ^k, −γ^(k−1))), ascending. */
  get negative(): ReadonlyMap<number, number> {
    this.settle()
    return new Map(Array.from(this.neg.keys, (k, i) => [k, this.neg.counts[i]!]))
  }

  /**
   * Buckets as ascending intervals [lo, hi] with counts, clipped to the exact extremes `min`/`max`
   * when given (so the outermost buckets are as narrow as the data).
   */
  intervals(min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): { lo: Float64Array; hi: Float64Array; count: Float64Array } {
    const cached = this.sorted
    if (cached && cached.keyMin === min && cached.keyMax === max) return cached.iv
    this.settle()
    const total = this.neg.keys.length + this.pos.keys.length + (this.zero > 0 ? 1 : 0)
    const lo = new Float64Array(total)
    const hi = new Float64Array(total)
    const count = new Float64Array(total)
    let i = 0
    const put = (l: number, h: number, c: number) => {
      lo[i] = Math.min(Math.max(l, min), max)
      hi[i] = Math.max(Math.min(h, max), min)
      count[i++] = c
    }
    // Most negative first: the largest |x| keys of the negative side come first.
    for (let j = this.neg.keys.length - 1; j >= 0; j--) {
      const k = this.neg.keys[j]!
      put(-(this.gamma ** k), -(this.gamma ** (k - 1)), this.neg.counts[j]!)
    }
    if (this.zero > 0) put(0, 0, this.zero)
    for (let j = 0; j < this.pos.keys.length; j++) {
      const k = this.pos.keys[j]!
      put(this.gamma ** (k - 1), this.gamma ** k, this.pos.counts[j]!)
    }
    const iv = { lo, hi, count }
    this.sorted = { keyMin: min, keyMax: max, iv }
    return iv
  }

  /** Number of buckets in use. */
  get buckets(): number {
    this.settle()
    return this.pos.keys.length + this.neg.keys.length + (this.zero > 0 ? 1 : 0)
  }

  /** Writes accuracy, zero count and the non-empty buckets (keys as int32, counts as float64). */
  write(w: ByteWriter): void {
    this.settle()
    w.f64(this.relativeAccuracy)
    w.f64(this.zero)
    w.f64(this.n)
    for (const b of [this.pos, this.neg]) {
      w.i32s(b.keys)
      w.f64s(b.counts)
    }
  }

  /** Reads a histogram written by {@link LogHistogram.write}. */
  static read(r: ByteReader): LogHistogram {
    const h = new LogHistogram({ relativeAccuracy: r.f64() })
    h.zero = r.f64()
    h.n = r.f64()
    const side = (): SignedBuckets => {
      const keys = r.i32s()
      const counts = r.f64s()
      if (counts.length !== keys.length) throw new ProfileDecodeError('histogram keys and counts differ in length')
      for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) throw new ProfileDecodeError('histogram keys out of order')
      return { keys, counts }
    }
    h.pos = side()
    h.neg = side()
    return h
  }

  /** Reads the first profile format's histogram (keys and counts as float64 lists). */
  static readV1(r: ByteReader): LogHistogram {
    const h = new LogHistogram({ relativeAccuracy: r.f64() })
    h.zero = r.f64()
    h.n = r.f64()
    for (const m of [h.pendingPos, h.pendingNeg]) {
      const keys = r.f64s()
      const counts = r.f64s()
      keys.forEach((k, i) => m.set(k, counts[i]!))
    }
    h.settle()
    return h
  }
}

/**
 * A piecewise-linear CDF over histogram intervals: `below(x)` estimates the count of values < x,
 * spreading each bucket's count uniformly over its interval (a point bucket counts as a step).
 */
export class IntervalCdf {
  private readonly cum: Float64Array
  constructor(private readonly iv: { lo: Float64Array; hi: Float64Array; count: Float64Array }) {
    this.cum = new Float64Array(iv.count.length + 1)
    for (let i = 0; i < iv.count.length; i++) this.cum[i + 1] = this.cum[i]! + iv.count[i]!
  }
  /** Total count. */
  get total(): number {
    return this.cum[this.cum.length - 1]!
  }
  /** Estimated count of values < x (`inclusive`: ≤ x). */
  below(x: number, inclusive = false): number {
    const { lo, hi, count } = this.iv
    // Buckets are disjoint and ascending: find the last bucket starting at or before x.
    let a = 0
    let b = lo.length
    while (a < b) {
      const mid = (a + b) >>> 1
      if (lo[mid]! <= x) a = mid + 1
      else b = mid
    }
    const i = a - 1
    if (i < 0) return 0
    const before = this.cum[i]!
    const l = lo[i]!
    const h = hi[i]!
    if (x > h || (inclusive && x === h)) return before + count[i]!
    if (h === l) return inclusive ? before + count[i]! : before
    return before + (count[i]! * (x - l)) / (h - l)
  }
}
