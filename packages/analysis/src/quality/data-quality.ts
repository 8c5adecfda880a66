import type { Column, TypeCounts, ValueType } from '../fields/column.js'
import { presentCount } from '../fields/column.js'

/** Options of {@link computeQuality}. */
export interface QualityOptions {
  /** Example event ids per finding. Default 5. */
  maxExamples?: number
  /** New and vanished categories listed per field (largest counts first). Default 50. */
  maxCategories?: number
}

/** One window's view of a field. */
export interface WindowQuality {
  /** `numerical`, `categorical`, `embedding`, `empty`, `mixed` or `unsupported`. */
  kind: Column['kind']
  rows: number
  missing: number
  /** missing / rows (0 for an empty window). */
  missing_share: number
  /** Present values per JSON type. */
  types: TypeCounts
}

/** Values of a kind the reference never had. */
export interface TypeChange {
  type: ValueType
  count: number
  examples: string[]
}

/** A category seen in one window only. */
export interface CategoryFinding {
  value: string
  count: number
  examples?: string[]
}

/** Current numbers outside the reference's [min, max]. */
export interface RangeFinding {
  reference_min: number
  reference_max: number
  below: { count: number; examples: string[] }
  above: { count: number; examples: string[] }
}

/** Data quality of one field, reference vs current. */
export interface FieldQuality {
  field: string
  reference: WindowQuality
  current: WindowQuality
  /** current missing share − reference missing share. */
  missing_share_change: number
  /** Value types present in the current window but not in the reference. */
  type_changes: TypeChange[]
  /** Categorical fields: categories absent from the reference. */
  new_categories?: CategoryFinding[]
  /** Categorical fields: reference categories absent from the current window (count = in the reference). */
  vanished_categories?: CategoryFinding[]
  /** Numerical fields: current values outside the reference range. */
  out_of_range?: RangeFinding
}

/** Reply of `POST /v1/quality`. */
export interface QualityReport {
  fields: FieldQuality[]
}

function typesOf(c: Column | undefined): TypeCounts {
  if (!c || c.kind === 'empty') return {}
  if (c.types) return { ...c.types }
  const n = presentCount(c)
  if (n === 0) return {}
  if (c.kind === 'numerical') return { number: n }
  if (c.kind === 'categorical') return { string: n }
  return { array: n }
}

function windowQuality(c: Column | undefined): WindowQuality {
  if (!c) return { kind: 'empty', rows: 0, missing: 0, missing_share: 0, types: {} }
  const present = presentCount(c)
  return {
    kind: c.kind,
    rows: c.length,
    missing: c.length - present,
    missing_share: c.length === 0 ? 0 : (c.length - present) / c.length,
    types: typesOf(c),
  }
}

/** Row indices of the first `max` rows of a column holding a value of type `t`. */
function rowsOfType(c: Column, t: ValueType, max: number): number[] {
  if (c.kind === 'mixed') return (c.examples[t] ?? []).slice(0, max)
  const out: number[] = []
  for (let i = 0; i < c.length && out.length < max; i++) {
    const present =
      c.kind === 'numerical'
        ? !Number.isNaN(c.values[i]!)
        : c.kind === 'categorical'
          ? c.codes[i]! >= 0
          : c.kind === 'embedding'
            ? c.present[i] === 1
            : false
    if (present) out.push(i)
  }
  return out
}

function idsAt(ids: ArrayLike<string>, rows: number[]): string[] {
  return rows.map((r) => ids[r]!).filter((id) => id !== undefined)
}

/**
 * Data quality per field between a reference and a current window: missing shares, value types
 * that appeared, new and vanished categories, current numbers outside the reference range, each
 * with counts and example event ids. `ids.reference[i]` / `ids.current[i]` is the event id of row
 * i of every column of that window.
 */
export function computeQuality(
  fields: readonly string[],
  reference: ReadonlyMap<string, Column>,
  current: ReadonlyMap<string, Column>,
  ids: { reference: ArrayLike<string>; current: ArrayLike<string> },
  options: QualityOptions = {},
): QualityReport {
  const maxExamples = options.maxExamples ?? 5
  const maxCategories = options.maxCategories ?? 50
  return {
    fields: fields.map((field): FieldQuality => {
      const ref = reference.get(field)
      const cur = current.get(field)
      const rq = windowQuality(ref)
      const cq = windowQuality(cur)
      const out: FieldQuality = {
        field,
        reference: rq,
        current: cq,
        missing_share_change: cq.missing_share - rq.missing_share,
        type_changes: [],
      }
      if (cur) {
        for (const [t, count] of Object.entries(cq.types) as [ValueType, number][]) {
          if (count > 0 && !(rq.types[t] ?? 0))
            out.type_changes.push({ type: t, count, examples: idsAt(ids.current, rowsOfType(cur, t, maxExamples)) })
        }
      }
      if (ref?.kind === 'categorical' && cur?.kind === 'categorical') {
        const refCounts = new Map<string, number>()
        for (let i = 0; i < ref.codes.length; i++) {
          const c = ref.codes[i]!
          if (c >= 0) refCounts.set(ref.dictionary[c]!, (refCounts.get(ref.dictionary[c]!) ?? 0) + 1)
        }
        const curCounts = new Map<string, { count: number; rows: number[] }>()
        for (let i = 0; i < cur.codes.length; i++) {
          const c = cur.codes[i]!
          if (c < 0) continue
          const v = cur.dictionary[c]!
          let e = curCounts.get(v)
          if (!e) curCounts.set(v, (e = { count: 0, rows: [] }))
          e.count++
          if (!refCounts.has(v) && e.rows.length < maxExamples) e.rows.push(i)
        }
        out.new_categories = [...curCounts]
          .filter(([v]) => !refCounts.has(v))
          .sort((a, b) => b[1].count - a[1].count)
          .slice(0, maxCategories)
          .map(([value, e]) => ({ value, count: e.count, examples: idsAt(ids.current, e.rows) }))
        out.vanished_categories = [...refCounts]
          .filter(([v]) => !curCounts.has(v))
          .sort((a, b) => b[1] - a[1])
          .slice(0, maxCategories)
          .map(([value, count]) => ({ value, count }))
      }
      if (ref?.kind === 'numerical' && cur?.kind === 'numerical') {
        let min = Number.POSITIVE_INFINITY
        let max = Number.NEGATIVE_INFINITY
        for (let i = 0; i < ref.values.length; i++) {
          const v = ref.values[i]!
          if (v < min) min = v
          if (v > max) max = v
        }
        if (min <= max) {
          const below = { count: 0, rows: [] as number[] }
          const above = { count: 0, rows: [] as number[] }
          for (let i = 0; i < cur.values.length; i++) {
            const v = cur.values[i]!
            const side = v < min ? below : v > max ? above : undefined
            if (!side) continue
            side.count++
            if (side.rows.length < maxExamples) side.rows.push(i)
          }
          out.out_of_range = {
            reference_min: min,
            reference_max: max,
            below: { count: below.count, examples: idsAt(ids.current, below.rows) },
            above: { count: above.count, examples: idsAt(ids.current, above.rows) },
          }
        }
      }
      return out
    }),
  }
}
