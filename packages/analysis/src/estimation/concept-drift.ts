import type { Column } from '../fields/column.js'
import { chi2Sf } from '../drift/chisquare-test.js'
import { adjustPValues } from '../drift/correction.js'

/** Options of {@link conceptDrift}. */
export interface ConceptDriftOptions {
  /** Bins of a numerical field (reference quantiles) or categories kept (+ "(other)"). Default 10. */
  bins?: number
  /** Level at which a bin's error rate counts as moved (Benjamini–Hochberg across bins). Default 0.05. */
  alpha?: number
}

/** Outcome counts of one window in one bin. */
export interface BinOutcome {
  n: number
  errors: number
  error_rate: number
}

/** One bin of the monitored field. */
export interface ConceptDriftBin {
  /** `(a, b]` for numbers, the category (or `(other)`) otherwise. */
  bin: string
  reference: BinOutcome
  current: BinOutcome
  /** Pearson chi-squared of the 2×2 table window × correct/incorrect (0 when undefined). */
  statistic: number
  p_value: number
  /** BH-adjusted across bins. */
  p_value_adjusted: number
  /** The error rate moved significantly in this bin. */
  moved: boolean
}

/** Result of {@link conceptDrift} for one monitored field. */
export interface ConceptDriftResult {
  /** Σ of the per-bin chi-squared statistics: a test that P(error | bin) is the same in both windows. */
  statistic: number
  dof: number
  p_value: number
  drift: boolean
  bins: ConceptDriftBin[]
}

type Binner = { labels: string[]; of: (row: number, col: Column) => number }

function numericalBinner(ref: Float64Array, bins: number): Binner {
  const finite = Float64Array.from(ref.filter((v) => Number.isFinite(v))).sort()
  const edges: number[] = []
  for (let b = 1; b < bins; b++) {
    const e = finite[Math.min(finite.length - 1, Math.floor((b / bins) * finite.length))]
    if (e !== undefined && (edges.length === 0 || e > edges[edges.length - 1]!)) edges.push(e)
  }
  const bounds = [Number.NEGATIVE_INFINITY, ...edges, Number.POSITIVE_INFINITY]
  const labels = bounds.slice(1).map((hi, i) => `(${bounds[i]}, ${hi}]`)
  return {
    labels,
    of: (row, col) => {
      const v = col.kind === 'numerical' ? col.values[row]! : Number.NaN
      if (!Number.isFinite(v)) return -1
      let lo = 0
      let hi = edges.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (edges[mid]! < v) lo = mid + 1
        else hi = mid
      }
      return lo
    },
  }
}

function categoricalBinner(ref: Column & { kind: 'categorical' }, bins: number): Binner {
  const counts = new Map<string, number>()
  for (let i = 0; i < ref.codes.length; i++) {
    const c = ref.codes[i]!
    if (c >= 0) counts.set(ref.dictionary[c]!, (counts.get(ref.dictionary[c]!) ?? 0) + 1)
  }
  const top = [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, bins - 1)
    .map(([v]) => v)
  const index = new Map(top.map((v, i) => [v, i]))
  return {
    labels: [...top, '(other)'],
    of: (row, col) => {
      if (col.kind !== 'categorical') return -1
      const c = col.codes[row]!
      if (c < 0) return -1
      return index.get(col.dictionary[c]!) ?? top.length
    },
  }
}

function chi2x2(a: number, b: number, c: number, d: number): number {
  // rows: reference (a correct, b wrong), current (c correct, d wrong)
  const n = a + b + c + d
  const r1 = a + b
  const r2 = c + d
  const c1 = a + c
  const c2 = b + d
  if (r1 === 0 || r2 === 0 || c1 === 0 || c2 === 0) return 0
  return (n * (a * d - b * c) ** 2) / (r1 * r2 * c1 * c2)
}

/**
 * Concept drift of one monitored input field between two labelled windows: the field is binned
 * (reference deciles for numbers, top categories otherwise) and in each bin the outcome table
 * window × {correct, wrong} is tested with Pearson's chi-squared; bins whose error rate moved are
 * flagged (BH-adjusted p ≤ alpha), and the sum of the per-bin statistics tests the whole field
 * (df = bins with a defined table). `correct[i]` is 1, 0, or NaN for an unlabelled row.
 */
export function conceptDrift(
  reference: Column,
  referenceCorrect: ArrayLike<number>,
  current: Column,
  currentCorrect: ArrayLike<number>,
  options: ConceptDriftOptions = {},
): ConceptDriftResult {
  const bins = options.bins ?? 10
  const alpha = options.alpha ?? 0.05
  let binner: Binner
  if (reference.kind === 'numerical') binner = numericalBinner(reference.values, bins)
  else if (reference.kind === 'categorical') binner = categoricalBinner(reference, bins)
  else throw new RangeError(`concept drift needs a numerical or categorical field, not ${reference.kind}`)
  const k = binner.labels.length
  const tally = (col: Column, correct: ArrayLike<number>) => {
    const n = new Float64Array(k)
    const errors = new Float64Array(k)
    for (let i = 0; i < col.length; i++) {
      const y = correct[i]!
      if (!(y === 0 || y === 1)) continue
      const b = binner.of(i, col)
      if (b < 0) continue
      n[b]!++
      if (y === 0) errors[b]!++
    }
    return { n, errors }
  }
  const r = tally(reference, referenceCorrect)
  const c = tally(current, currentCorrect)
  const stats: number[] = []
  const pvals: number[] = []
  let total = 0
  let dof = 0
  for (let b = 0; b < k; b++) {
    const s = chi2x2(r.n[b]! - r.errors[b]!, r.errors[b]!, c.n[b]! - c.errors[b]!, c.errors[b]!)
    const defined = r.n[b]! > 0 && c.n[b]! > 0 && r.errors[b]! + c.errors[b]! > 0 && r.errors[b]! + c.errors[b]! < r.n[b]! + c.n[b]!
    stats.push(s)
    pvals.push(defined ? chi2Sf(s, 1) : 1)
    if (defined) {
      total += s
      dof++
    }
  }
  const adjusted = adjustPValues(pvals, 'benjamini-hochberg')
  const outcome = (n: number, e: number): BinOutcome => ({ n, errors: e, error_rate: n > 0 ? e / n : Number.NaN })
  const p = dof > 0 ? chi2Sf(total, dof) : 1
  return {
    statistic: total,
    dof,
    p_value: p,
    drift: p <= alpha,
    bins: binner.labels.map((bin, b) => ({
      bin,
      reference: outcome(r.n[b]!, r.errors[b]!),
      current: outcome(c.n[b]!, c.errors[b]!),
      statistic: stats[b]!,
      p_value: pvals[b]!,
      p_value_adjusted: adjusted[b]!,
      moved: adjusted[b]! <= alpha,
    })),
  }
}
