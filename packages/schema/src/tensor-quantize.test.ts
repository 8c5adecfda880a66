import { describe, expect, it } from 'vitest'
import { float16ToNumber } from './tensor-codec.js'
import { dequantizeInt8, numberToFloat16, quantizeInt8, toFloat16Bits } from './tensor-quantize.js'

describe('float16 packing', () => {
  it('packs exact values, specials, subnormals and rounds to nearest even', () => {
    expect(numberToFloat16(1)).toBe(0x3c00)
    expect(numberToFloat16(-2)).toBe(0xc000)
    expect(numberToFloat16(65504)).toBe(0x7bff)
    expect(numberToFloat16(70000)).toBe(0x7c00)
    expect(numberToFloat16(-Infinity)).toBe(0xfc00)
    expect(Number.isNaN(float16ToNumber(numberToFloat16(NaN)))).toBe(true)
    expect(numberToFloat16(0)).toBe(0)
    expect(numberToFloat16(-0)).toBe(0x8000)
    expect(numberToFloat16(2 ** -24)).toBe(1)
    expect(numberToFloat16(2 ** -26)).toBe(0)
    expect(float16ToNumber(numberToFloat16(6.1e-5))).toBeCloseTo(6.1e-5, 6)
    // 1 + 2^-11 is halfway between 1 and the next half; ties go to even (1).
    expect(numberToFloat16(1 + 2 ** -11)).toBe(0x3c00)
    expect(numberToFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02)
  })

  it('round-trips random values within half precision', () => {
    const v = Array.from({ length: 1000 }, () => (Math.random() - 0.5) * 100)
    const bits = toFloat16Bits(v)
    v.forEach((x, i) => expect(Math.abs(float16ToNumber(bits[i]!) - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 1e-7))
  })
})

describe('int8 quantization', () => {
  it('is symmetric, clamps to ±127 and ignores non-finite values', () => {
    const q = quantizeInt8([1, -0.5, 0.25, NaN, Infinity])
    expect(q.scale).toBeCloseTo(1 / 127)
    expect(Array.from(q.data)).toEqual([127, -64, 32, 0, 0])
    expect(
      Array.from(dequantizeInt8(q.data, q.scale))
        .slice(0, 3)
        .map((x) => Math.round(x * 100) / 100),
    ).toEqual([1, -0.5, 0.25])
    expect(quantizeInt8([0, 0]).scale).toBe(0)
  })
})
