import type { ByteReader, ByteWriter } from './byte-codec.js'

/** Options of {@link LogHistogram}. */
export interface LogHistogramOptions {
  /** Relative width of a bucket: (γ − 1)/(γ + 1). Default 0.005 (buckets 1% wide). */
  relativeAccuracy?: number
}

/** Values closer to 0 than this share the zero bucket. */
const ZERO_BAND = 1e-300

/**
 * A histogram on logarithmically spaced buckets (the DDSketch layout, Masson et al. 2019): a value
 * x > 0 goes to bucket ⌈log_γ x⌉, which covers (γ^(k−1), γ^k], negatives mirror it, and counts per
 * bucket are exact. Mergeable by adding counts; about 230 buckets per decade of |x| at the default
 * accuracy. Profiles use it for bin shares (PSI, Jensen–Shannon) and Wasserstein: counting a bin is
 * exact except inside the two buckets cut by its edges, where mass is spread uniformly — which
 * keeps the tails (where a rank sketch is weakest) accurate.
 */
export class LogHistogram {
  readonly relativeAccuracy: number
  readonly gamma: number
  private readonly logGamma: number
  positive = new Map<number, number>()
  negative = new Map<number, number>()
  zero = 0
  n = 0
  // Sorted buckets, rebuilt after any change (drift from profiles reads them several times).
  private sorted: { keyMin: number; keyMax: number; iv: { lo: Float64Array; hi: Float64Array; count: Float64Array } } | undefined

  constructor(options: LogHistogramOptions = {}) {
    this.relativeAccuracy = options.relativeAccuracy ?? 0.005
    this.gamma = (1 + this.relativeAccuracy) / (1 - this.relativeAccuracy)
    this.logGamma = Math.log(this.gamma)
  }

  private key(a: number): number {
    return Math.ceil(Math.log(a) / this.logGamma)
  }

  /** Adds `weight` occurrences of `x` (finite). */
  add(x: number, weight = 1): void {
    this.sorted = undefined
    this.n += weight
    if (Math.abs(x) < ZERO_BAND) this.zero += weight
    else if (x > 0) {
      const k = this.key(x)
      this.positive.set(k, (this.positive.get(k) ?? 0) + weight)
    } else {
      const k = this.key(-x)
      this.negative.set(k, (this.negative.get(k) ?? 0) + weight)
    }
  }

  /** Adds the counts of another histogram of the same accuracy. */
  merge(o: LogHistogram): void {
    if (o.relativeAccuracy !== this.relativeAccuracy) throw new RangeError('LogHistogram accuracies differ')
    this.sorted = undefined
    for (const [k, c] of o.positive) this.positive.set(k, (this.positive.get(k) ?? 0) + c)
    for (const [k, c] of o.negative) this.negative.set(k, (this.negative.get(k) ?? 0) + c)
    this.zero += o.zero
    this.n += o.n
  }

  /**
   * Buckets as ascending intervals [lo, hi] with counts, clipped to the exact extremes `min`/`max`
   * when given (so the outermost buckets are as narrow as the data).
   */
  intervals(min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): { lo: Float64Array; hi: Float64Array; count: Float64Array } {
    const cached = this.sorted
    if (cached && cached.keyMin === min && cached.keyMax === max) return cached.iv
    const rows: [number, number, number][] = []
    for (const [k, c] of this.negative) rows.push([-(this.gamma ** k), -(this.gamma ** (k - 1)), c])
    if (this.zero > 0) rows.push([0, 0, this.zero])
    for (const [k, c] of this.positive) rows.push([this.gamma ** (k - 1), this.gamma ** k, c])
    rows.sort((a, b) => a[0] - b[0])
    const lo = new Float64Array(rows.length)
    const hi = new Float64Array(rows.length)
    const count = new Float64Array(rows.length)
    rows.forEach(([l, h, c], i) => {
      lo[i] = Math.min(Math.max(l, min), max)
      hi[i] = Math.max(Math.min(h, max), min)
      count[i] = c
    })
    const iv = { lo, hi, count }
    this.sorted = { keyMin: min, keyMax: max, iv }
    return iv
  }

  /** Number of buckets in use. */
  get buckets(): number {
    return this.positive.size + this.negative.size + (this.zero > 0 ? 1 : 0)
  }

  /** Writes accuracy, zero count and the non-empty buckets. */
  write(w: ByteWriter): void {
    w.f64(this.relativeAccuracy)
    w.f64(this.zero)
    w.f64(this.n)
    for (const m of [this.positive, this.negative]) {
      w.f64s([...m.keys()])
      w.f64s([...m.values()])
    }
  }

  /** Reads a histogram written by {@link LogHistogram.write}. */
  static read(r: ByteReader): LogHistogram {
    const h = new LogHistogram({ relativeAccuracy: r.f64() })
    h.sorted = undefined
    h.zero = r.f64()
    h.n = r.f64()
    for (const m of [h.positive, h.negative]) {
      const keys = r.f64s()
      const counts = r.f64s()
      keys.forEach((k, i) => m.set(k, counts[i]!))
    }
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
