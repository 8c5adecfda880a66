import { describe, expect, it } from 'vitest'
import { extent, isTensor, tensorValues } from './tensor.js'

const b64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes))

describe('tensors', () => {
  it('reads number arrays and little-endian base64 of every dtype', () => {
    expect([...tensorValues({ dtype: 'float32', shape: [2], data: [1.5, -2] })]).toEqual([1.5, -2])
    const f32 = new Uint8Array(new Float32Array([0.25, -8]).buffer)
    expect([...tensorValues({ dtype: 'float32', shape: [2], data: b64([...f32]) })]).toEqual([0.25, -8])
    // float16: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800
    expect([...tensorValues({ dtype: 'float16', shape: [3], data: b64([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38]) })]).toEqual([1, -2, 0.5])
    expect([...tensorValues({ dtype: 'int8', shape: [2], data: b64([0xff, 0x05]) })]).toEqual([-1, 5])
    expect([...tensorValues({ dtype: 'uint8', shape: [2], data: b64([0xff, 0x05]) })]).toEqual([255, 5])
    expect([...tensorValues({ dtype: 'int32', shape: [1], data: b64([0xfe, 0xff, 0xff, 0xff]) })]).toEqual([-2])
  })

  it('refuses data that does not match the shape', () => {
    expect(() => tensorValues({ dtype: 'float32', shape: [3], data: [1, 2] })).toThrow(/shape/)
    expect(() => tensorValues({ dtype: 'float32', shape: [2], data: b64([1, 2, 3]) })).toThrow(/bytes/)
  })

  it('recognizes tensors and nothing else', () => {
    expect(isTensor({ dtype: 'float32', shape: [2], data: [1, 2] })).toBe(true)
    expect(isTensor({ dtype: 'float64', shape: [2], data: [1, 2] })).toBe(false)
    expect(isTensor({ dtype: 'float32', shape: [-1], data: [] })).toBe(false)
    expect(isTensor([1, 2])).toBe(false)
    expect(isTensor(null)).toBe(false)
  })

  it('takes the extent of the finite values', () => {
    expect(extent([3, Number.NaN, -1, Number.POSITIVE_INFINITY])).toEqual([-1, 3])
    expect(extent([])).toEqual([0, 0])
  })
})
