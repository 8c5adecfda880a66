import type { TypeCounts } from '../fields/column.js'
import { createFieldProfile, emptyNumeric, type FieldProfile, type NumericSummary } from './field-profile.js'
import { FrequentItems } from './frequent-items.js'
import { LogHistogram } from './log-histogram.js'

function mergeNumeric(into: NumericSummary, s: NumericSummary): void {
  if (s.n === 0) return
  const n = into.n + s.n
  const d = s.mean - into.mean
  // Chan, Golub & LeVeque: pairwise update of mean and sum of squares.
  into.m2 = into.m2 + s.m2 + (d * d * into.n * s.n) / n
  into.mean = into.mean + (d * s.n) / n
  into.n = n
  into.min = Math.min(into.min, s.min)
  into.max = Math.max(into.max, s.max)
  into.integer = into.integer && s.integer
  into.quantiles.merge(s.quantiles)
  into.values.merge(s.values)
}

function addTypes(into: TypeCounts, t: TypeCounts): void {
  for (const [k, v] of Object.entries(t)) into[k as keyof TypeCounts] = (into[k as keyof TypeCounts] ?? 0) + (v ?? 0)
}

/**
 * Merges profiles of the same field over disjoint windows (e.g. hours into a day) into a new
 * profile; the inputs are left untouched. Sketch options come from the first profile; merging
 * profiles built with different KLL `k` keeps the smaller accuracy.
 */
export function mergeProfiles(...profiles: FieldProfile[]): FieldProfile {
  const out = createFieldProfile(profiles[0]?.options)
  const histograms: LogHistogram[] = []
  for (const p of profiles) {
    out.count += p.count
    out.missing += p.missing
    out.dimensionMismatches += p.dimensionMismatches
    addTypes(out.types, p.types)
    if (p.numeric) {
      const into = (out.numeric ??= emptyNumeric(out.options))
      mergeNumeric(into, p.numeric)
      if (p.numeric.n > 0) histograms.push(p.numeric.histogram)
    }
    if (p.categories) (out.categories ??= new FrequentItems<string>({ capacity: out.options.frequentCapacity })).merge(p.categories)
    if (p.embedding) {
      const e = (out.embedding ??= { dim: p.embedding.dim, n: 0, sum: new Float64Array(p.embedding.dim) })
      if (e.dim !== p.embedding.dim) out.dimensionMismatches += p.embedding.n
      else {
        e.n += p.embedding.n
        for (let j = 0; j < e.dim; j++) e.sum[j]! += p.embedding.sum[j]!
      }
    }
    if (p.distinct.precision === out.distinct.precision) out.distinct.merge(p.distinct)
  }
  // Histograms are summed once, over all inputs (not pairwise).
  if (out.numeric && histograms.length > 0) out.numeric.histogram = LogHistogram.sum(histograms)
  return out
}
