import { DDSketch } from '@datadog/sketches-js'
import { DEFAULT_RELATIVE_ACCURACY, emptyFrozen, type Frozen, readFrozen, writeFrozen } from './sketch-codec.js'
import { addBinsToStore, binsOfStore, keyAtRank, mergeBins, unionBins } from './sparse-bins.js'

export { DEFAULT_RELATIVE_ACCURACY }

type Mapping = DDSketch['mapping']

// An immutable value↔key mapping for the default accuracy, shared so decoding a stored sketch
// allocates nothing of the library.
const DEFAULT_MAPPING: Mapping = new DDSketch({ relativeAccuracy: DEFAULT_RELATIVE_ACCURACY }).mapping

/** Options of {@link QuantileSketch}. */
export interface QuantileSketchOptions {
  /** Relative accuracy α in (0, 1): a quantile is within α·|true value|. Default 0.01. */
  relativeAccuracy?: number
}

/**
 * A mergeable quantile sketch with relative error α (DDSketch, Masson, Rim & Lee, VLDB 2019, as
 * implemented by `@datadog/sketches-js` with its logarithmic mapping and unbounded dense store).
 *
 * The q-quantile follows numpy's default (linear) definition: at rank r = q·(W − 1) (W the total
 * weight) it interpolates between the items of ranks ⌊r⌋ and ⌊r⌋ + 1, each read from the sketch
 * within α relative error, so for non-negative data the answer is within α of numpy's
 * `quantile(x, q)` (with whole weights, of the data repeated by weight). Answers are clamped to the
 * exact min and max.
 *
 * Weighted adds count a value `weight` times (use weight = 1/sample_rate). Sketches with the same α
 * merge exactly: merging then querying equals sketching the union.
 *
 * Two forms, switched transparently: adds go to the library's DDSketch (dense store); a decoded
 * sketch stays as sparse sorted bins, which merge and answer quantiles without building the dense
 * store (reading 720 hourly sketches is then a few sorted merges). The first add to a sparse sketch
 * converts it.
 *
 * Serialization: {@link QuantileSketch.encode} is a compact sparse binary form (varint bin gaps and
 * varint counts when every count is whole, float64 otherwise), about 2 bytes per occupied bin; the
 * library's protobuf ({@link QuantileSketch.toProto}, for other DDSketch readers) writes the padded
 * dense bin array as doubles, 2–3 KB for a typical latency sketch, and drops min, max and sum.
 */
export class QuantileSketch {
  /** The sketch's relative accuracy α. */
  readonly relativeAccuracy: number
  private readonly mapping: Mapping
  private dd: DDSketch | undefined
  // Base64 of the compact form, decoded on first use: rows read only for their counts never pay for it.
  private pending: string | undefined
  // Quantiles stored beside a pending text (see fromBase64); valid only while the text is untouched.
  private known: { qs: readonly number[]; values: readonly number[] } | undefined
  private f: Frozen = emptyFrozen()

  /** An empty sketch. */
  constructor(options: QuantileSketchOptions = {}) {
    this.relativeAccuracy = options.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY
    if (!(this.relativeAccuracy > 0 && this.relativeAccuracy < 1)) {
      throw new RangeError(`relativeAccuracy must be in (0, 1), got ${this.relativeAccuracy}`)
    }
    this.mapping =
      this.relativeAccuracy === DEFAULT_RELATIVE_ACCURACY
        ? DEFAULT_MAPPING
        : new DDSketch({ relativeAccuracy: this.relativeAccuracy }).mapping
  }

  /** Total weight added (the count when every weight is 1). */
  get count(): number {
    this.ensure()
    return this.dd ? this.dd.count : this.f.count
  }

  /** Σ weight·value (NaN for a sketch read from protobuf). */
  get sum(): number {
    this.ensure()
    return this.dd ? this.dd.sum : this.f.sum
  }

  /** Smallest value added, `null` when empty or unknown (a sketch read from protobuf). */
  get min(): number | null {
    this.ensure()
    const m = this.dd ? this.dd.min : this.f.min
    return Number.isFinite(m) ? m : null
  }

  /** Largest value added, `null` when empty or unknown. */
  get max(): number | null {
    this.ensure()
    const m = this.dd ? this.dd.max : this.f.max
    return Number.isFinite(m) ? m : null
  }

  /** The dense form, converting a sparse sketch on first use. */
  private ensure(): void {
    if (this.pending === undefined) return
    const text = this.pending
    this.pending = undefined
    this.known = undefined
    const { relativeAccuracy, f } = readFrozen(Buffer.from(text, 'base64'))
    if (relativeAccuracy !== this.relativeAccuracy)
      throw new RangeError(`encoded accuracy ${relativeAccuracy} is not ${this.relativeAccuracy}`)
    this.f = f
  }

  private live(): DDSketch {
    this.ensure()
    if (this.dd) return this.dd
    const dd = new DDSketch({ relativeAccuracy: this.relativeAccuracy })
    const f = this.f
    addBinsToStore(dd.store, f.pos)
    addBinsToStore(dd.negativeStore, f.neg)
    dd.zeroCount = f.zero
    dd.count = f.count
    dd.min = f.min
    dd.max = f.max
    dd.sum = f.sum
    this.dd = dd
    this.f = emptyFrozen()
    return dd
  }

