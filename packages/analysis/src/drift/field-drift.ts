import type { CategoricalColumn, Column, ColumnKind, EmbeddingColumn, NumericalColumn } from '../fields/column.js'
import { countShares, numericalShares } from './binned-shares.js'
import { chiSquareTest } from './chisquare-test.js'
import { domainClassifierAuc } from './domain-classifier.js'
import { DriftFieldError } from './drift-error.js'
import { DRIFT_METHOD_INFO, type DriftMethod, defaultDriftMethod, isDriftMethod } from './drift-methods.js'
import { driftedComponentShare, meanEmbeddingDistance } from './embedding-drift.js'
import { embeddingMatrix } from './embedding-matrix.js'
import { jensenShannonDistance } from './jensen-shannon.js'
import { ks2Samp } from './ks-test.js'
import { mmdTest } from './mmd.js'
import { psi } from './psi.js'
import { seededRandom } from './random.js'
import { sortFloat64 } from './sort-float64.js'
import { type CountPair, categoricalCounts, distinctSortedUnion, sortedValueCounts } from './value-counts.js'
import { wassersteinNormed } from './wasserstein.js'
import { zTest } from './z-test.js'

/** Row caps of the embedding methods, per window (a seeded uniform sample above them). */
export interface EmbeddingRowCaps {
  /** Default: no cap (the mean is linear in the rows). */
  distance?: number
  /** Default 100 000 (one sort per component). */
  ratio?: number
  /** Default 500 (the kernel is quadratic in the rows, and so is each permutation). */
  mmd?: number
  /** Default 5 000. */
  model?: number
}

/** Options of the per-field drift computation. */
export interface FieldDriftOptions {
  /** Seed of every sampled or randomized step (embedding sampling, MMD permutations, classifier). Default 0. */
  seed?: number
  /** Per-window row caps of the embedding methods. */
  embeddingRowCaps?: EmbeddingRowCaps
  /** MMD permutations. Default 100. */
  mmdPermutations?: number
  /** Fixed MMD kernel parameter γ instead of the median heuristic. */
  mmdGamma?: number
}

/** Raw outcome of one field's method, before thresholds and corrections. */
export interface FieldDriftRaw {
  kind: ColumnKind
  method: DriftMethod
  /** `Infinity` for a chi-squared statistic with a category absent from the reference. */
  statistic: number
  pValue?: number
  nReference: number
  nCurrent: number
  /** Rows actually used per window when an embedding method sampled. */
  sampled?: { reference: number; current: number }
}

/** The finite values, sorted (a view on a fresh buffer: the column is left untouched). */
export function finiteSorted(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length)
  let k = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    // v - v is 0 for finite numbers and NaN for NaN and ±Infinity.
    if (v - v === 0) out[k++] = v
  }
  return sortFloat64(k === values.length ? out : out.subarray(0, k))
}

function checkColumn(col: Column | undefined, window: string): void {
  if (!col || col.kind === 'empty') throw new DriftFieldError('no_values', `no values in the ${window} window`)
  if (col.kind === 'mixed') throw new DriftFieldError('mixed_types', `${window} window: ${col.message}`)
  if (col.kind === 'unsupported') throw new DriftFieldError('unsupported_type', `${window} window: ${col.message}`)
}

/** Validates a requested method against the field's kind, or picks Evidently's default. */
export function resolveMethod(requested: string | undefined, kind: ColumnKind, nRef: number, nUnique: () => number): DriftMethod {
  if (requested === undefined) return defaultDriftMethod(kind, nRef, kind === 'embedding' ? 0 : nUnique())
  if (!isDriftMethod(requested)) throw new DriftFieldError('unknown_method', `unknown method ${JSON.stringify(requested)}`)
  if (!DRIFT_METHOD_INFO[requested].kinds.includes(kind)) {
    throw new DriftFieldError('method_not_applicable', `method ${requested} does not apply to a ${kind} field`)
  }
  return requested
}

/** Runs a count-based method (chi-squared, Z, Jensen–Shannon, PSI) on aligned counts. */
export function countTests(method: DriftMethod, counts: CountPair): { statistic: number; pValue?: number } {
  switch (method) {
    case 'chisquare': {
      const r = chiSquareTest(counts)
      return { statistic: r.statistic, pValue: r.pValue }
    }
    case 'z': {
      const r = zTest(counts)
      return { statistic: r.statistic, pValue: r.pValue }
    }
    case 'jensenshannon':
      return { statistic: jensenShannonDistance(countShares(counts)) }
    default:
      return { statistic: psi(countShares(counts)) }
  }
}

