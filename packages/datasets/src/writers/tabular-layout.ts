import type { PipelineRow } from '../build/pipeline.js'
import type { DatasetPlan } from '../spec/compile-plan.js'
import type { TabularType } from '../spec/dataset-spec.js'

/** A column type of the tabular formats. `json` is UTF-8 text holding JSON; `timestamp` is epoch ms. */
export type ColumnType = TabularType | 'timestamp'

/** One output column. */
export interface TabularColumn {
  name: string
  type: ColumnType
}

/** A cell as the writers take it. */
export type Cell = number | bigint | boolean | string | null

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function kindOf(v: unknown): TabularType | undefined {
  if (v === null || v === undefined) return undefined
  if (typeof v === 'number') return 'double'
  if (typeof v === 'boolean') return 'boolean'
  if (typeof v === 'string') return 'string'
  return 'json'
}

/** {@link kindOf} of the value a JSON text holds, read from its first character (no parse). */
function kindOfJson(json: string): TabularType | undefined {
  let i = 0
  let c = json.charCodeAt(0)
  while (c === 32 || c === 9 || c === 10 || c === 13) c = json.charCodeAt(++i)
  if (c === 110) return undefined // null
  if (c === 116 || c === 102) return 'boolean'
  if (c === 34) return 'string'
  if (c === 123 || c === 91) return 'json'
  return 'double'
}

/** Marks a column that has only been named so far (a prefix of others), not seen as a leaf. */
const UNSEEN = 0
/** A column seen, only with null values so far. */
const SEEN_NULL = 1

/** What {@link TypeInference} knows of one column. */
interface InferredColumn {
  readonly name: string
  /** {@link UNSEEN}, {@link SEEN_NULL}, or the kind of its non-null values ('json' once mixed). */
  kind: typeof UNSEEN | typeof SEEN_NULL | TabularType
  /** The row that last set {@link value} (leaves of one row sharing a name: the last one counts). */
  row: number
  value: unknown
}

/**
 * One step of the dotted path of an input leaf (`input`, `input.address`, ...): its children by
 * key and the column it names, so a row's leaves are found by one lookup per key instead of
 * building (or looking up) the dotted name and then the column.
 */
interface PathNode<T> {
  readonly name: string
  children: Map<string, PathNode<T>> | undefined
  /** Undefined until needed. */
  slot: T | undefined
}

function child<T>(node: PathNode<T>, key: string): PathNode<T> {
  node.children ??= new Map()
  let c = node.children.get(key)
  if (c === undefined) {
    c = { name: `${node.name}.${key}`, children: undefined, slot: undefined }
    node.children.set(key, c)
  }
  return c
}

/** Input paths a {@link TabularLayout} remembers before it forgets them all (and learns them again). */
const PATH_NODES = 10_000

/**
 * Learns column types over every row of the counting pass: numbers → double, booleans → boolean,
 * strings → string, objects/arrays or any mix → json; a column that is always null → string.
 * Input leaves are the dotted paths of nested objects (arrays kept whole); two leaves of one row
 * with the same dotted name (`{"a.b": 1, "a": {"b": 2}}`) count as the later one.
 * Because the pass reads every row the build writes, the types cannot change mid-file.
 */
export class TypeInference {
  /** Columns in the order they were first seen. */
  readonly #columns: InferredColumn[] = []
  readonly #byName = new Map<string, InferredColumn>()
  readonly #root: PathNode<InferredColumn> = { name: 'input', children: undefined, slot: undefined }
  /** The non-implicit feedback columns: index into `row.values`, and their inferred column. */
  readonly #feedback: { index: number; column: InferredColumn }[]
  readonly #label: InferredColumn | undefined
  /** This row's input leaves, in first-seen order (reused). */
  readonly #touched: InferredColumn[] = []
  #row = 0
  #changes = 0

  constructor(plan: DatasetPlan) {
    this.#feedback = plan.columns.flatMap((c, index) => (c.implicit ? [] : [{ index, column: this.#column(`feedback.${c.column}`) }]))
    this.#label = plan.label ? this.#column('label') : undefined
  }

