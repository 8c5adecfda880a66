import { looksLikeTensor, type Tensor } from '@inferlog/schema'
import type { Column, TypeCounts, ValueType } from '../fields/column.js'
import { decodeTensorFloat32, tensorEmbeddingDim } from '../fields/tensor-decode.js'
import { ExactCounts } from './exact-counts.js'
import { FrequentItems } from './frequent-items.js'
import { HyperLogLog } from './hyperloglog.js'
import { KllSketch } from './kll-sketch.js'
import { LogHistogram } from './log-histogram.js'

/** Options of a field profile's sketches. */
export interface ProfileOptions {
  /** KLL parameter of the quantile sketch. Default 400 (rank error ≈ 0.7%, see `kllRankError`). */
  kllK?: number
  /** Items kept by the frequent-items sketch of categories, and distinct numbers counted exactly. Default 256. */
  frequentCapacity?: number
  /** Relative bucket accuracy of the numeric log histogram. Default 0.005. */
  histogramAccuracy?: number
  /** HyperLogLog precision. Default 12. */
  hllPrecision?: number
}

/** Mergeable summary of the numbers of a field. */
export interface NumericSummary {
  n: number
  mean: number
  /** Σ (x − mean)²: with n, the population variance m2/n (Chan et al. merge). */
  m2: number
  min: number
  max: number
  /** True while every number was an integer. */
  integer: boolean
  /** Rank-error sketch: KS statistic, quantiles. */
  quantiles: KllSketch
  /** Value histogram with exact bucket counts: bin shares (PSI, Jensen–Shannon) and Wasserstein. */
  histogram: LogHistogram
  /** Exact counts per distinct number while there are ≤ `frequentCapacity` of them. */
  values: ExactCounts
}

/** Mergeable summary of the embeddings of a field: enough for the mean-embedding distance. */
export interface EmbeddingSummary {
  dim: number
  n: number
  sum: Float64Array
}

/**
 * A mergeable profile of one field over a window (whylogs is the model): rows, missing values,
 * value types, and per type a summary: numbers (moments, extremes, KLL quantiles, frequent values),
 * strings/booleans (frequent items), embeddings (sum vector); a HyperLogLog of distinct scalar
 * values. Build with {@link createFieldProfile} + {@link addValue} or {@link profileColumn};
 * combine with `mergeProfiles`; store with `encodeProfile`.
 */
export interface FieldProfile {
  options: Required<ProfileOptions>
  /** Rows seen, missing included. */
  count: number
  missing: number
  types: TypeCounts
  numeric?: NumericSummary
  categories?: FrequentItems<string>
  embedding?: EmbeddingSummary
  /** Embedding rows whose dimension differed from the profile's. */
  dimensionMismatches: number
  distinct: HyperLogLog
}

/** Resolves defaults of {@link ProfileOptions}. */
export function profileOptions(options: ProfileOptions = {}): Required<ProfileOptions> {
  return {
    kllK: options.kllK ?? 400,
    frequentCapacity: options.frequentCapacity ?? 256,
    histogramAccuracy: options.histogramAccuracy ?? 0.005,
    hllPrecision: options.hllPrecision ?? 12,
  }
}

/** An empty profile. */
export function createFieldProfile(options: ProfileOptions = {}): FieldProfile {
  const o = profileOptions(options)
  return { options: o, count: 0, missing: 0, types: {}, dimensionMismatches: 0, distinct: new HyperLogLog({ precision: o.hllPrecision }) }
}

/** An empty numeric summary. */
export function emptyNumeric(o: Required<ProfileOptions>): NumericSummary {
  return {
    n: 0,
    mean: 0,
    m2: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    integer: true,
    quantiles: new KllSketch({ k: o.kllK }),
    histogram: new LogHistogram({ relativeAccuracy: o.histogramAccuracy }),
    values: new ExactCounts(o.frequentCapacity),
  }
}

function addNumber(p: FieldProfile, x: number): void {
  const s = (p.numeric ??= emptyNumeric(p.options))
  s.n++
  const d = x - s.mean
  s.mean += d / s.n
  s.m2 += d * (x - s.mean)
  if (x < s.min) s.min = x
  if (x > s.max) s.max = x
  if (s.integer && !Number.isInteger(x)) s.integer = false
  s.quantiles.update(x)
  s.histogram.add(x)
  s.values.add(x)
  p.distinct.add(x)
}

