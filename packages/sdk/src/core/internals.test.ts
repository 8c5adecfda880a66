import { decodeTensor, dequantizeInt8, type Tensor } from '@inferlog/schema'
import { describe, expect, it } from 'vitest'
import { internalsJson } from './internals.js'

const enc = (internals: Record<string, unknown>, quantize: 'none' | 'float16' | 'int8' = 'none', maxBytes = 1 << 20) =>
  JSON.parse(internalsJson(internals, { maxBytes, quantize }) ?? 'null') as Record<string, Tensor & number & string[]>

describe('internals encoding', () => {
  it('sends typed arrays as base64 tensors of the matching dtype, never as number arrays', () => {
    const out = enc({
      emb: new Float32Array([0.5, -2, 3.25]),
      ids: new Int32Array([1, -7]),
      q: new Int8Array([-128, 127]),
      px: new Uint8Array([0, 255]),
      f64: new Float64Array([1.5, 2.5]),
      path: ['root', 'leaf'],
    })
    expect(out.emb).toMatchObject({ dtype: 'float32', shape: [3] })
    expect(typeof out.emb.data).toBe('string')
    expect(decodeTensor(out.emb)).toEqual([0.5, -2, 3.25])
    expect(decodeTensor(out.ids)).toEqual([1, -7])
    expect(decodeTensor(out.q)).toEqual([-128, 127])
    expect(decodeTensor(out.px)).toEqual([0, 255])
    expect(out.f64.dtype).toBe('float32')
    expect(out.path).toEqual(['root', 'leaf'])
  })

  it('keeps a declared shape, and encodes JSON number tensors as bytes', () => {
    const out = enc({
      logprobs: { shape: [2, 2], data: new Float32Array([-0.5, -1, -2, -4]) },
      bad: { shape: [3, 3], data: new Float32Array(4) },
      json: { dtype: 'int32', shape: [2], data: [5, 6] },
    })
    expect(out.logprobs.shape).toEqual([2, 2])
    expect(out.bad.shape).toEqual([4])
    expect(out.json).toMatchObject({ dtype: 'int32', shape: [2] })
    expect(decodeTensor(out.json)).toEqual([5, 6])
  })

  it('quantizes float tensors to float16 or int8 (with a scale entry) on request', () => {
    const v = new Float32Array([0.1, -0.5, 1, 0.333])
    const h = enc({ v }, 'float16')
    expect(h.v.dtype).toBe('float16')
    const half = decodeTensor(h.v)
    expect(half).toHaveLength(v.length)
    half.forEach((x, i) => expect(x).toBeCloseTo(v[i]!, 3))
    const q = enc({ v }, 'int8')
    expect(q.v.dtype).toBe('int8')
    const back = dequantizeInt8(decodeTensor(q.v), q.v_scale)
    expect(back).toHaveLength(v.length)
    back.forEach((x, i) => expect(Math.abs(x - v[i]!)).toBeLessThan(0.005))
    // Per-tensor request, and integer tensors are never quantized.
    expect(enc({ t: { dtype: 'float16', data: v } }).t.dtype).toBe('float16')
    expect(enc({ ids: new Int32Array(2) }, 'int8').ids.dtype).toBe('int32')
  })

  it('respects the byte budget in insertion order and names what was left out', () => {
    const out = enc({ small: new Float32Array(4), big: new Float32Array(10_000), note: 'kept' }, 'none', 2000)
    expect(Object.keys(out)).toEqual(['small', 'note', '_omitted'])
    expect(out._omitted).toEqual(['big'])
  })
})