  /** The sparse view (a snapshot when the sketch is dense). */
  private view(): Frozen {
    this.ensure()
    const dd = this.dd
    if (!dd) return this.f
    return {
      pos: binsOfStore(dd.store),
      neg: binsOfStore(dd.negativeStore),
      zero: dd.zeroCount,
      count: dd.count,
      min: dd.min,
      max: dd.max,
      sum: dd.sum,
    }
  }

  /**
   * Adds `value` with `weight` (default 1). Non-finite values are ignored: a latency of NaN is a
   * missing measurement, not a sample.
   *
   * @throws RangeError when `weight` is not a positive finite number
   */
  add(value: number, weight = 1): void {
    if (!(weight > 0 && Number.isFinite(weight))) throw new RangeError(`weight must be positive and finite, got ${weight}`)
    if (!Number.isFinite(value)) return
    this.live().accept(value, weight)
  }

  /**
   * Adds every value of `other` into this sketch.
   *
   * @throws RangeError when the relative accuracies differ
   */
  merge(other: QuantileSketch): void {
    if (other.relativeAccuracy !== this.relativeAccuracy) {
      throw new RangeError(`cannot merge sketches of relative accuracy ${this.relativeAccuracy} and ${other.relativeAccuracy}`)
    }
    if (other.count === 0) return
    this.ensure()
    const dd = this.dd
    if (dd && other.dd) {
      const wasEmpty = dd.count === 0
      dd.merge(other.dd)
      // The library's merge copies the negative store only when this sketch was empty.
      if (!wasEmpty && other.dd.negativeStore.count > 0) dd.negativeStore.merge(other.dd.negativeStore)
      return
    }
    const o = other.view()
    if (dd) {
      addBinsToStore(dd.store, o.pos)
      addBinsToStore(dd.negativeStore, o.neg)
      dd.zeroCount += o.zero
      dd.count += o.count
      dd.sum += o.sum
      if (o.min < dd.min) dd.min = o.min
      if (o.max > dd.max) dd.max = o.max
      return
    }
    const f = this.f
    this.f = {
      pos: mergeBins(f.pos, o.pos),
      neg: mergeBins(f.neg, o.neg),
      zero: f.zero + o.zero,
      count: f.count + o.count,
      min: Math.min(f.min, o.min),
      max: Math.max(f.max, o.max),
      sum: f.sum + o.sum,
    }
  }

  /**
   * A new sketch holding the union of `sketches` (all of one relative accuracy), merged in one
   * pass: cheaper than merging one by one when there are many.
   *
   * @throws RangeError when accuracies differ
   */
  static union(sketches: readonly QuantileSketch[], options: QuantileSketchOptions = {}): QuantileSketch {
    const out = new QuantileSketch(options)
    const views: Frozen[] = []
    for (const s of sketches) {
      if (s.relativeAccuracy !== out.relativeAccuracy) {
        throw new RangeError(`cannot merge sketches of relative accuracy ${out.relativeAccuracy} and ${s.relativeAccuracy}`)
      }
      if (s.count > 0) views.push(s.view())
    }
    out.f = {
      pos: unionBins(views.map((v) => v.pos)),
      neg: unionBins(views.map((v) => v.neg)),
      zero: views.reduce((a, v) => a + v.zero, 0),
      count: views.reduce((a, v) => a + v.count, 0),
      min: views.reduce((a, v) => Math.min(a, v.min), Number.POSITIVE_INFINITY),
      max: views.reduce((a, v) => Math.max(a, v.max), Number.NEGATIVE_INFINITY),
      sum: views.reduce((a, v) => a + v.sum, 0),
    }
    return out
  }

  /** A deep copy. */
  clone(): QuantileSketch {
    const c = new QuantileSketch({ relativeAccuracy: this.relativeAccuracy })
    c.merge(this)
    return c
  }

  /**
   * The q-quantile, `null` when the sketch is empty.
   *
   * @throws RangeError when q is outside [0, 1]
   */
  quantile(q: number): number | null {
    return this.quantiles([q])[0] as number | null
  }

