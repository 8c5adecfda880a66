import type { ByteReader, ByteWriter } from './byte-codec.js'

const F64 = new Float64Array(1)
const U32 = new Uint32Array(F64.buffer)

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * Two independent 32-bit hashes of a value (numbers by their IEEE 754 bits, with −0 as 0; strings
 * by their UTF-16 code units), murmur3-style mixing. 64 bits in all, so HyperLogLog needs no
 * large-range correction.
 */
export function hashValue(value: number | string): [number, number] {
  const out = new Uint32Array(2)
  hashInto(value, out)
  return [out[0]!, out[1]!]
}

/** {@link hashValue} into `out` (no allocation: the per-value path of profiles). */
function hashInto(value: number | string, out: Uint32Array): void {
  let a = 0x9747b28c
  let b = 0x5bd1e995
  if (typeof value === 'number') {
    F64[0] = value === 0 ? 0 : value
    a = fmix32(Math.imul(a ^ U32[0]!, 0xcc9e2d51) ^ U32[1]!)
    b = fmix32(Math.imul(b ^ U32[1]!, 0x1b873593) ^ U32[0]!)
    out[0] = a
    out[1] = fmix32(b ^ a)
    return
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul((b ^ c) + 0x9e3779b9, 0x85ebca6b)
  }
  a = fmix32(a ^ value.length)
  out[0] = a
  out[1] = fmix32(b ^ a)
}

/** 2^−r for every register value (ranks are at most 65). */
const INVERSE_POWERS = Float64Array.from({ length: 256 }, (_, r) => 2 ** -r)

/** Options of {@link HyperLogLog}. */
export interface HyperLogLogOptions {
  /** log2 of the register count. Default 12 (4096 registers, relative standard error ≈ 1.6%). */
  precision?: number
}

/**
 * HyperLogLog distinct-count sketch (Flajolet et al. 2007) with linear counting for small
 * cardinalities (Heule et al. 2013): registers hold the longest run of leading zeros seen in
 * the hash bits after the register index. Merge is a register-wise max.
 */
export class HyperLogLog {
  readonly precision: number
  registers: Uint8Array
  private readonly scratch = new Uint32Array(2)

  constructor(options: HyperLogLogOptions = {}) {
    this.precision = options.precision ?? 12
    this.registers = new Uint8Array(1 << this.precision)
  }

  /** Adds a value. */
  add(value: number | string): void {
    hashInto(value, this.scratch)
    const h1 = this.scratch[0]!
    const h2 = this.scratch[1]!
    const p = this.precision
    const idx = h1 >>> (32 - p)
    // 32 − p bits left in h1, then all of h2: the rank is the position of the first 1.
    const rest = (h1 << p) >>> 0
    let rank: number
    if (rest !== 0) rank = Math.clz32(rest) + 1
    else rank = 32 - p + Math.clz32(h2) + 1
    if (rank > this.registers[idx]!) this.registers[idx] = rank
  }

  /** Folds another sketch of the same precision into this one. */
  merge(other: HyperLogLog): void {
    if (other.precision !== this.precision) throw new RangeError('HyperLogLog precisions differ')
    for (let i = 0; i < this.registers.length; i++) if (other.registers[i]! > this.registers[i]!) this.registers[i] = other.registers[i]!
  }

  /** Estimated number of distinct values added. */
  estimate(): number {
    const m = this.registers.length
    let sum = 0
    let zeros = 0
    for (let i = 0; i < m; i++) {
      const r = this.registers[i]!
      sum += INVERSE_POWERS[r]!
      if (r === 0) zeros++
    }
    const alpha = 0.7213 / (1 + 1.079 / m)
    const raw = (alpha * m * m) / sum
    if (raw <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros)
    return raw
  }

  /** Relative standard error 1.04/√m. */
  get relativeError(): number {
    return 1.04 / Math.sqrt(this.registers.length)
  }

  /** Writes the registers, sparsely when few are set. */
  write(w: ByteWriter): void {
    w.u8(this.precision)
    let set = 0
    for (const r of this.registers) if (r !== 0) set++
    if (set * 3 < this.registers.length) {
      w.u8(1)
      w.u32(set)
      const pairs = new Uint8Array(set * 3)
      let k = 0
      for (let i = 0; i < this.registers.length; i++) {
        const r = this.registers[i]!
        if (r === 0) continue
        pairs[k++] = i & 0xff
        pairs[k++] = i >>> 8
        pairs[k++] = r
      }
      w.bytes(pairs)
    } else {
      w.u8(0)
      w.bytes(this.registers)
    }
  }

  /** Reads a sketch written by {@link HyperLogLog.write}. */
  static read(r: ByteReader): HyperLogLog {
    const h = new HyperLogLog({ precision: r.u8() })
    if (r.u8() === 1) {
      r.u32()
      const pairs = r.bytes()
      for (let k = 0; k + 2 < pairs.length; k += 3) h.registers[pairs[k]! | (pairs[k + 1]! << 8)] = pairs[k + 2]!
    } else h.registers = r.bytes()
    return h
  }
}
