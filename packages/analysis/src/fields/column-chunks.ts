import { ByteReader, ByteWriter, ProfileDecodeError } from '../profile/byte-codec.js'
import type { CategoricalColumn, Column, NumericalColumn, TypeCounts } from './column.js'

const MAGIC = 0x49434f4c // "ICOL"
const VERSION = 1
const KIND = { empty: 0, numerical: 1, categorical: 2, opaque: 3 } as const

/**
 * A stored piece of a column that cannot be concatenated exactly (mixed types, embeddings,
 * objects): its rows must be read from the log instead.
 */
export interface OpaqueChunk {
  kind: 'opaque'
  length: number
}

/** A decoded column chunk. */
export type ColumnChunk = Column | OpaqueChunk

/**
 * Serializes a scalar column (numerical, categorical, empty) to compact bytes: float64 values or
 * int32 codes with their dictionary, copied as arrays. Any other column is stored as an
 * {@link OpaqueChunk} of its length.
 */
export function encodeColumnChunk(c: ColumnChunk): Uint8Array {
  const w = new ByteWriter()
  w.u32(MAGIC)
  w.u8(VERSION)
  w.f64(c.length)
  if (c.kind === 'numerical') {
    w.u8(KIND.numerical)
    w.u8(c.integer ? 1 : 0)
    w.f64s(c.values)
  } else if (c.kind === 'categorical') {
    w.u8(KIND.categorical)
    w.f64(c.types?.string ?? 0)
    w.f64(c.types?.boolean ?? 0)
    w.u32(c.dictionary.length)
    for (const s of c.dictionary) w.string(s)
    // Up to 255 categories: one byte per row (255 = missing); else int32 codes.
    if (c.dictionary.length < 255) {
      w.u8(1)
      w.u8s(Uint8Array.from(c.codes, (x) => (x < 0 ? 255 : x)))
    } else {
      w.u8(4)
      w.i32s(c.codes)
    }
  } else w.u8(c.kind === 'empty' ? KIND.empty : KIND.opaque)
  return w.finish()
}

/**
 * Reads bytes written by {@link encodeColumnChunk}.
 * @throws ProfileDecodeError (code `invalid_profile`) on foreign or truncated bytes
 */
export function decodeColumnChunk(bytes: Uint8Array): ColumnChunk {
  const r = new ByteReader(bytes)
  if (r.u32() !== MAGIC) throw new ProfileDecodeError('not a column chunk')
  const version = r.u8()
  if (version !== VERSION) throw new ProfileDecodeError(`unsupported column chunk version ${version}`)
  const length = r.f64()
  const kind = r.u8()
  if (kind === KIND.numerical) {
    const integer = r.u8() === 1
    const values = r.f64s()
    if (values.length !== length) throw new ProfileDecodeError('column chunk length mismatch')
    let n = 0
    for (let i = 0; i < values.length; i++) if (values[i] === values[i]) n++
    return { kind: 'numerical', length, values, integer, types: { number: n } }
  }
  if (kind === KIND.categorical) {
    const strings = r.f64()
    const booleans = r.f64()
    const dictionary: string[] = []
    const size = r.u32()
    for (let i = 0; i < size; i++) dictionary.push(r.string())
    const width = r.u8()
    let codes: Int32Array
    if (width === 1) {
      const bytes = r.bytes()
      codes = new Int32Array(bytes.length)
      for (let i = 0; i < bytes.length; i++) codes[i] = bytes[i] === 255 ? -1 : bytes[i]!
    } else if (width === 4) codes = r.i32s()
    else throw new ProfileDecodeError(`unknown code width ${width}`)
    if (codes.length !== length) throw new ProfileDecodeError('column chunk length mismatch')
    const types: TypeCounts = {}
    if (strings > 0) types.string = strings
    if (booleans > 0) types.boolean = booleans
    return { kind: 'categorical', length, codes, dictionary, types }
  }
  if (kind === KIND.empty) return { kind: 'empty', length }
  if (kind === KIND.opaque) return { kind: 'opaque', length }
  throw new ProfileDecodeError(`unknown column chunk kind ${kind}`)
}

