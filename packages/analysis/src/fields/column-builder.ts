import { looksLikeTensor, type Tensor } from '@inferlog/schema'
import type { Column, ColumnKind, TypeCounts, ValueType } from './column.js'
import { decodeTensorFloat32, tensorEmbeddingDim } from './tensor-decode.js'

/** Options of {@link createColumnBuilder}. */
export interface ColumnBuilderOptions {
  /**
   * Force a kind instead of inferring it from the values. `categorical` accepts numbers too
   * (coded by their decimal string: a zip code, a class id). Default: inferred.
   */
  kind?: ColumnKind
  /** Row indices kept per value type as examples of a mixed column. Default 5. */
  maxExamples?: number
}

/** Accumulates one field's values row by row into a compact {@link Column}. */
export interface ColumnBuilder {
  /** Appends the value of the next row (`undefined` / `null` / non-finite number = missing). */
  push(value: unknown): void
  /** Number of rows pushed so far. */
  readonly length: number
  /** The column of the rows pushed so far. */
  finish(): Column
}

function typeOf(value: unknown): ValueType | undefined {
  if (value === null || value === undefined) return undefined
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? 'number' : undefined
    case 'string':
      return 'string'
    case 'boolean':
      return 'boolean'
    case 'object':
      if (Array.isArray(value)) return value.every((v) => typeof v === 'number') ? 'array' : 'object'
      return looksLikeTensor(value) ? 'tensor' : 'object'
    default:
      return 'object'
  }
}

function kindOf(t: ValueType, forced: ColumnKind | undefined): ColumnKind | undefined {
  if (forced === 'categorical' && (t === 'number' || t === 'string' || t === 'boolean')) return 'categorical'
  if (t === 'number') return 'numerical'
  if (t === 'string' || t === 'boolean') return 'categorical'
  if (t === 'tensor' || t === 'array') return 'embedding'
  return undefined
}

/**
 * Creates a builder that classifies a field as it goes: numbers → `numerical`, strings and booleans
 * → `categorical`, tensors `{dtype, shape, data}` and number arrays → `embedding` (a `[n, d]` tensor
 * is mean-pooled to `[d]`). Values of an incompatible type (or embeddings of another dimension)
 * turn the column `mixed`; objects make it `unsupported`. Storage grows by doubling typed arrays.
 */
export function createColumnBuilder(options: ColumnBuilderOptions = {}): ColumnBuilder {
  const forced = options.kind
  const maxExamples = options.maxExamples ?? 5
  const types: TypeCounts = {}
  const examples: Partial<Record<ValueType, number[]>> = {}
  let rows = 0
  let kind: ColumnKind | undefined
  let broken: { kind: 'mixed' | 'unsupported'; message: string } | undefined
  // numerical
  let nums = new Float64Array(0)
  let integer = true
  // categorical
  let codes = new Int32Array(0)
  const dictionary: string[] = []
  const index = new Map<string, number>()
  // embedding
  let dim = 0
  let emb = new Float32Array(0)
  let present = new Uint8Array(0)

  function grow(): void {
    const cap = Math.max(1024, rows * 2)
    if (kind === 'numerical' && nums.length <= rows) {
      const next = new Float64Array(cap).fill(Number.NaN)
      next.set(nums)
      nums = next
    } else if (kind === 'categorical' && codes.length <= rows) {
      const next = new Int32Array(cap).fill(-1)
      next.set(codes)
      codes = next
    } else if (kind === 'embedding' && present.length <= rows) {
      const nextPresent = new Uint8Array(cap)
      nextPresent.set(present)
      present = nextPresent
      const next = new Float32Array(cap * dim)
      next.set(emb)
      emb = next
    }
  }

  function note(t: ValueType): void {
    types[t] = (types[t] ?? 0) + 1
    const list = (examples[t] ??= [])
    if (list.length < maxExamples) list.push(rows)
  }

  function breakWith(k: 'mixed' | 'unsupported', message: string): void {
    broken ??= { kind: k, message }
    nums = new Float64Array(0)
    codes = new Int32Array(0)
    emb = new Float32Array(0)
  }

  function pushEmbedding(value: unknown, t: ValueType): void {
    let vec: Float32Array | undefined
    let rowsInValue = 1
    if (t === 'array') vec = Float32Array.from(value as number[])
    else {
      const tensor = value as Tensor
      vec = decodeTensorFloat32(tensor)
      if (vec && tensor.shape.length > 1) rowsInValue = vec.length / tensorEmbeddingDim(tensor)
    }
    if (!vec) {
      breakWith('unsupported', `row ${rows}: malformed tensor`)
      return
    }
    const d = vec.length / rowsInValue
    if (dim === 0 && present.length === 0) dim = d
    if (d !== dim) {
      breakWith('mixed', `embedding dimensions differ: ${dim} and ${d} (row ${rows})`)
      return
    }
    grow()
    const base = rows * dim
    if (rowsInValue === 1) emb.set(vec, base)
    else {
      for (let r = 0; r < rowsInValue; r++) for (let j = 0; j < dim; j++) emb[base + j]! += vec[r * dim + j]! / rowsInValue
    }
    present[rows] = 1
  }

  return {
    get length() {
      return rows
    },
    push(value: unknown): void {
      const t = typeOf(value)
      if (t !== undefined) {
        note(t)
        if (!broken) {
          const k = kindOf(t, forced)
          if (k === undefined) breakWith('unsupported', `values of type ${t} cannot be analysed`)
          else if (forced !== undefined && k !== forced) breakWith('mixed', `expected ${forced} values, found ${t} (row ${rows})`)
          else if (kind === undefined) kind = k
          else if (kind !== k) breakWith('mixed', `${kind} and ${k} values in one field (row ${rows})`)
          if (!broken) {
            if (kind === 'numerical') {
              grow()
              const v = value as number
              nums[rows] = v
              if (integer && !Number.isInteger(v)) integer = false
            } else if (kind === 'categorical') {
              grow()
              const s = typeof value === 'string' ? value : String(value)
              let c = index.get(s)
              if (c === undefined) {
                c = dictionary.length
                index.set(s, c)
                dictionary.push(s)
              }
              codes[rows] = c
            } else pushEmbedding(value, t)
          }
        }
      }
      rows++
    },
    finish(): Column {
      if (broken) {
        if (broken.kind === 'unsupported') return { kind: 'unsupported', length: rows, types: { ...types }, message: broken.message }
        return { kind: 'mixed', length: rows, types: { ...types }, examples: structuredClone(examples), message: broken.message }
      }
      const typeCopy = { ...types }
      switch (kind) {
        case undefined:
          return { kind: 'empty', length: rows }
        case 'numerical': {
          const values = new Float64Array(rows).fill(Number.NaN)
          values.set(nums.subarray(0, Math.min(rows, nums.length)))
          return { kind: 'numerical', length: rows, values, integer, types: typeCopy }
        }
        case 'categorical': {
          const out = new Int32Array(rows).fill(-1)
          out.set(codes.subarray(0, Math.min(rows, codes.length)))
          return { kind: 'categorical', length: rows, codes: out, dictionary: dictionary.slice(), types: typeCopy }
        }
        case 'embedding': {
          const p = new Uint8Array(rows)
          p.set(present.subarray(0, Math.min(rows, present.length)))
          const data = new Float32Array(rows * dim)
          data.set(emb.subarray(0, Math.min(rows * dim, emb.length)))
          return { kind: 'embedding', length: rows, dim, data, present: p, types: typeCopy }
        }
      }
    },
  }
}