function addEmbedding(p: FieldProfile, vec: Float32Array | number[], rows: number): void {
  const dim = vec.length / rows
  const e = (p.embedding ??= { dim, n: 0, sum: new Float64Array(dim) })
  if (e.dim !== dim) {
    p.dimensionMismatches++
    return
  }
  e.n++
  for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) e.sum[j]! += vec[r * dim + j]! / rows
}

function noteType(p: FieldProfile, t: ValueType): void {
  p.types[t] = (p.types[t] ?? 0) + 1
}

/** Adds one row's value to a profile (the streaming path of the monitoring consumer). */
export function addValue(p: FieldProfile, value: unknown): void {
  p.count++
  if (value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value))) {
    p.missing++
    return
  }
  if (typeof value === 'number') {
    noteType(p, 'number')
    addNumber(p, value)
  } else if (typeof value === 'string' || typeof value === 'boolean') {
    const s = String(value)
    noteType(p, typeof value === 'string' ? 'string' : 'boolean')
    ;(p.categories ??= new FrequentItems<string>({ capacity: p.options.frequentCapacity })).add(s)
    p.distinct.add(s)
  } else if (Array.isArray(value) && value.every((v) => typeof v === 'number')) {
    noteType(p, 'array')
    addEmbedding(p, value as number[], 1)
  } else if (looksLikeTensor(value)) {
    noteType(p, 'tensor')
    const t = value as unknown as Tensor
    const vec = decodeTensorFloat32(t)
    if (vec) addEmbedding(p, vec, t.shape.length > 1 ? vec.length / tensorEmbeddingDim(t) : 1)
  } else noteType(p, 'object')
}

/**
 * Profiles a whole extracted column (the batch path): categorical counts are gathered per code
 * first, so a 500k-row column costs one pass plus the sketch updates.
 */
export function profileColumn(column: Column, options: ProfileOptions = {}): FieldProfile {
  const p = createFieldProfile(options)
  p.count = column.length
  switch (column.kind) {
    case 'numerical': {
      const v = column.values
      for (let i = 0; i < v.length; i++) {
        const x = v[i]!
        if (x - x === 0) addNumber(p, x)
        else p.missing++
      }
      if (p.numeric) {
        p.numeric.integer = column.integer
        p.types.number = p.numeric.n
      }
      break
    }
    case 'categorical': {
      const per = new Float64Array(column.dictionary.length)
      for (let i = 0; i < column.codes.length; i++) {
        const c = column.codes[i]!
        if (c >= 0) per[c]!++
        else p.missing++
      }
      const f = new FrequentItems<string>({ capacity: p.options.frequentCapacity })
      column.dictionary.forEach((s, c) => {
        if (per[c]! > 0) {
          f.add(s, per[c]!)
          p.distinct.add(s)
        }
      })
      if (f.total > 0) p.categories = f
      p.types = column.types ? { ...column.types } : { string: f.total }
      break
    }
    case 'embedding': {
      for (let i = 0; i < column.length; i++) {
        if (!column.present[i]) {
          p.missing++
          continue
        }
        addEmbedding(p, column.data.subarray(i * column.dim, (i + 1) * column.dim), 1)
      }
      p.types = column.types ? { ...column.types } : { tensor: p.embedding?.n ?? 0 }
      break
    }
    case 'empty':
      p.missing = column.length
      break
    default:
      // Values were not kept for mixed or unsupported columns: only their type counts survive.
      p.types = { ...column.types }
      p.missing = column.length - Object.values(column.types).reduce((s: number, c) => s + (c ?? 0), 0)
  }
  return p
}

/** The kind a profile describes: one summary present, `mixed` for several, `empty` for none. */
export function profileKind(p: FieldProfile): 'numerical' | 'categorical' | 'embedding' | 'empty' | 'mixed' | 'unsupported' {
  const kinds: string[] = []
  if (p.numeric && p.numeric.n > 0) kinds.push('numerical')
  if (p.categories && p.categories.total > 0) kinds.push('categorical')
  if (p.embedding && p.embedding.n > 0) kinds.push('embedding')
  if (kinds.length > 1 || p.dimensionMismatches > 0) return 'mixed'
  if (kinds.length === 1) return kinds[0] as 'numerical'
  const present = Object.values(p.types).reduce((s: number, c) => s + (c ?? 0), 0)
  if (present === 0) return 'empty'
  return (p.types.object ?? 0) > 0 ? 'unsupported' : 'mixed'
}
