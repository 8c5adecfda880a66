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

/**
 * Dotted names (`input.address` + `city`) made once and reused: rows repeat the same keys, and a
 * remembered name is one lookup instead of a new string to build and hash per key and row.
 * Bounded (forgets everything past `size` names).
 */
export class DottedNames {
  readonly #byPrefix = new Map<string, Map<string, string>>()
  #size = 0

  constructor(private readonly size = 10_000) {}

  join(prefix: string, key: string): string {
    let names = this.#byPrefix.get(prefix)
    if (names === undefined) {
      if (this.#size >= this.size) {
        this.#byPrefix.clear()
        this.#size = 0
      }
      names = new Map()
      this.#byPrefix.set(prefix, names)
    }
    let name = names.get(key)
    if (name === undefined) {
      name = `${prefix}.${key}`
      if (this.#size < this.size) {
        names.set(key, name)
        this.#size++
      }
    }
    return name
  }
}

/** Leaf values of the input: nested objects flattened with dots (`input.address.city`), arrays kept whole. */
export function flattenInput(value: unknown, prefix: string, out: Map<string, unknown>, names?: DottedNames): void {
  if (isObj(value)) {
    for (const key of Object.keys(value)) flattenInput(value[key], names ? names.join(prefix, key) : `${prefix}.${key}`, out, names)
    return
  }
  out.set(prefix, value)
}

function kindOf(v: unknown): TabularType | undefined {
  if (v === null || v === undefined) return undefined
  if (typeof v === 'number') return 'double'
  if (typeof v === 'boolean') return 'boolean'
  if (typeof v === 'string') return 'string'
  return 'json'
}

/**
 * Learns column types over every row of the counting pass: numbers → double, booleans → boolean,
 * strings → string, objects/arrays or any mix → json; a column that is always null → string.
 * Because the pass reads every row the build writes, the types cannot change mid-file.
 */
export class TypeInference {
  readonly #kinds = new Map<string, TabularType | undefined>()
  readonly #plan: DatasetPlan
  readonly #names = new DottedNames()
  #changes = 0

  constructor(plan: DatasetPlan) {
    this.#plan = plan
  }

  /** How many times a column appeared or changed type so far: equal counts, equal {@link types}. */
  get changes(): number {
    return this.#changes
  }

  #see(name: string, v: unknown): void {
    const k = kindOf(v)
    if (!this.#kinds.has(name)) {
      this.#kinds.set(name, k)
      this.#changes++
      return
    }
    const prev = this.#kinds.get(name)
    if (k !== undefined && prev !== k && prev !== 'json') {
      this.#kinds.set(name, prev === undefined ? k : 'json')
      this.#changes++
    }
  }

  observe(row: PipelineRow): void {
    const flat = new Map<string, unknown>()
    flattenInput(row.event.get('input'), 'input', flat, this.#names)
    for (const [name, v] of flat) this.#see(name, v)
    this.#plan.columns.forEach((c, i) => {
      if (!c.implicit) this.#see(`feedback.${c.column}`, JSON.parse(row.values[i]!))
    })
    if (row.label !== undefined) this.#see('label', JSON.parse(row.label))
  }

  /** Column name → type. */
  types(): Map<string, TabularType> {
    return new Map([...this.#kinds].map(([n, k]) => [n, k ?? 'string']))
  }
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
  readonly #names = new DottedNames()
  /** Feature column name → its index among the features. */
  readonly #featureIndex: Map<string, number>
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

  #leaves(value: unknown, prefix: string, leaves: unknown[]): void {
    if (isObj(value)) {
      for (const key of Object.keys(value)) this.#leaves(value[key], this.#names.join(prefix, key), leaves)
      return
    }
    const i = this.#featureIndex.get(prefix)
    if (i !== undefined) leaves[i] = value
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
    out.push(e.id, e.tsMs, model, version)
    const features = this.#features
    if (features.length > 0) {
      // flattenInput straight into the feature slots: the same leaves in the same order, a later
      // leaf of the same name overwriting an earlier one as in its map, and undeclared ones skipped.
      const leaves = this.#leafSlots
      leaves.fill(undefined)
      this.#leaves(e.get('input'), 'input', leaves)
      for (let i = 0; i < features.length; i++) out.push(convert(features[i]!.type, leaves[i]))
    }
    for (const f of this.#feedback) out.push(convert(f.column.type, JSON.parse(row.values[f.index]!)))
    if (this.#label) out.push(convert(this.#label.type, JSON.parse(row.label!)))
    out.push(row.weight, row.split)
    return out
  }
}
