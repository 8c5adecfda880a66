import { ByteReader, ByteWriter } from './byte-codec.js'
import { NO_BINS, type SparseBins } from './sparse-bins.js'

/** Default relative accuracy of `QuantileSketch`: every quantile within ±1% of the true value. */
export const DEFAULT_RELATIVE_ACCURACY = 0.01

/** The read-side state of a sketch: bins and summary. */
export interface Frozen {
  pos: SparseBins
  neg: SparseBins
  zero: number
  count: number
  min: number
  max: number
  sum: number
}

/** An empty state (min +∞, max −∞). */
export function emptyFrozen(): Frozen {
  return { pos: NO_BINS, neg: NO_BINS, zero: 0, count: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, sum: 0 }
}

// Format version 1: version byte, flags byte, [accuracy f64], [min, max, sum f64], [zero count],
// positive bins, [negative bins]. Bins: count, first key (zigzag), then gap − 1 per key; each count a
// varint when every count is whole, else a float64.
const CODEC_VERSION = 1
const FLAG_INTEGRAL = 1
const FLAG_ACCURACY = 2
const FLAG_NEGATIVE = 4
const FLAG_ZERO = 8
const FLAG_SUMMARY = 16

/** Encodes a state (format version 1). */
export function writeFrozen(f: Frozen, relativeAccuracy: number): Uint8Array {
  const integral = Number.isInteger(f.zero) && allIntegral(f.pos.counts) && allIntegral(f.neg.counts)
  let flags = integral ? FLAG_INTEGRAL : 0
  if (relativeAccuracy !== DEFAULT_RELATIVE_ACCURACY) flags |= FLAG_ACCURACY
  if (f.neg.keys.length > 0) flags |= FLAG_NEGATIVE
  if (f.zero > 0) flags |= FLAG_ZERO
  if (f.count > 0) flags |= FLAG_SUMMARY
  const w = new ByteWriter()
  w.byte(CODEC_VERSION)
  w.byte(flags)
  if (flags & FLAG_ACCURACY) w.float64(relativeAccuracy)
  if (flags & FLAG_SUMMARY) {
    w.float64(f.min)
    w.float64(f.max)
    w.float64(f.sum)
  }
  if (flags & FLAG_ZERO) writeCount(w, f.zero, integral)
  writeBins(w, f.pos, integral)
  if (flags & FLAG_NEGATIVE) writeBins(w, f.neg, integral)
  return w.finish()
}

/**
 * Decodes {@link writeFrozen}'s output.
 *
 * @throws RangeError on truncated or unknown input
 */
export function readFrozen(bytes: Uint8Array): { relativeAccuracy: number; f: Frozen } {
  const r = new ByteReader(bytes)
  const version = r.byte()
  if (version !== CODEC_VERSION) throw new RangeError(`unknown sketch encoding version ${version}`)
  const flags = r.byte()
  const integral = (flags & FLAG_INTEGRAL) !== 0
  const relativeAccuracy = flags & FLAG_ACCURACY ? r.float64() : DEFAULT_RELATIVE_ACCURACY
  const f: Frozen = { pos: NO_BINS, neg: NO_BINS, zero: 0, count: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, sum: 0 }
  if (flags & FLAG_SUMMARY) {
    f.min = r.float64()
    f.max = r.float64()
    f.sum = r.float64()
  }
  if (flags & FLAG_ZERO) f.zero = readCount(r, integral)
  f.pos = readBins(r, integral)
  if (flags & FLAG_NEGATIVE) f.neg = readBins(r, integral)
  f.count = f.zero + f.pos.total + f.neg.total
  return { relativeAccuracy, f }
}

function allIntegral(counts: ArrayLike<number>): boolean {
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number
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

function writeBins(w: ByteWriter, b: SparseBins, integral: boolean): void {
  const n = b.keys.length
  w.varuint(n)
  for (let i = 0; i < n; i++) {
    const k = b.keys[i] as number
    if (i === 0) w.varint(k)
    else w.varuint(k - (b.keys[i - 1] as number) - 1)
    writeCount(w, b.counts[i] as number, integral)
  }
}

function readBins(r: ByteReader, integral: boolean): SparseBins {
  const n = r.varuint()
  if (n === 0) return NO_BINS
  const keys = new Float64Array(n)
  const counts = new Float64Array(n)
  let total = 0
  let key = r.varint()
  for (let i = 0; i < n; i++) {
    if (i > 0) key += r.varuint() + 1
    keys[i] = key
    const c = readCount(r, integral)
    if (!(c > 0)) throw new RangeError('bin count must be positive')
    counts[i] = c
    total += c
  }
  return { keys, counts, total }
}
