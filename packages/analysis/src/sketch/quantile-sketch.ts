import { DDSketch } from '@datadog/sketches-js'
import { ByteReader, ByteWriter } from './byte-codec.js'

/** Default relative accuracy of {@link QuantileSketch}: every quantile within ±1% of the true value. */
export const DEFAULT_RELATIVE_ACCURACY = 0.01

type Store = DDSketch['store']

/** Options of {@link QuantileSketch}. */
export interface QuantileSketchOptions {
  /** Relative accuracy α in (0, 1): a quantile is within α·|true value|. Default 0.01. */
  relativeAccuracy?: number
}

const CODEC_VERSION = 1
const FLAG_INTEGRAL = 1
const FLAG_ACCURACY = 2
const FLAG_NEGATIVE = 4
const FLAG_ZERO = 8
const FLAG_SUMMARY = 16

/**
 * A mergeable quantile sketch with relative error α (DDSketch, Masson, Rim & Lee, VLDB 2019, as
 * implemented by `@datadog/sketches-js` with its logarithmic mapping and unbounded dense store).
 * The q-quantile follows numpy's default (linear) definition: at rank r = q·(W − 1) (W the total
 * weight) it interpolates between the items of ranks ⌊r⌋ and ⌊r⌋ + 1, each read from the sketch
 * within α relative error, so for non-negative data the answer is within α of numpy's
 * `quantile(x, q)` (with whole weights, of the data repeated by weight). Answers are clamped to the
 * exact min and max.
 *
 * Weighted adds count a value `weight` times (use weight = 1/sample_rate). Sketches with the same α
 * merge exactly: merging then querying equals sketching the union.
 *
 * Serialization: {@link QuantileSketch.encode} is a compact sparse binary form (varint bin gaps and
 * varint counts when every count is whole, float64 otherwise), about 2 bytes per occupied bin; the
 * library's protobuf ({@link QuantileSketch.toProto}, for interoperability with other DDSketch
 * implementations) writes the padded dense bin array as doubles, 2–3 KB for a typical latency sketch,
 * and drops min, max and sum.
 */
export class QuantileSketch {
  /** The sketch's relative accuracy α. */
  readonly relativeAccuracy: number
  private readonly dd: DDSketch

  /** An empty sketch. */
  constructor(options: QuantileSketchOptions = {}) {
    this.relativeAccuracy = options.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY
    if (!(this.relativeAccuracy > 0 && this.relativeAccuracy < 1)) {
      throw new RangeError(`relativeAccuracy must be in (0, 1), got ${this.relativeAccuracy}`)
    }
    this.dd = new DDSketch({ relativeAccuracy: this.relativeAccuracy })
  }

  /** Total weight added (the count when every weight is 1). */
  get count(): number {
    return this.dd.count
  }

  /** Σ weight·value. */
  get sum(): number {
    return this.dd.sum
  }

  /** Smallest value added, `null` when empty or unknown (a sketch read from protobuf). */
  get min(): number | null {
    return Number.isFinite(this.dd.min) ? this.dd.min : null
  }

