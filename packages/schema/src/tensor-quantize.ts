/**
 * Lossy compaction of float tensors on capture: float16 (half the bytes, ~3 significant digits)
 * and symmetric int8 (a quarter of the bytes plus one scale). Pure functions over typed arrays,
 * no runtime dependencies.
 */

// One scratch word reinterpreted as float32 and uint32: the bit-level view float16 packing needs.
const F32 = new Float32Array(1)
const U32 = new Uint32Array(F32.buffer)

/**
 * Packs one number into IEEE 754 half-precision bits, rounding to nearest even. Values beyond
 * ±65504 become ±Infinity; NaN stays NaN; tiny values become float16 subnormals or zero.
 */
export function numberToFloat16(value: number): number {
  F32[0] = value
  const x = U32[0]!
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  let mant = x & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0)
  // Rebias from 127 to 15.
  const e = exp - 112
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit leading one into the mantissa.
    if (e < -10) return sign
    mant |= 0x800000
    const shift = 14 - e
    let half = mant >>> shift
    const rem = mant & ((1 << shift) - 1)
    const mid = 1 << (shift - 1)
    if (rem > mid || (rem === mid && (half & 1) === 1)) half++
    return sign | half
  }
  let half = (e << 10) | (mant >>> 13)
  const rem = mant & 0x1fff
  // Round to nearest even; a carry into the exponent is the correct result (up to Infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++
  return sign | half
}

/** Converts numbers to float16 bit patterns (the representation tensors of dtype `float16` carry). */
export function toFloat16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) out[i] = numberToFloat16(values[i]!)
  return out
}

/** Result of {@link quantizeInt8}: `value ≈ data[i] * scale`. */
export interface Int8Quantized {
  data: Int8Array
  /** Multiplier that maps int8 codes back to values; 0 when every value is 0 or non-finite. */
  scale: number
}

/**
 * Symmetric per-tensor int8 quantization: `scale = max|v| / 127`, codes rounded to nearest and
 * clamped to [-127, 127]. Non-finite values encode as 0 and do not affect the scale.
 */
export function quantizeInt8(values: ArrayLike<number>): Int8Quantized {
  let max = 0
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]!)
    if (a > max && a !== Infinity) max = a
  }
  const data = new Int8Array(values.length)
  if (max === 0) return { data, scale: 0 }
  const scale = max / 127
  const inv = 127 / max
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isFinite(v)) continue
    // Round half away from zero so that quantization is symmetric around 0.
    const x = v * inv
    const q = x < 0 ? -Math.round(-x) : Math.round(x)
    data[i] = q > 127 ? 127 : q < -127 ? -127 : q
  }
  return { data, scale }
}

/** Inverse of {@link quantizeInt8}. */
export function dequantizeInt8(data: ArrayLike<number>, scale: number): Float32Array {
  const out = new Float32Array(data.length)
  for (let i = 0; i < data.length; i++) out[i] = data[i]! * scale
  return out
}
