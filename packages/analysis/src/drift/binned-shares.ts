import { type CountPair, distinctSorted, sortedValueCounts } from './value-counts.js'

/** Reference distinct values above which a numerical field is binned (Evidently: `nunique() > 20`). */
export const PSI_MAX_VALUE_KEYS = 20

/**
 * `numpy.histogram_bin_edges(values, bins='sturges')` for a sample of size `size` with extremes
 * `min`/`max`: width = (max − min)/(log₂ size + 1), ⌈(max − min)/width⌉ equal bins, edges from
 * `linspace` (i·step + min, last edge = max). `integer` mirrors numpy's rule that integer data never
 * gets bins narrower than 1.
 */
export function sturgesEdges(min: number, max: number, size: number, integer: boolean): Float64Array {
  let first = min
  let last = max
  if (first === last) {
    first -= 0.5
    last += 0.5
  }
  let bins = 1
  let width = (max - min) / (Math.log2(size) + 1)
  if (width) {
    if (integer && width < 1) width = 1
    bins = Math.ceil((last - first) / width)
  }
  const edges = new Float64Array(bins + 1)
  const delta = last - first
  const step = delta / bins
  for (let i = 0; i < bins; i++) edges[i] = i * step + first
  edges[bins] = last
  return edges
}

/** First index with a[i] ≥ x (`side='left'`) or a[i] > x (`side='right'`). */
function searchSorted(a: Float64Array, x: number, right: boolean): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (right ? a[mid]! <= x : a[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** `numpy.histogram(sorted, edges)[0]`: half-open bins, the last one closed. */
export function histogramCounts(sorted: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1
  const counts = new Float64Array(bins)
  let prev = searchSorted(sorted, edges[0]!, false)
  for (let b = 0; b < bins; b++) {
    const next = b === bins - 1 ? searchSorted(sorted, edges[b + 1]!, true) : searchSorted(sorted, edges[b + 1]!, false)
    counts[b] = next - prev
    prev = next
  }
  return counts
}

/** Shares per bin or per category for both windows (Evidently's `get_binned_data`, before any fill). */
export interface BinnedShares {
  reference: Float64Array
  current: Float64Array
  /** `sturges` when a numerical field was binned, `values` when keyed by distinct value or category. */
  binning: 'sturges' | 'values'
}

/**
 * Evidently's binning of a numerical field for PSI and Jensen–Shannon: Sturges edges over
 * reference ∪ current when the reference has more than 20 distinct values, otherwise the share of
 * each distinct value of the union.
 */
export function numericalShares(ref: Float64Array, cur: Float64Array, integer: boolean): BinnedShares {
  if (distinctSorted(ref) > PSI_MAX_VALUE_KEYS) {
    const min = Math.min(ref[0]!, cur[0]!)
    const max = Math.max(ref[ref.length - 1]!, cur[cur.length - 1]!)
    const edges = sturgesEdges(min, max, ref.length + cur.length, integer)
    const r = histogramCounts(ref, edges)
    const c = histogramCounts(cur, edges)
    for (let i = 0; i < r.length; i++) {
      r[i]! /= ref.length
      c[i]! /= cur.length
    }
    return { reference: r, current: c, binning: 'sturges' }
  }
  return countShares(sortedValueCounts(ref, cur))
}

/** Shares of each key of a count pair. */
export function countShares(counts: CountPair): BinnedShares {
  const r = new Float64Array(counts.reference.length)
  const c = new Float64Array(counts.current.length)
  for (let i = 0; i < r.length; i++) {
    r[i] = counts.reference[i]! / counts.nReference
    c[i] = counts.current[i]! / counts.nCurrent
  }
  return { reference: r, current: c, binning: 'values' }
}

/**
 * Evidently's empty-bin fill for PSI: zero shares become 0.0001, or the smallest non-zero share
 * divided by 10⁶ when that share is itself ≤ 0.0001. Returns a filled copy.
 */
export function fillZeroShares(shares: Float64Array): Float64Array {
  let min = Number.POSITIVE_INFINITY
  for (let i = 0; i < shares.length; i++) if (shares[i]! !== 0 && shares[i]! < min) min = shares[i]!
  const fill = min <= 0.0001 ? min / 10 ** 6 : 0.0001
  const out = shares.slice()
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = fill
  return out
}