  /**
   * Several quantiles at once (one pass over the bins of a stored sketch), in the order given.
   * Each is `null` when the sketch is empty.
   *
   * @throws RangeError when a q is outside [0, 1]
   */
  quantiles(qs: readonly number[]): (number | null)[] {
    for (const q of qs) if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`)
    const known = this.known
    if (this.pending !== undefined && known && sameNumbers(known.qs, qs)) return [...known.values]
    const count = this.count
    if (count <= 0) return qs.map(() => null)
    const last = Math.max(0, count - 1)
    const min = this.dd ? this.dd.min : this.f.min
    const max = this.dd ? this.dd.max : this.f.max
    const at = this.rankReader(qs)
    return qs.map((q) => {
      const rank = q * last
      const lo = Math.floor(rank)
      const frac = rank - lo
      const a = at(lo)
      let v = frac > 0 && lo + 1 <= last ? a + frac * (at(lo + 1) - a) : a
      if (min <= max) v = v < min ? min : v > max ? max : v
      return v
    })
  }

  /**
   * Reads values by rank. For a stored sketch with no negative values and ascending quantiles, one
   * forward pass over the bins serves every rank; otherwise each rank is looked up on its own.
   */
  private rankReader(qs: readonly number[]): (rank: number) => number {
    const f = this.f
    let ascending = true
    for (let i = 1; i < qs.length; i++) if ((qs[i] as number) < (qs[i - 1] as number)) ascending = false
    if (this.dd || f.neg.total > 0 || !ascending || f.pos.keys.length === 0) return (r) => this.valueAtRank(r)
    const keys = f.pos.keys
    const counts = f.pos.counts
    const n = keys.length
    let i = 0
    let running = counts[0] as number
    let lastKey = Number.NaN
    let lastValue = 0
    let prev = Number.NEGATIVE_INFINITY
    return (r) => {
      if (r < f.zero) return 0
      const rr = r - f.zero
      if (rr < prev) {
        // Two close quantiles can ask for a lower rank again (⌊r₂⌋ < ⌊r₁⌋ + 1): restart the pass.
        i = 0
        running = counts[0] as number
      }
      prev = rr
      while (i < n - 1 && !(running > rr)) running += counts[++i] as number
      const k = keys[i] as number
      if (k !== lastKey) {
        lastKey = k
        lastValue = this.mapping.value(k)
      }
      return lastValue
    }
  }

  /** The sketch's value for the item of (0-based, weighted) rank `rank`. */
  private valueAtRank(rank: number): number {
    const dd = this.dd
    if (dd) {
      const neg = dd.negativeStore.count
      if (rank < neg) return -dd.mapping.value(dd.negativeStore.keyAtRank(neg - rank - 1, false))
      if (rank < neg + dd.zeroCount) return 0
      return dd.mapping.value(dd.store.keyAtRank(rank - neg - dd.zeroCount))
    }
    const f = this.f
    const neg = f.neg.total
    if (rank < neg) return -this.mapping.value(keyAtRank(f.neg, neg - rank - 1, false))
    if (rank < neg + f.zero) return 0
    return this.mapping.value(keyAtRank(f.pos, rank - neg - f.zero))
  }

  /** Compact binary form; see the class comment. Read back with {@link QuantileSketch.decode}. */
  encode(): Uint8Array {
    return writeFrozen(this.view(), this.relativeAccuracy)
  }

  /**
   * Reads {@link QuantileSketch.encode}'s output (into the sparse form).
   *
   * @throws RangeError on truncated or unknown input
   */
  static decode(bytes: Uint8Array): QuantileSketch {
    const { relativeAccuracy, f } = readFrozen(bytes)
    const s = new QuantileSketch({ relativeAccuracy })
    s.f = f
    return s
  }

  /**
   * A sketch from the base64 of {@link QuantileSketch.encode}, decoded on first use (so a malformed
   * text throws `RangeError` then, not here). `known` quantiles (`values[i]` of `qs[i]`, as this sketch
   * computed them before encoding) answer {@link QuantileSketch.quantiles} without decoding as long as the
   * sketch is untouched. {@link QuantileSketch.toBase64} of an untouched sketch
   * returns the same text without re-encoding. Only for the default relative accuracy's encodings
   * or when `options` names the encoded accuracy.
   */
  static fromBase64(
    text: string,
    options: QuantileSketchOptions = {},
    known?: { qs: readonly number[]; values: readonly number[] },
  ): QuantileSketch {
    const s = new QuantileSketch(options)
    s.pending = text
    s.known = known
    return s
  }

  /** Base64 of {@link QuantileSketch.encode}. */
  toBase64(): string {
    if (this.pending !== undefined) return this.pending
    return Buffer.from(this.encode()).toString('base64')
  }

  /** The DDSketch protobuf of `@datadog/sketches-js` (needs `protobufjs`), for other DDSketch readers. */
  toProto(): Uint8Array {
    return this.live().toProto()
  }

  /** Reads a DDSketch protobuf. Min, max and sum are not in that format: `min`/`max` are `null` after it. */
  static fromProto(bytes: Uint8Array): QuantileSketch {
    const decoded = DDSketch.fromProto(bytes)
    const gamma = decoded.mapping.gamma
    let relativeAccuracy = (gamma - 1) / (gamma + 1)
    if (Math.abs(relativeAccuracy - DEFAULT_RELATIVE_ACCURACY) < 1e-12) relativeAccuracy = DEFAULT_RELATIVE_ACCURACY
    const s = new QuantileSketch({ relativeAccuracy })
    const dd = s.live()
    dd.store.copy(decoded.store)
    dd.negativeStore.copy(decoded.negativeStore)
    dd.zeroCount = decoded.zeroCount
    dd.count = decoded.zeroCount + decoded.store.count + decoded.negativeStore.count
    dd.sum = Number.NaN
    return s
  }
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
