import { encodeTensor } from '@inferlog/schema'
import { describe, expect, it } from 'vitest'
import type { CategoricalColumn, EmbeddingColumn, NumericalColumn } from './column.js'
import { createColumnBuilder } from './column-builder.js'
import { extractColumns } from './extract-columns.js'
import { compileFieldPath, getFieldValue } from './field-path.js'
import { decodeTensorFloat32 } from './tensor-decode.js'

describe('field paths', () => {
  const event = { input: { age: 30, features: [1, 2, 3] }, context: { tags: { region: 'eu' } }, output: { score: 0.7 } }
  it('reads dotted paths and array indices', () => {
    expect(getFieldValue(event, 'input.age')).toBe(30)
    expect(getFieldValue(event, 'context.tags.region')).toBe('eu')
    expect(getFieldValue(event, 'input.features.2')).toBe(3)
    expect(getFieldValue(event, 'input.missing.deeper')).toBeUndefined()
  })
  it('never reaches the prototype and rejects empty segments', () => {
    expect(getFieldValue({ input: {} }, 'input.constructor')).toBeUndefined()
    expect(getFieldValue({ input: {} }, 'input.__proto__')).toBeUndefined()
    expect(() => compileFieldPath('input..age')).toThrow(RangeError)
  })
})

describe('tensor decoding', () => {
  it('decodes base64 float32, int8, uint8, int32 and float16 to Float32Array', () => {
    expect(Array.from(decodeTensorFloat32(encodeTensor(new Float32Array([1.5, -2, 3.25])))!)).toEqual([1.5, -2, 3.25])
    expect(Array.from(decodeTensorFloat32(encodeTensor(new Int8Array([-3, 4])))!)).toEqual([-3, 4])
    expect(Array.from(decodeTensorFloat32(encodeTensor(new Uint8Array([250, 1])))!)).toEqual([250, 1])
    expect(Array.from(decodeTensorFloat32(encodeTensor(new Int32Array([-70000, 5])))!)).toEqual([-70000, 5])
    // 0x3c00 = 1.0, 0xc000 = -2.0 in IEEE half precision
    expect(Array.from(decodeTensorFloat32(encodeTensor(new Uint16Array([0x3c00, 0xc000])))!)).toEqual([1, -2])
    expect(Array.from(decodeTensorFloat32({ dtype: 'float32', shape: [2], data: [0.5, 1] })!)).toEqual([0.5, 1])
  })
  it('rejects malformed tensors', () => {
    expect(decodeTensorFloat32({ dtype: 'float32', shape: [3], data: [1, 2] })).toBeUndefined()
    expect(decodeTensorFloat32({ dtype: 'float32', shape: [3], data: 'AAAA' })).toBeUndefined()
  })
})

describe('column extraction and classification', () => {
  const events = [
    { input: { age: 30, plan: 'pro', ok: true, mix: 1, obj: { a: 1 } }, internals: { embedding: encodeTensor(new Float32Array([1, 2])) } },
    { input: { age: 41.5, plan: 'free', ok: false, mix: 'one' }, internals: { embedding: [3, 4] } },
    { input: { plan: null }, internals: { embedding: { dtype: 'float32', shape: [2, 2], data: [1, 1, 3, 3] } } },
  ]
  const cols = extractColumns(events, [
    'input.age',
    'input.plan',
    'input.ok',
    'input.mix',
    'input.obj',
    'internals.embedding',
    'input.nothing',
  ])

  it('numbers become a Float64Array with NaN for missing', () => {
    const age = cols.get('input.age') as NumericalColumn
    expect(age.kind).toBe('numerical')
    expect(Array.from(age.values)).toEqual([30, 41.5, Number.NaN])
    expect(age.integer).toBe(false)
  })
  it('strings and booleans become dictionary codes', () => {
    const plan = cols.get('input.plan') as CategoricalColumn
    expect(Array.from(plan.codes)).toEqual([0, 1, -1])
    expect(plan.dictionary).toEqual(['pro', 'free'])
    const ok = cols.get('input.ok') as CategoricalColumn
    expect(ok.dictionary).toEqual(['true', 'false'])
  })
  it('tensors and number arrays become one Float32 matrix; [n, d] rows are mean-pooled', () => {
    const emb = cols.get('internals.embedding') as EmbeddingColumn
    expect(emb).toMatchObject({ kind: 'embedding', dim: 2, length: 3 })
    expect(Array.from(emb.data)).toEqual([1, 2, 3, 4, 2, 2])
    expect(Array.from(emb.present)).toEqual([1, 1, 1])
  })
  it('mixed types, objects and absent fields are reported, not thrown', () => {
    expect(cols.get('input.mix')).toMatchObject({ kind: 'mixed', types: { number: 1, string: 1 }, examples: { number: [0], string: [1] } })
    expect(cols.get('input.obj')).toMatchObject({ kind: 'unsupported' })
    expect(cols.get('input.nothing')).toEqual({ kind: 'empty', length: 3 })
  })
  it('embeddings of two dimensions make the column mixed', () => {
    const b = createColumnBuilder()
    b.push([1, 2])
    b.push([1, 2, 3])
    expect(b.finish()).toMatchObject({ kind: 'mixed', message: expect.stringMatching(/dimensions differ/) })
  })
  it('a forced categorical kind codes numbers by their decimal string', () => {
    const c = extractColumns([{ z: 75001 }, { z: 75002 }, { z: 75001 }], ['z'], { kinds: { z: 'categorical' } }).get(
      'z',
    ) as CategoricalColumn
    expect(c.dictionary).toEqual(['75001', '75002'])
    expect(Array.from(c.codes)).toEqual([0, 1, 0])
  })
  it('grows past its initial capacity', () => {
    const b = createColumnBuilder()
    for (let i = 0; i < 5000; i++) b.push(i % 7 === 0 ? undefined : i)
    const c = b.finish() as NumericalColumn
    expect(c.length).toBe(5000)
    expect(c.values[4999]).toBe(4999)
    expect(Number.isNaN(c.values[4998]!)).toBe(true)
  })
})
