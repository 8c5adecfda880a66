import { type BinnedShares, countShares, fillZeroShares, PSI_MAX_VALUE_KEYS, sturgesEdges } from '../drift/binned-shares.js'
import { assembleDriftReport, type DriftReport, type DriftRequest, type FieldDriftError } from '../drift/compute-drift.js'
import { DriftFieldError } from '../drift/drift-error.js'
import { countTests, type FieldDriftRaw, resolveMethod } from '../drift/field-drift.js'
import { jensenShannonDistance } from '../drift/jensen-shannon.js'
import { ksExactTwoSided, roundHalfEven } from '../drift/ks-exact.js'
import { KS_MAX_EXACT_N } from '../drift/ks-test.js'
import { kstwoSf } from '../drift/kstwo.js'
import { type CountPair, compareCodePoints } from '../drift/value-counts.js'
import { WASSERSTEIN_STD_FLOOR } from '../drift/wasserstein.js'
import type { ExactCounts } from './exact-counts.js'
import { type FieldProfile, type NumericSummary, profileKind } from './field-profile.js'
import type { FrequentItems } from './frequent-items.js'
import { HyperLogLog } from './hyperloglog.js'
import type { KllSketch } from './kll-sketch.js'
import { IntervalCdf } from './log-histogram.js'

/** Options of {@link driftFromProfiles}. */
export interface ProfileDriftOptions {
  /** Share of drifting fields from which `dataset_drift` is true. Default 0.5. */
  datasetDriftShare?: number
}

/** Ascending retained values of a sketch with their cumulative weight (≤ value). */
function cdfPoints(s: KllSketch): { x: Float64Array; cum: Float64Array } {
  const { values, weights } = s.weightedItems()
  const cum = new Float64Array(values.length)
  let acc = 0
  for (let i = 0; i < values.length; i++) {
    acc += weights[i]!
    cum[i] = acc
  }
  return { x: values, cum }
}

/**
 * Walks the pooled retained values of two sketches, calling `visit(x, Fa, Fb)` with both estimated
 * CDFs right after each distinct x (the same evaluation points as the exact KS and Wasserstein).
 */
function walkCdfs(a: KllSketch, b: KllSketch, visit: (x: number, fa: number, fb: number) => void): void {
  const pa = cdfPoints(a)
  const pb = cdfPoints(b)
  // Weighted sums only approximate n: scale each sketch's CDF to end at exactly 1.
  const na = pa.cum[pa.cum.length - 1] ?? 1
  const nb = pb.cum[pb.cum.length - 1] ?? 1
  let i = 0
  let j = 0
  while (i < pa.x.length || j < pb.x.length) {
    const x = j >= pb.x.length || (i < pa.x.length && pa.x[i]! <= pb.x[j]!) ? pa.x[i]! : pb.x[j]!
    while (i < pa.x.length && pa.x[i]! <= x) i++
    while (j < pb.x.length && pb.x[j]! <= x) j++
    visit(x, i === 0 ? 0 : pa.cum[i - 1]! / na, j === 0 ? 0 : pb.cum[j - 1]! / nb)
  }
}

/** KS statistic from two quantile sketches: within the sum of their rank errors of the exact D. */
export function ksStatisticFromSketches(a: KllSketch, b: KllSketch): number {
  let d = 0
  walkCdfs(a, b, (_x, fa, fb) => {
    d = Math.max(d, Math.abs(fa - fb))
  })
  return d
}

/** Exact KS statistic from two exact value sets. */
function exactKsFromCounts(a: NumericSummary, b: NumericSummary): number {
  const fa = numericBelow(a)
  const fb = numericBelow(b)
  let d = 0
  for (const x of new Set([...a.values.counts!.keys(), ...b.values.counts!.keys()]))
    d = Math.max(d, Math.abs(fa(x, true) / a.n - fb(x, true) / b.n))
  return d
}