  /** Largest value added, `null` when empty or unknown. */
  get max(): number | null {
    return Number.isFinite(this.dd.max) ? this.dd.max : null
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
    this.dd.accept(value, weight)
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
    if (other.dd.count === 0) return
    const wasEmpty = this.dd.count === 0
    this.dd.merge(other.dd)
    // The library's merge copies the negative store only when this sketch was empty.
    if (!wasEmpty && other.dd.negativeStore.count > 0) this.dd.negativeStore.merge(other.dd.negativeStore)
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
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`)
    const count = this.dd.count
    if (count <= 0) return null
    const rank = q * Math.max(0, count - 1)
    const lo = Math.floor(rank)
    const frac = rank - lo
    let v = this.valueAtRank(lo)
    if (frac > 0 && lo + 1 <= count - 1) v += frac * (this.valueAtRank(lo + 1) - v)
    const { min, max } = this.dd
    if (min <= max) v = v < min ? min : v > max ? max : v
    return v
  }

  /** The sketch's value for the item of (0-based, weighted) rank `rank`. */
  private valueAtRank(rank: number): number {
    const dd = this.dd
    const neg = dd.negativeStore.count
    if (rank < neg) return -dd.mapping.value(dd.negativeStore.keyAtRank(neg - rank - 1, false))
    if (rank < neg + dd.zeroCount) return 0
    return dd.mapping.value(dd.store.keyAtRank(rank - neg - dd.zeroCount))
  }

  /** Compact binary form; see the class comment. Read back with {@link QuantileSketch.decode}. */
  encode(): Uint8Array {
    const dd = this.dd
    const integral = Number.isInteger(dd.zeroCount) && storeIntegral(dd.store) && storeIntegral(dd.negativeStore)
    let flags = integral ? FLAG_INTEGRAL : 0
    if (this.relativeAccuracy !== DEFAULT_RELATIVE_ACCURACY) flags |= FLAG_ACCURACY
    if (dd.negativeStore.count > 0) flags |= FLAG_NEGATIVE
    if (dd.zeroCount > 0) flags |= FLAG_ZERO
    if (dd.count > 0) flags |= FLAG_SUMMARY
    const w = new ByteWriter()
    w.byte(CODEC_VERSION)
    w.byte(flags)
    if (flags & FLAG_ACCURACY) w.float64(this.relativeAccuracy)
    if (flags & FLAG_SUMMARY) {
      w.float64(dd.min)
      w.float64(dd.max)
      w.float64(dd.sum)
    }
    if (flags & FLAG_ZERO) writeCount(w, dd.zeroCount, integral)
    writeStore(w, dd.store, integral)
    if (flags & FLAG_NEGATIVE) writeStore(w, dd.negativeStore, integral)
    return w.finish()
  }

  /**
   * Reads {@link QuantileSketch.encode}'s output.
   *
   * @throws RangeError on truncated or unknown input
   */
  static decode(bytes: Uint8Array): QuantileSketch {
    const r = new ByteReader(bytes)
    const version = r.byte()
    if (version !== CODEC_VERSION) throw new RangeError(`unknown sketch encoding version ${version}`)
    const flags = r.byte()
    const integral = (flags & FLAG_INTEGRAL) !== 0
    const relativeAccuracy = flags & FLAG_ACCURACY ? r.float64() : DEFAULT_RELATIVE_ACCURACY
    const s = new QuantileSketch({ relativeAccuracy })
    const dd = s.dd
    if (flags & FLAG_SUMMARY) {
      dd.min = r.float64()
      dd.max = r.float64()
      dd.sum = r.float64()
    }
    if (flags & FLAG_ZERO) dd.zeroCount = readCount(r, integral)
    readStore(r, dd.store, integral)
    if (flags & FLAG_NEGATIVE) readStore(r, dd.negativeStore, integral)
    dd.count = dd.zeroCount + dd.store.count + dd.negativeStore.count
    return s
  }

  /** The DDSketch protobuf of `@datadog/sketches-js` (needs `protobufjs`), for other DDSketch readers. */
  toProto(): Uint8Array {
    return this.dd.toProto()
  }

  /** Reads a DDSketch protobuf. Min, max and sum are not in that format: `min`/`max` are `null` after it. */
  static fromProto(bytes: Uint8Array): QuantileSketch {
    const decoded = DDSketch.fromProto(bytes)
    const gamma = decoded.mapping.gamma
    let relativeAccuracy = (gamma - 1) / (gamma + 1)
    if (Math.abs(relativeAccuracy - DEFAULT_RELATIVE_ACCURACY) < 1e-12) relativeAccuracy = DEFAULT_RELATIVE_ACCURACY
    const s = new QuantileSketch({ relativeAccuracy })
    s.dd.store.copy(decoded.store)
    s.dd.negativeStore.copy(decoded.negativeStore)
    s.dd.zeroCount = decoded.zeroCount
    s.dd.count = decoded.zeroCount + decoded.store.count + decoded.negativeStore.count
    s.dd.sum = Number.NaN
    return s
  }
}

function storeIntegral(store: Store): boolean {
  if (store.count === 0) return true
  for (let k = store.minKey; k <= store.maxKey; k++) {
    const c = store.bins[k - store.offset] as number
    if (!Number.isInteger(c) || c > Number.MAX_SAFE_INTEGER) return false
  }
  return true
}

function writeCount(w: ByteWriter, c: number, integral: boolean): void {
  if (integral) w.varuint(c)
  else w.float64(c)
}

function readCount(r: ByteReader, integral: boolean): number {
  return integral ? r.varuint() : r.float64()
}

function writeStore(w: ByteWriter, store: Store, integral: boolean): void {
  if (store.count === 0) {
    w.varuint(0)
    return
  }
  let occupied = 0
  for (let k = store.minKey; k <= store.maxKey; k++) if ((store.bins[k - store.offset] as number) !== 0) occupied++
  w.varuint(occupied)
  let prev: number | undefined
  for (let k = store.minKey; k <= store.maxKey; k++) {
    const c = store.bins[k - store.offset] as number
    if (c === 0) continue
    if (prev === undefined) w.varint(k)
    else w.varuint(k - prev - 1)
    writeCount(w, c, integral)
    prev = k
  }
}

function readStore(r: ByteReader, store: Store, integral: boolean): void {
  const occupied = r.varuint()
  if (occupied === 0) return
  const keys = new Array<number>(occupied)
  const counts = new Array<number>(occupied)
  let key = r.varint()
  for (let i = 0; i < occupied; i++) {
    if (i > 0) key += r.varuint() + 1
    keys[i] = key
    counts[i] = readCount(r, integral)
  }
  // Add the two ends first so the dense store grows once instead of once per chunk.
  store.add(keys[0] as number, counts[0] as number)
  if (occupied > 1) store.add(keys[occupied - 1] as number, counts[occupied - 1] as number)
  for (let i = 1; i < occupied - 1; i++) store.add(keys[i] as number, counts[i] as number)
}
