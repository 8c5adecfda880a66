import type { TypeCounts } from '../fields/column.js'
import { ByteReader, ByteWriter, ProfileDecodeError } from './byte-codec.js'
import { createFieldProfile, type FieldProfile } from './field-profile.js'
import { ExactCounts } from './exact-counts.js'
import { FrequentItems } from './frequent-items.js'
import { HyperLogLog } from './hyperloglog.js'
import { KllSketch } from './kll-sketch.js'
import { LogHistogram } from './log-histogram.js'

const MAGIC = 0x49505246 // "IPRF"
/** Version 2 stores histogram keys as int32; version 1 (float64 keys) is still read. */
const VERSION = 2
const TYPE_NAMES = ['number', 'string', 'boolean', 'tensor', 'array', 'object'] as const

/**
 * Serializes a profile to compact bytes (little-endian; sketches in their own layouts; a few KB
 * for a numerical field with the default k = 400). Store them as a blob or base64.
 */
export function encodeProfile(p: FieldProfile): Uint8Array {
  const w = new ByteWriter()
  w.u32(MAGIC)
  w.u8(VERSION)
  w.u32(p.options.kllK)
  w.u32(p.options.frequentCapacity)
  w.f64(p.options.histogramAccuracy)
  w.u8(p.options.hllPrecision)
  w.f64(p.count)
  w.f64(p.missing)
  w.f64(p.dimensionMismatches)
  for (const t of TYPE_NAMES) w.f64(p.types[t] ?? 0)
  const flags = (p.numeric ? 1 : 0) | (p.categories ? 2 : 0) | (p.embedding ? 4 : 0)
  w.u8(flags)
  if (p.numeric) {
    const s = p.numeric
    w.f64(s.n)
    w.f64(s.mean)
    w.f64(s.m2)
    w.f64(s.min)
    w.f64(s.max)
    w.u8(s.integer ? 1 : 0)
    s.quantiles.write(w)
    s.histogram.write(w)
    s.values.write(w)
  }
  if (p.categories) p.categories.write(w)
  if (p.embedding) {
    w.u32(p.embedding.dim)
    w.f64(p.embedding.n)
    w.f64s(p.embedding.sum)
  }
  p.distinct.write(w)
  return w.finish()
}

/**
 * Reads bytes written by {@link encodeProfile}.
 * @throws ProfileDecodeError (code `invalid_profile`) on foreign or truncated bytes
 */
export function decodeProfile(bytes: Uint8Array): FieldProfile {
  const r = new ByteReader(bytes)
  if (r.u32() !== MAGIC) throw new ProfileDecodeError('not a field profile')
  const version = r.u8()
  if (version !== VERSION && version !== 1) throw new ProfileDecodeError(`unsupported profile version ${version}`)
  const p = createFieldProfile({ kllK: r.u32(), frequentCapacity: r.u32(), histogramAccuracy: r.f64(), hllPrecision: r.u8() })
  p.count = r.f64()
  p.missing = r.f64()
  p.dimensionMismatches = r.f64()
  const types: TypeCounts = {}
  for (const t of TYPE_NAMES) {
    const c = r.f64()
    if (c > 0) types[t] = c
  }
  p.types = types
  const flags = r.u8()
  if (flags & 1) {
    const n = r.f64()
    const mean = r.f64()
    const m2 = r.f64()
    const min = r.f64()
    const max = r.f64()
    const integer = r.u8() === 1
    const quantiles = KllSketch.read(r)
    const histogram = version === 1 ? LogHistogram.readV1(r) : LogHistogram.read(r)
    const values = ExactCounts.read(r)
    p.numeric = { n, mean, m2, min, max, integer, quantiles, histogram, values }
  }
  if (flags & 2) p.categories = FrequentItems.read<string>(r)
  if (flags & 4) {
    const dim = r.u32()
    const n = r.f64()
    p.embedding = { dim, n, sum: r.f64s() }
  }
  p.distinct = HyperLogLog.read(r)
  return p
}