/** Sorted distinct values and counts of an exact value set. */
function sortedCounts(values: ExactCounts): { keys: Float64Array; counts: Float64Array } {
  const entries = [...values.counts!].sort((a, b) => a[0] - b[0])
  return { keys: Float64Array.from(entries, (e) => e[0]), counts: Float64Array.from(entries, (e) => e[1]) }
}

/** Count of values < x (`inclusive`: ≤ x): exact from value counts, else from the log histogram. */
function numericBelow(s: NumericSummary): (x: number, inclusive?: boolean) => number {
  if (!s.values.overflowed) {
    const { keys, counts } = sortedCounts(s.values)
    const cum = new Float64Array(keys.length + 1)
    for (let i = 0; i < keys.length; i++) cum[i + 1] = cum[i]! + counts[i]!
    return (x, inclusive = false) => {
      let a = 0
      let b = keys.length
      while (a < b) {
        const mid = (a + b) >>> 1
        if (inclusive ? keys[mid]! <= x : keys[mid]! < x) a = mid + 1
        else b = mid
      }
      return cum[a]!
    }
  }
  const cdf = new IntervalCdf(s.histogram.intervals(s.min, s.max))
  return (x, inclusive = false) => cdf.below(x, inclusive)
}

/** Evidently's Sturges bins over reference ∪ current, with shares counted from the profiles. */
function binnedShares(ref: NumericSummary, cur: NumericSummary): BinnedShares {
  const edges = sturgesEdges(Math.min(ref.min, cur.min), Math.max(ref.max, cur.max), ref.n + cur.n, ref.integer && cur.integer)
  const bins = edges.length - 1
  const r = new Float64Array(bins)
  const c = new Float64Array(bins)
  for (const [s, out] of [
    [ref, r],
    [cur, c],
  ] as const) {
    const below = numericBelow(s)
    let prev = below(edges[0]!)
    for (let b = 0; b < bins; b++) {
      const next = b === bins - 1 ? s.n : below(edges[b + 1]!)
      out[b] = Math.max(0, next - prev) / s.n
      prev = next
    }
  }
  return { reference: r, current: c, binning: 'sturges' }
}

/** ∫|Fa − Fb| dx from the profiles: exact for exact value sets, else on histogram intervals. */
export function wassersteinFromProfiles(a: NumericSummary, b: NumericSummary): number {
  const fa = numericBelow(a)
  const fb = numericBelow(b)
  const points = new Set<number>([a.min, a.max, b.min, b.max])
  for (const s of [a, b]) {
    if (!s.values.overflowed) for (const k of s.values.counts!.keys()) points.add(k)
    else {
      const iv = s.histogram.intervals(s.min, s.max)
      for (let i = 0; i < iv.lo.length; i++) {
        points.add(iv.lo[i]!)
        points.add(iv.hi[i]!)
      }
    }
  }
  const xs = Float64Array.from(points).sort()
  const exact = !a.values.overflowed && !b.values.overflowed
  let total = 0
  for (let i = 0; i + 1 < xs.length; i++) {
    const x0 = xs[i]!
    const x1 = xs[i + 1]!
    // Step CDFs are constant on [x0, x1) (their value right after x0); linear ones vary linearly.
    const d0 = fa(x0, true) / a.n - fb(x0, true) / b.n
    if (exact) {
      total += Math.abs(d0) * (x1 - x0)
      continue
    }
    const d1 = fa(x1) / a.n - fb(x1) / b.n
    if (d0 * d1 >= 0) total += ((Math.abs(d0) + Math.abs(d1)) / 2) * (x1 - x0)
    else total += ((d0 * d0 + d1 * d1) / (2 * (Math.abs(d0) + Math.abs(d1)))) * (x1 - x0)
  }
  return total
}

