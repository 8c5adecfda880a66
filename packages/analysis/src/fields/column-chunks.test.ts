import { describe, expect, it } from 'vitest'
import { createColumnBuilder } from './column-builder.js'
import { concatColumnChunks, decodeColumnChunk, encodeColumnChunk, filterColumnChunk } from './column-chunks.js'

const build = (values: unknown[]) => {
  const b = createColumnBuilder()
  for (const v of values) b.push(v)
  return b.finish()
}

describe('column chunks', () => {
  const cases: Record<string, unknown[]> = {
    numbers: [1, 2.5, null, 4, undefined, Number.NaN, -3],
    integers: [1, 2, null, 4],
    strings: ['a', 'b', null, 'a', 'c'],
    booleans: [true, false, null, true],
    empty: [null, undefined, null],
  }
  for (const [name, values] of Object.entries(cases)) {
    it(`${name}: stored in pieces, read back and joined, equal the column built row by row`, () => {
      const pieces = [values.slice(0, 2), values.slice(2, 3), values.slice(3)]
      const joined = concatColumnChunks(pieces.map((p) => decodeColumnChunk(encodeColumnChunk(build(p)))))
      expect(joined).toEqual(build(values))
    })
  }

  it('joins categories of different dictionaries, and empty pieces with either kind', () => {
    const a = build(['x', 'y'])
    const b = build([null, null])
    const c = build(['z', 'x'])
    expect(concatColumnChunks([a, b, c])).toEqual(build(['x', 'y', null, null, 'z', 'x']))
    expect(concatColumnChunks([build([null]), build([3])])).toEqual(build([null, 3]))
  })

  it('refuses what needs the rows: numbers beside strings, mixed or embedding pieces', () => {
    expect(concatColumnChunks([build([1]), build(['a'])])).toBeUndefined()
    const mixed = build([1, 'a'])
    expect(decodeColumnChunk(encodeColumnChunk(mixed))).toEqual({ kind: 'opaque', length: 2 })
    expect(concatColumnChunks([build([1]), decodeColumnChunk(encodeColumnChunk(mixed))])).toBeUndefined()
    expect(concatColumnChunks([build([[1, 2]])])).toBeUndefined()
    expect(() => decodeColumnChunk(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/column chunk|truncated/)
  })

  it('keeps the rows a mask selects, with type counts and the integer flag recomputed', () => {
    const keep = Uint8Array.from([1, 0, 1, 0, 1])
    expect(filterColumnChunk(build([1, 2.5, 3, null, 5]), keep)).toEqual(build([1, 3, 5]))
    expect(filterColumnChunk(build(['a', 'b', null, 'b', 'c']), keep)).toEqual({
      ...build(['a', null, 'c']),
      dictionary: ['a', 'b', 'c'],
      codes: Int32Array.from([0, -1, 2]),
    })
  })
})