  /** How many times a column appeared or changed type so far: equal counts, equal {@link types}. */
  get changes(): number {
    return this.#changes
  }

  #column(name: string): InferredColumn {
    let c = this.#byName.get(name)
    if (c === undefined) {
      c = { name, kind: UNSEEN, row: -1, value: undefined }
      this.#byName.set(name, c)
    }
    return c
  }

  #see(c: InferredColumn, k: TabularType | undefined): void {
    const prev = c.kind
    if (prev === UNSEEN) {
      c.kind = k ?? SEEN_NULL
      this.#columns.push(c)
      this.#changes++
      return
    }
    if (k !== undefined && prev !== k && prev !== 'json') {
      c.kind = prev === SEEN_NULL ? k : 'json'
      this.#changes++
    }
  }

  #leaves(value: unknown, node: PathNode<InferredColumn>): void {
    if (isObj(value)) {
      for (const key of Object.keys(value)) this.#leaves(value[key], child(node, key))
      return
    }
    const c = (node.slot ??= this.#column(node.name))
    if (c.row !== this.#row) {
      c.row = this.#row
      this.#touched.push(c)
    }
    c.value = value
  }

  observe(row: PipelineRow): void {
    this.#row++
    const touched = this.#touched
    touched.length = 0
    this.#leaves(row.event.get('input'), this.#root)
    for (let i = 0; i < touched.length; i++) {
      const c = touched[i]!
      this.#see(c, kindOf(c.value))
      c.value = undefined
    }
    for (const f of this.#feedback) this.#see(f.column, kindOfJson(row.values[f.index]!))
    if (row.label !== undefined) this.#see(this.#label!, kindOfJson(row.label))
  }

  /**
   * What was learnt, as plain data: each column seen and the kind of its values so far (`null`
   * when only nulls), for {@link merge} into the inference of other rows.
   */
  kinds(): [string, TabularType | null][] {
    return this.#columns.map((c) => [c.name, typeof c.kind === 'number' ? null : c.kind])
  }

  /**
   * Takes in what another inference learnt of other rows ({@link kinds}): the types become those
   * of both sets of rows, whatever the order they are merged in (the order of the columns in
   * {@link types} may differ, not their types).
   */
  merge(kinds: readonly (readonly [string, TabularType | null])[]): void {
    for (const [name, kind] of kinds) this.#see(this.#column(name), kind ?? undefined)
  }

  /** Column name → type, in the order the columns were first seen. */
  types(): Map<string, TabularType> {
    return new Map(this.#columns.map((c) => [c.name, typeof c.kind === 'number' ? 'string' : c.kind]))
  }
}

/**
 * The same text, not holding on to any larger string: a source's event id is often a slice of the
 * stored row it was cut from (V8 keeps the whole row alive while the slice lives), and the `id`
 * cells of a parquet row group live until the group is written (8 192 rows per split): held as
 * slices they kept every row's stored text, ~1.2 KB each, alive past young-generation collections
 * (promoted, then collected by full collections; most of a parquet build's garbage-collector time).
 * Concatenating makes a new string, which `slice` flattens into a copy of the id alone.
 */
export function detached(s: string): string {
  return ` ${s}`.slice(1)
}

function convert(type: ColumnType, v: unknown): Cell {
  if (v === null || v === undefined) return null
  switch (type) {
    case 'double':
      return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : null
    case 'int64':
      return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : null
    case 'boolean':
      return typeof v === 'boolean' ? v : null
    case 'string':
      return typeof v === 'string' ? v : JSON.stringify(v)
    case 'json':
      return JSON.stringify(v)
    case 'timestamp':
      return typeof v === 'number' ? v : null
  }
}

/**
 * The columns of a parquet/csv row: `id`, `ts`, `model`, `version`, the `input.*` features (sorted),
 * `feedback.COLUMN` (sorted), `label` when the spec has one, `weight`, `split`. Types come from the
 * spec's `columns` (undeclared features are left out; undeclared feedback/label columns are json)
 * or from {@link TypeInference}.
 */
export class TabularLayout {
  readonly columns: TabularColumn[]
  readonly #features: TabularColumn[]
  readonly #feedback: { column: TabularColumn; index: number }[]
  readonly #label: TabularColumn | undefined
  readonly #models = new Map<string, [string | null, string | null]>()
  /** Feature column name → its index among the features. */
  readonly #featureIndex: Map<string, number>
  /** The input's dotted paths seen so far, each with its feature index (-1: not a feature); see {@link PATH_NODES}. */
  #root: PathNode<number> = { name: 'input', children: undefined, slot: undefined }
  #nodes = 0
  /** The leaves of one row's input, by feature index: reused row after row (emptied before each). */
  readonly #leafSlots: unknown[]

  constructor(plan: DatasetPlan, types: Map<string, TabularType>) {
    const typeOf = (name: string): TabularType => types.get(name) ?? 'json'
    this.#features = [...types.keys()]
      .filter((n) => n === 'input' || n.startsWith('input.'))
      .sort()
      .map((name) => ({ name, type: typeOf(name) }))
    this.#featureIndex = new Map(this.#features.map((f, i) => [f.name, i]))
    this.#leafSlots = new Array<unknown>(this.#features.length).fill(undefined)
    this.#feedback = plan.columns
      .map((c, index) => ({ c, index }))
      .filter(({ c }) => !c.implicit)
      .map(({ c, index }) => ({ column: { name: `feedback.${c.column}`, type: typeOf(`feedback.${c.column}`) }, index }))
    this.#label = plan.label ? { name: 'label', type: typeOf('label') } : undefined
    this.columns = [
      { name: 'id', type: 'string' },
      { name: 'ts', type: 'timestamp' },
      { name: 'model', type: 'string' },
      { name: 'version', type: 'string' },
      ...this.#features,
      ...this.#feedback.map((f) => f.column),
      ...(this.#label ? [this.#label] : []),
      { name: 'weight', type: 'double' },
      { name: 'split', type: 'string' },
    ]
  }

  #model(raw: string | undefined): [string | null, string | null] {
    const key = raw ?? ''
    let m = this.#models.get(key)
    if (m === undefined) {
      const v: unknown = raw === undefined ? undefined : JSON.parse(raw)
      const o = isObj(v) ? v : {}
      m = [typeof o.name === 'string' ? o.name : null, typeof o.version === 'string' ? o.version : null]
      if (this.#models.size < 10_000) this.#models.set(key, m)
    }
    return m
  }

  #leaves(value: unknown, node: PathNode<number>, leaves: unknown[]): void {
    if (isObj(value)) {
      for (const key of Object.keys(value)) {
        let next = node.children?.get(key)
        if (next === undefined) {
          next = child(node, key)
          this.#nodes++
        }
        this.#leaves(value[key], next, leaves)
      }
      return
    }
    const i = (node.slot ??= this.#featureIndex.get(node.name) ?? -1)
    if (i >= 0) leaves[i] = value
  }

  /**
   * The row's cells in column order: into `into` when given (its length set to the column count;
   * a caller that copies the cells out can reuse one array row after row), else a new array.
   */
  cells(row: PipelineRow, into: Cell[] = []): Cell[] {
    const e = row.event
    const [model, version] = this.#model(e.raw('model'))
    const out = into
    out.length = 0
    out.push(detached(e.id), e.tsMs, model, version)
    const features = this.#features
    if (features.length > 0) {
      // flattenInput straight into the feature slots: the same leaves in the same order, a later
      // leaf of the same name overwriting an earlier one as in its map, and undeclared ones skipped.
      const leaves = this.#leafSlots
      leaves.fill(undefined)
      // Inputs with ever new keys (a map keyed by ids) would grow the paths without end: start over.
      if (this.#nodes > PATH_NODES) {
        this.#root = { name: 'input', children: undefined, slot: undefined }
        this.#nodes = 0
      }
      this.#leaves(e.get('input'), this.#root, leaves)
      for (let i = 0; i < features.length; i++) out.push(convert(features[i]!.type, leaves[i]))
    }
    for (const f of this.#feedback) out.push(convert(f.column.type, JSON.parse(row.values[f.index]!)))
    if (this.#label) out.push(convert(this.#label.type, JSON.parse(row.label!)))
    out.push(row.weight, row.split)
    return out
  }
}
