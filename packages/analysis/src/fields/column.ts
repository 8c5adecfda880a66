/** What a field holds, as far as drift is concerned. */
export type ColumnKind = 'numerical' | 'categorical' | 'embedding'

/** JSON value types seen in a field (`tensor` = `{dtype, shape, data}`, `array` = a number array). */
export type ValueType = 'number' | 'string' | 'boolean' | 'tensor' | 'array' | 'object'

/** Count of non-missing values per JSON type. */
export type TypeCounts = Partial<Record<ValueType, number>>

/** Numbers, one slot per row; `NaN` marks a missing value. */
export interface NumericalColumn {
  kind: 'numerical'
  /** Rows (events), missing included. */
  length: number
  values: Float64Array
  /** True when every present value is an integer (numpy then keeps bins at least 1 wide). */
  integer: boolean
  types?: TypeCounts
}

/** Categories, dictionary-coded; code `-1` marks a missing value. */
export interface CategoricalColumn {
  kind: 'categorical'
  length: number
  codes: Int32Array
  /** Category of each code. Booleans appear as `"true"` / `"false"`. */
  dictionary: string[]
  types?: TypeCounts
}

/** Vectors of one dimension, row-major in one matrix; `present[i] === 0` marks a missing row. */
export interface EmbeddingColumn {
  kind: 'embedding'
  length: number
  dim: number
  /** `length × dim` values; rows that are missing hold zeros. */
  data: Float32Array
  present: Uint8Array
  types?: TypeCounts
}

/** A field with no value in any row. */
export interface EmptyColumn {
  kind: 'empty'
  length: number
}

/** A field whose values are of incompatible types (numbers and strings, embeddings of two sizes). */
export interface MixedColumn {
  kind: 'mixed'
  length: number
  types: TypeCounts
  /** Up to a few row indices per type, for examples. */
  examples: Partial<Record<ValueType, number[]>>
  message: string
}

/** A field whose values cannot be analysed (objects, arrays of non-numbers). */
export interface UnsupportedColumn {
  kind: 'unsupported'
  length: number
  types: TypeCounts
  message: string
}

/** One field over the rows of a window. */
export type Column = NumericalColumn | CategoricalColumn | EmbeddingColumn | EmptyColumn | MixedColumn | UnsupportedColumn

/** Builds a numerical column from numbers (`NaN`, `null` or `undefined` for missing). */
export function numericalColumn(values: Float64Array | ArrayLike<number | null | undefined>): NumericalColumn {
  const out = values instanceof Float64Array ? values : Float64Array.from(values, (v) => (typeof v === 'number' ? v : Number.NaN))
  let integer = true
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!
    if (!Number.isFinite(v)) {
      out[i] = Number.NaN
      continue
    }
    if (integer && !Number.isInteger(v)) integer = false
  }
  return { kind: 'numerical', length: out.length, values: out, integer }
}

/** Builds a categorical column from strings (`null` or `undefined` for missing). */
export function categoricalColumn(values: ArrayLike<string | null | undefined>): CategoricalColumn {
  const index = new Map<string, number>()
  const dictionary: string[] = []
  const codes = new Int32Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null || v === undefined) {
      codes[i] = -1
      continue
    }
    let c = index.get(v)
    if (c === undefined) {
      c = dictionary.length
      index.set(v, c)
      dictionary.push(v)
    }
    codes[i] = c
  }
  return { kind: 'categorical', length: values.length, codes, dictionary }
}

/** Builds an embedding column from rows of equal length (`null` or `undefined` for missing). */
export function embeddingColumn(rows: ArrayLike<ArrayLike<number> | null | undefined>, dim?: number): EmbeddingColumn {
  let d = dim ?? 0
  if (dim === undefined) {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]
      if (r) {
        d = r.length
        break
      }
    }
  }
  const data = new Float32Array(rows.length * d)
  const present = new Uint8Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]
    if (!r) continue
    if (r.length !== d) throw new RangeError(`embedding row ${i} has ${r.length} values, expected ${d}`)
    for (let j = 0; j < d; j++) data[i * d + j] = r[j]!
    present[i] = 1
  }
  return { kind: 'embedding', length: rows.length, dim: d, data, present }
}

/** Number of rows holding a value. */
export function presentCount(column: Column): number {
  switch (column.kind) {
    case 'numerical': {
      let n = 0
      for (let i = 0; i < column.values.length; i++) if (!Number.isNaN(column.values[i]!)) n++
      return n
    }
    case 'categorical': {
      let n = 0
      for (let i = 0; i < column.codes.length; i++) if (column.codes[i]! >= 0) n++
      return n
    }
    case 'embedding': {
      let n = 0
      for (let i = 0; i < column.present.length; i++) n += column.present[i]!
      return n
    }
    case 'empty':
      return 0
    default: {
      let n = 0
      for (const c of Object.values(column.types)) n += c ?? 0
      return n
    }
  }
}
