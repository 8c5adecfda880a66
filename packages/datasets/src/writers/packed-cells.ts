import type { Cell, ColumnType } from './tabular-layout.js'

/**
 * One column of tabular cells in a form that crosses threads cheaply: numbers and bigints in typed
 * arrays (their buffers transferable) with a null mask when there is a null, booleans as bytes
 * (0 false, 1 true, 2 null), strings as an array, or, when few are distinct, each distinct string
 * once and a code per row (-1 null): one copy to clone, and rows that share it on the other side.
 * {@link cellAt} gives back the exact cell.
 */
export type PackedColumn =
  | { kind: 'number'; values: Float64Array; nulls: Uint8Array | undefined }
  | { kind: 'bigint'; values: BigInt64Array; nulls: Uint8Array | undefined }
  | { kind: 'boolean'; values: Uint8Array }
  | { kind: 'string'; values: (string | null)[] }
  | { kind: 'coded'; strings: string[]; codes: Int32Array }

/** Strings coded per packed column: tried on the first rows, kept while at most half of them are distinct. */
const CODED_PROBE = 64

/** The rows of one split of one piece, column by column. */
export interface PackedCells {
  rows: number
  columns: PackedColumn[]
}

type Kind = Exclude<PackedColumn['kind'], 'coded'>

/** The packed kind of a column type: double and timestamp → number, int64 → bigint, boolean, else string. */
export function packedKind(type: ColumnType): Kind {
  switch (type) {
    case 'double':
    case 'timestamp':
      return 'number'
    case 'int64':
      return 'bigint'
    case 'boolean':
      return 'boolean'
    default:
      return 'string'
  }
}

/** The cell of row `i`. */
export function cellAt(c: PackedColumn, i: number): Cell {
  switch (c.kind) {
    case 'number':
      return c.nulls !== undefined && c.nulls[i] === 1 ? null : c.values[i]!
    case 'bigint':
      return c.nulls !== undefined && c.nulls[i] === 1 ? null : c.values[i]!
    case 'boolean': {
      const v = c.values[i]!
      return v === 2 ? null : v === 1
    }
    case 'string':
      return c.values[i]!
    case 'coded': {
      const code = c.codes[i]!
      return code < 0 ? null : c.strings[code]!
    }
  }
}

/** Strings as codes when few are distinct (at most half of the first {@link CODED_PROBE}), else as they are. */
function packStrings(cells: Cell[], n: number): PackedColumn {
  const at = new Map<string, number>()
  const strings: string[] = []
  const codes = new Int32Array(n)
  for (let r = 0; r < n; r++) {
    const v = cells[r] as string | null | undefined
    if (v === null || v === undefined) {
      codes[r] = -1
      continue
    }
    let code = at.get(v)
    if (code === undefined) {
      code = strings.length
      strings.push(v)
      at.set(v, code)
      if (strings.length * 2 > Math.max(r + 1, CODED_PROBE)) return { kind: 'string', values: cells as (string | null)[] }
    }
    codes[r] = code
  }
  return { kind: 'coded', strings, codes }
}

/** Rows of cells collected column by column, then packed. */
export class CellColumns {
  readonly #kinds: Kind[]
  #cols: Cell[][]
  #rows = 0

  constructor(types: readonly ColumnType[]) {
    this.#kinds = types.map(packedKind)
    this.#cols = types.map(() => [])
  }

  get rows(): number {
    return this.#rows
  }

  add(cells: readonly Cell[]): void {
    for (let i = 0; i < cells.length; i++) this.#cols[i]!.push(cells[i]!)
    this.#rows++
  }

  /** The collected rows, packed; starts empty again. */
  pack(): PackedCells {
    const n = this.#rows
    const columns = this.#cols.map((cells, i): PackedColumn => {
      switch (this.#kinds[i]!) {
        case 'number': {
          const values = new Float64Array(n)
          let nulls: Uint8Array | undefined
          for (let r = 0; r < n; r++) {
            const v = cells[r]
            if (v === null || v === undefined) (nulls ??= new Uint8Array(n))[r] = 1
            else values[r] = v as number
          }
          return { kind: 'number', values, nulls }
        }
        case 'bigint': {
          const values = new BigInt64Array(n)
          let nulls: Uint8Array | undefined
          for (let r = 0; r < n; r++) {
            const v = cells[r]
            if (v === null || v === undefined) (nulls ??= new Uint8Array(n))[r] = 1
            else values[r] = v as bigint
          }
          return { kind: 'bigint', values, nulls }
        }
        case 'boolean': {
          const values = new Uint8Array(n)
          for (let r = 0; r < n; r++) {
            const v = cells[r]
            values[r] = v === null || v === undefined ? 2 : v ? 1 : 0
          }
          return { kind: 'boolean', values }
        }
        case 'string':
          return packStrings(cells, n)
      }
    })
    this.#cols = this.#kinds.map(() => [])
    this.#rows = 0
    return { rows: n, columns }
  }
}

/** The buffers of packed cells that can be transferred. */
export function packedBuffers(p: PackedCells): ArrayBuffer[] {
  const out: ArrayBuffer[] = []
  for (const c of p.columns) {
    if (c.kind === 'string') continue
    if (c.kind === 'coded') {
      out.push(c.codes.buffer as ArrayBuffer)
      continue
    }
    out.push(c.values.buffer as ArrayBuffer)
    if (c.kind !== 'boolean' && c.nulls !== undefined) out.push(c.nulls.buffer as ArrayBuffer)
  }
  return out
}