function numericalDrift(ref: NumericalColumn, cur: NumericalColumn, requested: string | undefined): FieldDriftRaw {
  const a = finiteSorted(ref.values)
  const b = finiteSorted(cur.values)
  if (a.length === 0) throw new DriftFieldError('no_values', 'no values in the reference window')
  if (b.length === 0) throw new DriftFieldError('no_values', 'no values in the current window')
  const method = resolveMethod(requested, 'numerical', a.length, () => distinctSortedUnion(a, b, 5))
  const base = { kind: 'numerical' as const, method, nReference: a.length, nCurrent: b.length }
  switch (method) {
    case 'ks': {
      const r = ks2Samp(a, b)
      return { ...base, statistic: r.statistic, pValue: r.pValue }
    }
    case 'wasserstein':
      return { ...base, statistic: wassersteinNormed(a, b) }
    case 'jensenshannon':
      return { ...base, statistic: jensenShannonDistance(numericalShares(a, b, ref.integer && cur.integer)) }
    case 'psi':
      return { ...base, statistic: psi(numericalShares(a, b, ref.integer && cur.integer)) }
    default:
      return { ...base, ...countTests(method, sortedValueCounts(a, b)) }
  }
}

function categoricalDrift(ref: CategoricalColumn, cur: CategoricalColumn, requested: string | undefined): FieldDriftRaw {
  const counts = categoricalCounts(ref.codes, ref.dictionary, cur.codes, cur.dictionary)
  if (counts.nReference === 0) throw new DriftFieldError('no_values', 'no values in the reference window')
  if (counts.nCurrent === 0) throw new DriftFieldError('no_values', 'no values in the current window')
  const method = resolveMethod(requested, 'categorical', counts.nReference, () => counts.keys.length)
  return { kind: 'categorical', method, nReference: counts.nReference, nCurrent: counts.nCurrent, ...countTests(method, counts) }
}

function embeddingDrift(
  ref: EmbeddingColumn,
  cur: EmbeddingColumn,
  requested: string | undefined,
  options: FieldDriftOptions,
): FieldDriftRaw {
  if (ref.dim !== cur.dim)
    throw new DriftFieldError('mixed_types', `embedding dimensions differ: ${ref.dim} in reference, ${cur.dim} in current`)
  const method = resolveMethod(requested, 'embedding', 0, () => 0)
  const caps = options.embeddingRowCaps ?? {}
  const cap =
    method === 'distance'
      ? caps.distance
      : method === 'ratio'
        ? (caps.ratio ?? 100_000)
        : method === 'mmd'
          ? (caps.mmd ?? 500)
          : (caps.model ?? 5_000)
  const random = seededRandom(options.seed ?? 0)
  const x = embeddingMatrix(ref, cap, random)
  const y = embeddingMatrix(cur, cap, random)
  let nRef = 0
  let nCur = 0
  for (let i = 0; i < ref.length; i++) nRef += ref.present[i]!
  for (let i = 0; i < cur.length; i++) nCur += cur.present[i]!
  if (nRef === 0) throw new DriftFieldError('no_values', 'no values in the reference window')
  if (nCur === 0) throw new DriftFieldError('no_values', 'no values in the current window')
  const base: FieldDriftRaw = { kind: 'embedding', method, statistic: 0, nReference: nRef, nCurrent: nCur }
  if (x.rows < nRef || y.rows < nCur) base.sampled = { reference: x.rows, current: y.rows }
  switch (method) {
    case 'distance':
      return { ...base, statistic: meanEmbeddingDistance(x, y) }
    case 'ratio':
      return { ...base, statistic: driftedComponentShare(x, y) }
    case 'mmd': {
      if (x.rows < 2 || y.rows < 2) throw new DriftFieldError('too_few_values', 'mmd needs at least 2 rows per window')
      const r = mmdTest(x, y, { permutations: options.mmdPermutations, seed: options.seed, gamma: options.mmdGamma })
      return { ...base, statistic: r.statistic, pValue: r.pValue }
    }
    default: {
      if (x.rows + y.rows < 4) throw new DriftFieldError('too_few_values', 'model needs at least 4 rows in all')
      return { ...base, statistic: domainClassifierAuc(x, y, { seed: options.seed === undefined ? undefined : options.seed + 42 }).auc }
    }
  }
}

/**
 * Computes one field's drift statistic with `method` (or Evidently's default when `undefined`).
 * @throws DriftFieldError with a stable code when the field cannot be computed
 */
export function fieldDrift(
  reference: Column | undefined,
  current: Column | undefined,
  method: string | undefined,
  options: FieldDriftOptions = {},
): FieldDriftRaw {
  checkColumn(reference, 'reference')
  checkColumn(current, 'current')
  const ref = reference as NumericalColumn | CategoricalColumn | EmbeddingColumn
  const cur = current as NumericalColumn | CategoricalColumn | EmbeddingColumn
  if (ref.kind !== cur.kind)
    throw new DriftFieldError('mixed_types', `${ref.kind} in the reference window, ${cur.kind} in the current window`)
  if (ref.kind === 'numerical') return numericalDrift(ref, cur as NumericalColumn, method)
  if (ref.kind === 'categorical') return categoricalDrift(ref, cur as CategoricalColumn, method)
  return embeddingDrift(ref, cur as EmbeddingColumn, method, options)
}
