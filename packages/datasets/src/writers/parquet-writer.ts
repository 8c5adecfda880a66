import { join } from 'node:path'
import { ByteWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer'
import type { PipelineRow } from '../build/pipeline.js'
import type { DatasetPlan } from '../spec/compile-plan.js'
import { FileSink, type WrittenFile } from './file-sink.js'
import type { FormatWriter } from './format-writer.js'
import { type PackedCells, type PackedColumn, packedKind } from './packed-cells.js'
import type { Cell, ColumnType, TabularLayout } from './tabular-layout.js'

const FLUSH_BYTES = 1 << 20

/** hyparquet-writer's byte writer, draining into a hashing {@link FileSink} past 1 MiB instead of growing. */
class SinkByteWriter extends ByteWriter {
  readonly #sink: FileSink

  constructor(sink: FileSink) {
    super(FLUSH_BYTES * 2)
    this.#sink = sink
  }

  override ensure(size: number): void {
    if (this.index > FLUSH_BYTES) this.flush()
    super.ensure(size)
  }

  flush(): void {
    this.#sink.writeBytes(new Uint8Array(this.buffer, 0, this.index))
    this.index = 0
  }

  override finish(): void {
    this.flush()
  }
}

function element(name: string, type: ColumnType): SchemaElement {
  const base = { name, repetition_type: 'OPTIONAL' as const }
  switch (type) {
    case 'double':
      return { ...base, type: 'DOUBLE' }
    case 'int64':
      return { ...base, type: 'INT64' }
    case 'boolean':
      return { ...base, type: 'BOOLEAN' }
    case 'timestamp':
      return { ...base, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' }
    default:
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8' }
  }
}

/** Distinct strings a column codes per split before it holds its values as they are (high-cardinality columns: ids, free text). */
const INTERN_LIMIT = 1_024

/**
 * One column of the row group being filled, in the form that holds no object per row until the
 * group is encoded: doubles and timestamps in a Float64Array, int64 in a BigInt64Array, booleans
 * in a Uint8Array (0 false, 1 true, 2 null), strings as codes into the column's distinct strings
 * (one copy each, up to {@link INTERN_LIMIT} per split) in an Int32Array (-1 null), then, once a
 * column has more distinct strings, in an array made once for the whole group. Every buffer is
 * made once per split and reused group after group (hyparquet-writer copies each group's values
 * before it encodes them). A row group outlives several young-generation collections, so
 * whatever it holds is promoted: arrays grown by `push` (each growth a new copy, the old one
 * garbage), and a boolean or string cell per row, were most of the writer's share of a parquet
 * build's promoted bytes. The arrays of cells hyparquet-writer takes are made when the group is
 * written and die with it.
 */
class GroupColumn {
  readonly kind: ReturnType<typeof packedKind>
  readonly #capacity: number
  readonly #numbers: Float64Array | undefined
  readonly #bigints: BigInt64Array | undefined
  /** Null flags of numbers and bigints; boolean cells. */
  readonly #bytes: Uint8Array | undefined
  /** Codes of string cells into {@link #strings} while the column codes its strings. */
  readonly #codes: Int32Array | undefined
  #strings: string[] = []
  #intern: Map<string, number> | undefined
  /** The previous string cell and its code: the same text row after row is compared, not hashed. */
  #lastText: string | undefined
  #lastCode = -1
  /** String cells as they are, once the column has more than {@link INTERN_LIMIT} distinct strings. */
  #plain: (string | null)[] | undefined
  #hasNull = false
  #n = 0

  constructor(type: ColumnType, capacity: number) {
    this.kind = packedKind(type)
    this.#capacity = capacity
    if (this.kind === 'number') this.#numbers = new Float64Array(capacity)
    if (this.kind === 'bigint') this.#bigints = new BigInt64Array(capacity)
    if (this.kind !== 'string') this.#bytes = new Uint8Array(capacity)
    else {
      this.#codes = new Int32Array(capacity)
      this.#intern = new Map()
    }
  }

  #pushString(v: string | null): void {
    const n = this.#n++
    const plain = this.#plain
    if (plain !== undefined) {
      plain[n] = v
      return
    }
    if (v === null) {
      this.#codes![n] = -1
      return
    }
    if (v === this.#lastText) {
      this.#codes![n] = this.#lastCode
      return
    }
    const intern = this.#intern!
    let code = intern.get(v)
    if (code === undefined) {
      if (intern.size >= INTERN_LIMIT) {
        // Too many distinct values to code: this group's cells so far as strings, then as they come.
        this.#n = n
        this.#toPlain()
        this.#plain![n] = v
        this.#n = n + 1
        return
      }
      code = this.#strings.length
      this.#strings.push(v)
      intern.set(v, code)
    }
    this.#lastText = v
    this.#lastCode = code
    this.#codes![n] = code
  }

  /** Stops coding: the group's cells so far become strings; later groups hold theirs as they are. */
  #toPlain(): void {
    const plain = new Array<string | null>(this.#capacity)
    const codes = this.#codes!
    const strings = this.#strings
    for (let i = 0; i < this.#n; i++) {
      const c = codes[i]!
      plain[i] = c < 0 ? null : strings[c]!
    }
    this.#plain = plain
    this.#intern = undefined
    this.#strings = []
    this.#lastText = undefined
  }

  push(cell: Cell): void {
    switch (this.kind) {
      case 'number':
      case 'bigint': {
        const n = this.#n++
        this.#bytes![n] = cell === null ? 1 : 0
        if (cell === null) this.#hasNull = true
        else if (this.kind === 'number') this.#numbers![n] = cell as number
        else this.#bigints![n] = cell as bigint
        return
      }
      case 'boolean':
        this.#bytes![this.#n++] = cell === null ? 2 : cell ? 1 : 0
        return
      case 'string':
        this.#pushString(cell as string | null)
        return
    }
  }

  /** Row `row` of a packed column of the same kind. */
  pushPacked(c: PackedColumn, row: number): void {
    switch (c.kind) {
      case 'number':
      case 'bigint': {
        const n = this.#n++
        const isNull = c.nulls !== undefined && c.nulls[row] === 1
        this.#bytes![n] = isNull ? 1 : 0
        if (isNull) this.#hasNull = true
        else if (c.kind === 'number') this.#numbers![n] = c.values[row]!
        else this.#bigints![n] = c.values[row]!
        return
      }
      case 'boolean':
        this.#bytes![this.#n++] = c.values[row]!
        return
      case 'string':
        this.#pushString(c.values[row]!)
        return
      case 'coded': {
        const code = c.codes[row]!
        this.#pushString(code < 0 ? null : c.strings[code]!)
        return
      }
    }
  }

  /** The group's values as hyparquet-writer takes them; the column starts empty again (the values stay valid until the next push). */
  take(): ArrayLike<unknown> {
    const n = this.#n
    const hasNull = this.#hasNull
    this.#n = 0
    this.#hasNull = false
    switch (this.kind) {
      case 'boolean': {
        const bytes = this.#bytes!
        const out = new Array<boolean | null>(n)
        for (let i = 0; i < n; i++) {
          const b = bytes[i]!
          out[i] = b === 2 ? null : b === 1
        }
        return out
      }
      case 'string': {
        const plain = this.#plain
        if (plain !== undefined) return n === plain.length ? plain : plain.slice(0, n)
        const codes = this.#codes!
        const strings = this.#strings
        const out = new Array<string | null>(n)
        for (let i = 0; i < n; i++) {
          const c = codes[i]!
          out[i] = c < 0 ? null : strings[c]!
        }
        return out
      }
    }
    const values = this.kind === 'number' ? this.#numbers!.subarray(0, n) : this.#bigints!.subarray(0, n)
    if (!hasNull) return values
    const nulls = this.#bytes!
    const out = new Array<number | bigint | null>(n)
    for (let i = 0; i < n; i++) out[i] = nulls[i] === 1 ? null : values[i]!
    return out
  }
}

/** Options of {@link createParquetWriter}. */
export interface ParquetWriterOptions {
  /** Rows per row group (the rows held in memory per split); default 8 192 (measured on the 1M-event bench in a build worker: 16 384 peaked at 329 MB RSS). */
  rowGroupSize?: number
}

/**
 * Parquet, one file per split (`train.parquet`, ...), written as it goes: rows are buffered per
 * column up to one row group, encoded (snappy) and flushed, so memory holds one row group per split
 * at most. Schema from the {@link TabularLayout}: double → DOUBLE, int64 → INT64, boolean →
 * BOOLEAN, string/json → UTF8 BYTE_ARRAY, ts → INT64 TIMESTAMP_MILLIS; every column optional.
 */
export function createParquetWriter(
  plan: DatasetPlan,
  dir: string,
  layout: TabularLayout,
  options: ParquetWriterOptions = {},
): FormatWriter {
  const groupRows = options.rowGroupSize ?? 8_192
  const schema: SchemaElement[] = [
    { name: 'root', num_children: layout.columns.length },
    ...layout.columns.map((c) => element(c.name, c.type)),
  ]
  const splits = new Map(
    plan.split.names.map((split) => {
      const name = `${split}.parquet`
      const sink = new FileSink(join(dir, name))
      const writer = new ParquetWriter({ writer: new SinkByteWriter(sink), schema, createdBy: 'inferlog datasets' })
      const columns = layout.columns.map((c) => new GroupColumn(c.type, groupRows))
      return [split, { name, sink, writer, rows: 0, columns, count: 0 }]
    }),
  )
  type Split = typeof splits extends Map<string, infer S> ? S : never
  const flushGroup = (s: Split) => {
    if (s.count === 0) return
    const columnData = layout.columns.map((c, i) => ({ name: c.name, data: s.columns[i]!.take() }))
    void s.writer.write({ columnData: columnData as never, rowGroupSize: s.count })
    s.count = 0
  }
  // One row's cells, reused row after row.
  const scratch: Cell[] = []
  return {
    skipped: {},
    write(row: PipelineRow) {
      const s = splits.get(row.split)!
      const cells = layout.cells(row, scratch)
      const columns = s.columns
      for (let i = 0; i < cells.length; i++) columns[i]!.push(cells[i]!)
      s.count++
      s.rows++
      if (s.count >= groupRows) flushGroup(s)
      return 1
    },
    writePacked(split: string, packed: PackedCells, row: number) {
      const s = splits.get(split)!
      const from = packed.columns
      const columns = s.columns
      for (let i = 0; i < from.length; i++) columns[i]!.pushPacked(from[i]!, row)
      s.count++
      s.rows++
      if (s.count >= groupRows) flushGroup(s)
      return 1
    },
    close(): WrittenFile[] {
      return [...splits].map(([split, s]) => {
        flushGroup(s)
        void s.writer.finish()
        return { name: s.name, split, rows: s.rows, ...s.sink.close() }
      })
    },
    abandon() {
      for (const s of splits.values()) s.sink.abandon()
    },
  }
}