/** Aligned value counts of two exact value sets (an overflowed current set counts as one "other" key). */
function valueCounts(ref: NumericSummary, cur: NumericSummary): CountPair {
  const keys = new Set<number>(ref.values.counts!.keys())
  if (!cur.values.overflowed) for (const k of cur.values.counts!.keys()) keys.add(k)
  const list = Float64Array.from(keys).sort()
  const rc = Array.from(list, (k) => ref.values.counts!.get(k) ?? 0)
  const cc = Array.from(list, (k) => cur.values.counts?.get(k) ?? 0)
  const restC = cur.n - cc.reduce((s, v) => s + v, 0)
  if (restC > 0) {
    rc.push(0)
    cc.push(restC)
  }
  return { reference: Float64Array.from(rc), current: Float64Array.from(cc), smallest: 0, nReference: ref.n, nCurrent: cur.n }
}

/** Aligned counts from two frequent-items sketches; what was purged goes to one "other" key. */
function frequentCounts<K extends string | number>(ref: FrequentItems<K>, cur: FrequentItems<K>): CountPair {
  const keys = new Set<K>([...ref.counts.keys(), ...cur.counts.keys()])
  const list = [...keys]
  const rc = list.map((k) => ref.count(k))
  const cc = list.map((k) => cur.count(k))
  const restR = ref.total - rc.reduce((s, v) => s + v, 0)
  const restC = cur.total - cc.reduce((s, v) => s + v, 0)
  if (restR > 0 || restC > 0) {
    rc.push(restR)
    cc.push(restC)
  }
  let smallest = 0
  for (let i = 1; i < list.length; i++) {
    const a = list[i]!
    const b = list[smallest]!
    if (typeof a === 'number' ? a < (b as number) : compareCodePoints(a as string, b as string) < 0) smallest = i
  }
  return { reference: Float64Array.from(rc), current: Float64Array.from(cc), smallest, nReference: ref.total, nCurrent: cur.total }
}

function distinctUnion(ref: NumericSummary, cur: NumericSummary, a: FieldProfile, b: FieldProfile): number {
  if (!ref.values.overflowed && !cur.values.overflowed) return new Set([...ref.values.counts!.keys(), ...cur.values.counts!.keys()]).size
  const h = new HyperLogLog({ precision: a.distinct.precision })
  h.merge(a.distinct)
  if (b.distinct.precision === h.precision) h.merge(b.distinct)
  return Math.round(h.estimate())
}

function numericalFromProfiles(a: FieldProfile, b: FieldProfile, requested: string | undefined): FieldDriftRaw {
  const ref = a.numeric!
  const cur = b.numeric!
  const method = resolveMethod(requested, 'numerical', ref.n, () => distinctUnion(ref, cur, a, b))
  const base = { kind: 'numerical' as const, method, nReference: ref.n, nCurrent: cur.n }
  const valueKeyed = !ref.values.overflowed && ref.values.counts!.size <= PSI_MAX_VALUE_KEYS
  const bothExact = !ref.values.overflowed && !cur.values.overflowed
  switch (method) {
    case 'ks': {
      const d = bothExact ? exactKsFromCounts(ref, cur) : ksStatisticFromSketches(ref.quantiles, cur.quantiles)
      if (Math.max(ref.n, cur.n) <= KS_MAX_EXACT_N) {
        const exact = ksExactTwoSided(ref.n, cur.n, d)
        if (!Number.isNaN(exact.pValue)) return { ...base, statistic: exact.statistic, pValue: exact.pValue }
      }
      const en = (ref.n * cur.n) / (ref.n + cur.n)
      return { ...base, statistic: d, pValue: kstwoSf(roundHalfEven(en), d) }
    }
    case 'wasserstein': {
      const std = Math.sqrt(ref.m2 / ref.n)
      return { ...base, statistic: wassersteinFromProfiles(ref, cur) / Math.max(std, WASSERSTEIN_STD_FLOOR) }
    }
    case 'psi':
    case 'jensenshannon': {
      const shares = valueKeyed ? countShares(valueCounts(ref, cur)) : binnedShares(ref, cur)
      if (method === 'jensenshannon') return { ...base, statistic: jensenShannonDistance(shares) }
      const r = fillZeroShares(shares.reference)
      const c = fillZeroShares(shares.current)
      let total = 0
      for (let i = 0; i < r.length; i++) total += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!)
      return { ...base, statistic: total }
    }
    default:
      if (ref.values.overflowed)
        throw new DriftFieldError(
          'method_not_applicable',
          `${method} needs the distinct values; the reference has more than ${ref.values.capacity} (use exact mode)`,
        )
      return { ...base, ...countTests(method, valueCounts(ref, cur)) }
  }
}

