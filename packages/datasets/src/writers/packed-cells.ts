import type { Cell, ColumnType } from './tabular-layout.js'

/**
 * One column of tabular cells in a form that crosses threads cheaply: numbers and bigints in typed
 * arrays (their buffers transferable) with a null mask when there is a null, booleans as bytes
 * (0 false, 1 true, 2 null), strings as an array. {@link cellAt} gives back the exact cell.
 */
export type PackedColumn =
  | { kind: 'number'; values: Float64Array; nulls: Uint8Array | undefined }
  | { kind: 'bigint'; values: BigInt64Array; nulls: Uint8Array | undefined }
  | { kind: 'boolean'; values: Uint8Array }
  | { kind: 'string'; values: (string | null)[] }

/** The rows of one split of one piece, column by column. */
export interface PackedCells {
  rows: number
  columns: PackedColumn[]
}

type Kind = PackedColumn['kind']

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
  }
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
          return { kind: 'string', values: cells as (string | null)[] }
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
    out.push(c.values.buffer as ArrayBuffer)
    if (c.kind !== 'boolean' && c.nulls !== undefined) out.push(c.nulls.buffer as ArrayBuffer)
  }
  return out
}