/** The rows of a chunk where `keep[i]` is 1 (same kind, fewer rows). */
export function filterColumnChunk(c: ColumnChunk, keep: Uint8Array): ColumnChunk {
  let n = 0
  for (let i = 0; i < keep.length; i++) n += keep[i]!
  if (n === c.length) return c
  if (c.kind === 'numerical') {
    const values = new Float64Array(n)
    let present = 0
    for (let i = 0, k = 0; i < keep.length; i++) {
      if (!keep[i]) continue
      const v = c.values[i]!
      values[k++] = v
      if (v === v) present++
    }
    // Whether the kept numbers are all integers: recheck (a dropped row may have been the only fraction).
    let integer = true
    for (let i = 0; i < n && integer; i++) if (values[i] === values[i] && !Number.isInteger(values[i]!)) integer = false
    return { kind: 'numerical', length: n, values, integer, types: { number: present } }
  }
  if (c.kind === 'categorical') {
    const codes = new Int32Array(n)
    for (let i = 0, k = 0; i < keep.length; i++) if (keep[i]) codes[k++] = c.codes[i]!
    // Type counts are kept in proportion only when one type is present; otherwise recount is impossible.
    const types = c.types && Object.keys(c.types).length === 1 ? recountTypes(c, codes) : undefined
    if (types === undefined) return { kind: 'opaque', length: n }
    return { kind: 'categorical', length: n, codes, dictionary: c.dictionary, types }
  }
  if (c.kind === 'empty') return { kind: 'empty', length: n }
  return { kind: 'opaque', length: n }
}

function recountTypes(c: CategoricalColumn, codes: Int32Array): TypeCounts {
  let present = 0
  for (let i = 0; i < codes.length; i++) if (codes[i]! >= 0) present++
  const t = Object.keys(c.types ?? { string: 0 })[0] as 'string' | 'boolean'
  return present > 0 ? { [t]: present } : {}
}

/**
 * Concatenates chunks of one field into the column a row-by-row build of the same values would
 * give (`createColumnBuilder`), or `undefined` when that cannot be done exactly from the chunks
 * (an opaque chunk, numbers beside categories): the caller then reads the rows.
 */
export function concatColumnChunks(parts: readonly ColumnChunk[]): Column | undefined {
  let length = 0
  let kind: 'numerical' | 'categorical' | undefined
  for (const p of parts) {
    length += p.length
    if (p.kind === 'opaque' || p.kind === 'mixed' || p.kind === 'unsupported' || p.kind === 'embedding') return undefined
    if (p.kind === 'empty') continue
    if (kind !== undefined && kind !== p.kind) return undefined
    kind = p.kind
  }
  if (kind === undefined) return { kind: 'empty', length }
  if (kind === 'numerical') {
    const values = new Float64Array(length).fill(Number.NaN)
    let integer = true
    let n = 0
    let at = 0
    for (const p of parts) {
      if (p.kind === 'numerical') {
        values.set(p.values, at)
        integer &&= p.integer
        n += p.types?.number ?? 0
      }
      at += p.length
    }
    const out: NumericalColumn = { kind: 'numerical', length, values, integer, types: { number: n } }
    return out
  }
  const codes = new Int32Array(length).fill(-1)
  const dictionary: string[] = []
  const index = new Map<string, number>()
  const types: TypeCounts = {}
  let at = 0
  for (const p of parts) {
    if (p.kind === 'categorical') {
      const remap = Int32Array.from(p.dictionary, (s) => {
        let c = index.get(s)
        if (c === undefined) {
          c = dictionary.length
          index.set(s, c)
          dictionary.push(s)
        }
        return c
      })
      for (let i = 0; i < p.length; i++) {
        const c = p.codes[i]!
        codes[at + i] = c >= 0 ? remap[c]! : -1
      }
      for (const [t, v] of Object.entries(p.types ?? {})) types[t as 'string'] = (types[t as 'string'] ?? 0) + (v ?? 0)
    }
    at += p.length
  }
  return { kind: 'categorical', length, codes, dictionary, types }
}