function fieldFromProfiles(a: FieldProfile | undefined, b: FieldProfile | undefined, requested: string | undefined): FieldDriftRaw {
  const check = (p: FieldProfile | undefined, w: string) => {
    const k = p ? profileKind(p) : 'empty'
    if (k === 'empty') throw new DriftFieldError('no_values', `no values in the ${w} window`)
    if (k === 'mixed') throw new DriftFieldError('mixed_types', `${w} window: values of several types (${JSON.stringify(p!.types)})`)
    if (k === 'unsupported') throw new DriftFieldError('unsupported_type', `${w} window: values that cannot be analysed`)
    return k
  }
  const ka = check(a, 'reference')
  const kb = check(b, 'current')
  if (ka !== kb) throw new DriftFieldError('mixed_types', `${ka} in the reference window, ${kb} in the current window`)
  const ref = a!
  const cur = b!
  if (ka === 'numerical') return numericalFromProfiles(ref, cur, requested)
  if (ka === 'categorical') {
    const counts = frequentCounts(ref.categories!, cur.categories!)
    const method = resolveMethod(requested, 'categorical', counts.nReference, () => counts.reference.length)
    return { kind: 'categorical', method, nReference: counts.nReference, nCurrent: counts.nCurrent, ...countTests(method, counts) }
  }
  const ea = ref.embedding!
  const eb = cur.embedding!
  if (ea.dim !== eb.dim)
    throw new DriftFieldError('mixed_types', `embedding dimensions differ: ${ea.dim} in reference, ${eb.dim} in current`)
  const method = resolveMethod(requested ?? 'distance', 'embedding', ea.n, () => 0)
  if (method !== 'distance')
    throw new DriftFieldError('method_not_applicable', `method ${method} needs the rows; profiles support distance (use exact mode)`)
  let s = 0
  for (let j = 0; j < ea.dim; j++) {
    const d = ea.sum[j]! / ea.n - eb.sum[j]! / eb.n
    s += d * d
  }
  return { kind: 'embedding', method, statistic: Math.sqrt(s), nReference: ea.n, nCurrent: eb.n }
}

/**
 * Drift between two windows from their profiles (`"mode": "profile"`), in the reply shape of
 * `computeDrift`, in milliseconds whatever the window sizes. Same method choice and thresholds;
 * statistics are approximations (see packages/analysis/README.md for the stated accuracy): KS and
 * Wasserstein from the quantile sketches (KS within the sum of both sketches' rank errors), PSI
 * and Jensen–Shannon on the same Sturges bins with shares from the sketches (value-keyed fields
 * with ≤ 20 values, and categories up to the frequent-items capacity, are exact), chi-squared and
 * Z from frequent-item counts, and for embeddings only `distance` (from the mean vectors).
 */
export function driftFromProfiles(
  request: DriftRequest,
  reference: ReadonlyMap<string, FieldProfile>,
  current: ReadonlyMap<string, FieldProfile>,
  options: ProfileDriftOptions = {},
): DriftReport {
  const raw = request.fields.map((field): FieldDriftRaw | FieldDriftError => {
    try {
      return fieldFromProfiles(reference.get(field), current.get(field), request.methods?.[field])
    } catch (e) {
      if (e instanceof DriftFieldError) return { field, error: { code: e.code, message: e.message } }
      throw e
    }
  })
  return assembleDriftReport(request, raw, options.datasetDriftShare)
}
