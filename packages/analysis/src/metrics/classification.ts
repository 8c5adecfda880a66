import { emptyTally, type Tally, tallyMerge } from '../stats/index.js'
import { cellIndexes, type ConfusionMatrix } from './label-aggregate.js'

/** A figure with the variance of its estimate (delta method), `null` when it cannot be estimated. */
export interface DeltaEstimate {
  value: number
  variance: number | null
}

/** Per-class counts and scores of a confusion matrix. */
export interface ClassSummary {
  /** Events whose true class is this one (row). */
  actual: Tally
  /** Events predicted as this class (column). */
  predicted: Tally
  /** Correct predictions of this class (diagonal cell). */
  correct: Tally
  f1: DeltaEstimate
}

/** Everything the replies need from a confusion matrix. */
export interface ClassificationSummary {
  /** Classes that occur as truth or prediction, in first-seen order. */
  classes: string[]
  total: Tally
  correct: Tally
  perClass: Map<string, ClassSummary>
  precisionMacro: DeltaEstimate
  recallMacro: DeltaEstimate
  f1Macro: DeltaEstimate
}

/**
 * Summarizes a weighted confusion matrix. Accuracy and per-class precision and recall are
 * proportions (their intervals are Wilson intervals, see `finalize`); F1 per class and the macro
 * averages are smooth functions of the cell totals T_ij, and their variances come from the delta
 * method with the linearization (with-replacement) variance of weighted totals:
 *
 *   V(f) ≈ n/(n−1) · Σ_ij (∂f/∂T_ij)² · Σ_{events in ij} w²
 *
 * which is exact to first order because every such f is homogeneous of degree 0 in T (the
 * linearized values have weighted mean 0). With unit weights it is the multinomial delta-method
 * variance (as in Takahashi et al. 2022, "Confidence interval for micro-averaged F1 and macro-averaged
 * F1 scores") times n/(n−1). Macro averages follow scikit-learn: over every class that occurs as truth
 * or prediction, a class never predicted having precision 0 and a class never true having recall 0.
 * `undefined` for an empty matrix.
 */
export function summarizeConfusion(cm: ConfusionMatrix): ClassificationSummary | undefined {
  const k = cm.classes.length
  const W = new Float64Array(k * k)
  const W2 = new Float64Array(k * k)
  const rows: Tally[] = []
  const cols: Tally[] = []
  const diag: Tally[] = []
  for (let i = 0; i < k; i++) {
    rows.push(emptyTally())
    cols.push(emptyTally())
    diag.push(emptyTally())
  }
  const total = emptyTally()
  const correct = emptyTally()
  for (const [key, t] of cm.cells) {
    if (t.n <= 0) continue
    const [a, p] = cellIndexes(key)
    W[a * k + p] = t.w
    W2[a * k + p] = t.w2
    tallyMerge(rows[a] as Tally, t)
    tallyMerge(cols[p] as Tally, t)
    tallyMerge(total, t)
    if (a === p) {
      tallyMerge(diag[a] as Tally, t)
      tallyMerge(correct, t)
    }
  }
  if (total.n === 0 || !(total.w > 0)) return undefined
  const factor = total.n >= 2 ? total.n / (total.n - 1) : null
  const active: number[] = []
  for (let i = 0; i < k; i++) if ((rows[i] as Tally).w + (cols[i] as Tally).w > 0) active.push(i)
  const K = active.length
  const row = (i: number) => (rows[i] as Tally).w
  const col = (i: number) => (cols[i] as Tally).w
  const tcc = (i: number) => W[i * k + i] as number
  const D = (i: number) => row(i) + col(i)

  // Gradients of each class's F1, precision and recall with respect to cell (a, p).
  const gF1 = (c: number, a: number, p: number): number => {
    const d = D(c)
    if (!(d > 0)) return 0
    if (a === c && p === c) return (2 * (d - 2 * tcc(c))) / (d * d)
    if (a === c || p === c) return (-2 * tcc(c)) / (d * d)
    return 0
  }
  const gPrecision = (c: number, a: number, p: number): number => {
    const cc = col(c)
    if (p !== c || !(cc > 0)) return 0
    return a === c ? (cc - tcc(c)) / (cc * cc) : -tcc(c) / (cc * cc)
  }
  const gRecall = (c: number, a: number, p: number): number => {
    const rr = row(c)
    if (a !== c || !(rr > 0)) return 0
    return p === c ? (rr - tcc(c)) / (rr * rr) : -tcc(c) / (rr * rr)
  }
  const variance = (grad: (a: number, p: number) => number): number | null => {
    if (factor === null) return null
    let s = 0
    for (const key of cm.cells.keys()) {
      const [a, p] = cellIndexes(key)
      const w2 = W2[a * k + p] as number
      if (w2 === 0) continue
      const g = grad(a, p)
      s += g * g * w2
    }
    return factor * s
  }

  const perClass = new Map<string, ClassSummary>()
  let f1Sum = 0
  let pSum = 0
  let rSum = 0
  for (const c of active) {
    const f1 = D(c) > 0 ? (2 * tcc(c)) / D(c) : 0
    f1Sum += f1
    pSum += col(c) > 0 ? tcc(c) / col(c) : 0
    rSum += row(c) > 0 ? tcc(c) / row(c) : 0
    perClass.set(cm.classes[c] as string, {
      actual: rows[c] as Tally,
      predicted: cols[c] as Tally,
      correct: diag[c] as Tally,
      f1: { value: f1, variance: variance((a, p) => gF1(c, a, p)) },
    })
  }
  const macro = (g: (c: number, a: number, p: number) => number) => (a: number, p: number) => {
    // Only classes a and p have gradients on cell (a, p).
    let s = g(a, a, p)
    if (p !== a) s += g(p, a, p)
    return s / K
  }
  return {
    classes: active.map((i) => cm.classes[i] as string),
    total,
    correct,
    perClass,
    precisionMacro: { value: pSum / K, variance: variance(macro(gPrecision)) },
    recallMacro: { value: rSum / K, variance: variance(macro(gRecall)) },
    f1Macro: { value: f1Sum / K, variance: variance(macro(gF1)) },
  }
}
