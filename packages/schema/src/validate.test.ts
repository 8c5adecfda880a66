import { describe, expect, it } from 'vitest'
import { fullExampleEvent, minimalExampleEvent } from './examples.js'
import { createValidator, jsonDepth } from './validate.js'
import { decodeTensor, encodeTensor } from './tensor-codec.js'

const v = createValidator()

function nest(depth: number): unknown {
  let x: unknown = 1
  for (let i = 0; i < depth; i++) x = [x]
  return x
}

describe('event validation', () => {
  it('accepts a fully populated event and a minimal one', () => {
    expect(v.event(fullExampleEvent())).toBeUndefined()
    expect(v.event(minimalExampleEvent())).toBeUndefined()
  })

  it('names the missing field', () => {
    const e = minimalExampleEvent({ model: { name: 'm' } as never })
    expect(v.event(e)).toMatchObject({ code: 'validation_failed', path: '/model/version' })
    const { input: _i, ...noInput } = minimalExampleEvent()
    expect(v.event(noInput)).toMatchObject({ code: 'validation_failed', path: '/input' })
  })

  it('requires output unless status is error, and error when it is', () => {
    const { output: _o, ...noOutput } = minimalExampleEvent()
    expect(v.event(noOutput)).toMatchObject({ code: 'validation_failed', path: '/output' })
    expect(v.event({ ...noOutput, status: 'error' })).toMatchObject({ path: '/error' })
    expect(v.event({ ...noOutput, status: 'error', error: { type: 'Timeout', message: 'x' } })).toBeUndefined()
  })

  it('rejects wrong types with their path', () => {
    expect(v.event(minimalExampleEvent({ latency_ms: { total: '12' as never } }))).toMatchObject({ path: '/latency_ms/total' })
    expect(v.event(minimalExampleEvent({ sample_rate: 0 }))).toMatchObject({ path: '/sample_rate' })
    expect(v.event(minimalExampleEvent({ sample_rate: 1.5 }))).toMatchObject({ path: '/sample_rate' })
    expect(v.event(minimalExampleEvent({ ts: 'yesterday' }))).toMatchObject({ path: '/ts' })
    expect(v.event(minimalExampleEvent({ model: { name: 'm', version: 3 as never } }))).toMatchObject({ path: '/model/version' })
    expect(v.event(minimalExampleEvent({ model: { name: 'm', version: '1', stage: 'prod' as never } }))).toMatchObject({
      path: '/model/stage',
    })
    expect(v.event({ ...minimalExampleEvent(), lantency_ms: {} })).toMatchObject({ path: '/lantency_ms' })
    expect(v.event([minimalExampleEvent()])).toMatchObject({ code: 'validation_failed', path: '' })
    expect(v.event('x')).toMatchObject({ code: 'validation_failed' })
  })

  it('enforces the depth limit without recursion', () => {
    expect(v.event(minimalExampleEvent({ input: nest(60) as never }))).toBeUndefined()
    expect(v.event(minimalExampleEvent({ input: nest(64) as never }))).toMatchObject({ code: 'depth_exceeded' })
    // Far deeper than any recursive walker could survive.
    expect(jsonDepth(nest(200_000), 64)).toBe(65)
    expect(createValidator({ maxDepth: 3 }).event(minimalExampleEvent({ input: [[1]] }))).toBeUndefined()
    expect(createValidator({ maxDepth: 2 }).event(minimalExampleEvent({ input: [[1]] }))).toMatchObject({ code: 'depth_exceeded' })
  })

  it('checks tensors: dtype, shape, data length, integer range, base64', () => {
    const bad = (t: unknown) => v.event(minimalExampleEvent({ internals: { t: t as never } }))
    expect(bad({ dtype: 'float64', shape: [1], data: [1] })).toMatchObject({ code: 'invalid_tensor', path: '/internals/t/dtype' })
    expect(bad({ dtype: 'float32', shape: [2, 2], data: [1, 2, 3] })).toMatchObject({ code: 'invalid_tensor', path: '/internals/t/data' })
    expect(bad({ dtype: 'float32', shape: [3], data: encodeTensor(new Float32Array(2)).data })).toMatchObject({ code: 'invalid_tensor' })
    expect(bad({ dtype: 'int8', shape: [1], data: [200] })).toMatchObject({ code: 'invalid_tensor', path: '/internals/t/data/0' })
    expect(bad({ dtype: 'uint8', shape: [1], data: '@@@@' })).toMatchObject({ code: 'invalid_tensor' })
    expect(bad({ dtype: 'uint8', shape: [-1], data: [] })).toMatchObject({ code: 'invalid_tensor', path: '/internals/t/shape/0' })
    expect(bad({ dtype: 'int32', shape: [2], data: encodeTensor(new Int32Array([1, -2])).data })).toBeUndefined()
    // Non-tensor JSON is welcome in internals.
    expect(bad({ path: ['a', 'b'] })).toBeUndefined()
  })
})

describe('feedback validation', () => {
  it('accepts the documented shapes', () => {
    expect(v.feedback({ event_id: 'e1', name: 'thumbs', value: -1 })).toBeUndefined()
    expect(
      v.feedback({ event_id: 'e1', name: 'label', value: 'spam', kind: 'explicit', source: { type: 'annotator', id: 'a7' } }),
    ).toBeUndefined()
    expect(v.feedback({ event_id: 'e1', name: 'preference', value: { chosen: 0, rejected: 1 } })).toBeUndefined()
    expect(v.feedback({ event_id: 'e1', name: 'correction', value: { text: 'fixed' }, ts: '2026-11-26T10:00:00.000Z' })).toBeUndefined()
  })
  it('rejects what does not fit', () => {
    expect(v.feedback({ name: 'thumbs', value: 1 })).toMatchObject({ path: '/event_id' })
    expect(v.feedback({ event_id: 'e1', name: 'thumbs', value: null })).toMatchObject({ path: '/value' })
    expect(v.feedback({ event_id: 'e1', name: 'preference', value: { chosen: 0 } })).toMatchObject({ path: '/value/rejected' })
    expect(v.feedback({ event_id: 'e1', name: 'x', value: 1, kind: 'sometimes' })).toMatchObject({ path: '/kind' })
  })
})

describe('tensor codec', () => {
  it('round-trips typed arrays through base64 little-endian bytes', () => {
    const f = new Float32Array([0.5, -2, 1e-3])
    const t = encodeTensor(f, [3])
    expect(t).toMatchObject({ dtype: 'float32', shape: [3] })
    expect(decodeTensor(t)).toEqual(Array.from(f))
    expect(decodeTensor(encodeTensor(new Int8Array([-128, 127])))).toEqual([-128, 127])
    // float16 bit patterns: 0x3c00 = 1, 0xc000 = -2, 0x7bff = 65504.
    expect(decodeTensor(encodeTensor(new Uint16Array([0x3c00, 0xc000, 0x7bff])))).toEqual([1, -2, 65504])
  })
})
