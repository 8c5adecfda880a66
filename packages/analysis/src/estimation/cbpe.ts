import { seededRandom, shuffleInPlace } from '../drift/random.js'
import { fitIsotonic, type IsotonicModel, predictIsotonic } from './isotonic.js'

/**
 * Class probabilities of n predictions: for a binary classifier the probability of class 1 per row
 * (`classes: 2`, `values.length === n`), otherwise `classes` probabilities per row, row-major.
 */
export interface ClassProbabilities {
  classes: number
  values: Float64Array
}

/** Options of {@link fitCbpeCalibration}. */
export interface CbpeCalibrationOptions {
  /** Folds of the cross-validation that decides whether calibration helps. Default 5. */
  folds?: number
  /** Seed of the fold assignment. Default 0. */
  seed?: number
}

/** Calibration fitted on a labelled reference window. */
export interface CbpeCalibration {
  classes: number
  /** True when isotonic calibration lowered the cross-validated Brier score and is applied. */
  calibrated: boolean
  /** One-vs-rest isotonic maps (one for binary), present when `calibrated`. */
  models?: IsotonicModel[]
  /** Cross-validated Brier scores of raw and calibrated probabilities on the reference. */
  brier: { raw: number; calibrated: number }
}

/** Options of {@link estimatePerformance}. */
export interface CbpeEstimateOptions {
  /** Binary decision threshold on the class-1 probability (the model's rule). Default 0.5. */
  threshold?: number
  /** Predicted classes as the model emitted them; default: threshold (binary) or argmax. */
  predictions?: ArrayLike<number>
  /** Weight of each row (1/sample_rate); `n` and every count become weighted sums. Default 1 each. */
  weights?: ArrayLike<number>
}

/** Classification metrics (estimated or realized). */
export interface ClassificationMetrics {
  n: number
  accuracy: number
  /** Binary: of class 1. */
  precision?: number
  recall?: number
  f1?: number
  precision_macro: number
  recall_macro: number
  f1_macro: number
  /** confusion[true][predicted], expected counts for an estimate. */
  confusion: number[][]
}

const rowCount = (p: ClassProbabilities): number => (p.classes === 2 ? p.values.length : p.values.length / p.classes)

/** Probability of class `k` for row `i`. */
function prob(p: ClassProbabilities, i: number, k: number): number {
  if (p.classes === 2) return k === 1 ? p.values[i]! : 1 - p.values[i]!
  return p.values[i * p.classes + k]!
}

function applyCalibration(p: ClassProbabilities, models: IsotonicModel[] | undefined): ClassProbabilities {
  if (!models) return p
  const n = rowCount(p)
  if (p.classes === 2) {
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++) out[i] = Math.min(1, Math.max(0, predictIsotonic(models[0]!, prob(p, i, 1))))
    return { classes: 2, values: out }
  }
  const k = p.classes
  const out = new Float64Array(n * k)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let c = 0; c < k; c++) {
      const v = Math.max(0, predictIsotonic(models[c]!, prob(p, i, c)))
      out[i * k + c] = v
      s += v
    }
    for (let c = 0; c < k; c++) out[i * k + c] = s > 0 ? out[i * k + c]! / s : 1 / k
  }
  return { classes: k, values: out }
}

function fitModels(p: ClassProbabilities, labels: ArrayLike<number>, rows: number[]): IsotonicModel[] {
  const classes = p.classes === 2 ? [1] : Array.from({ length: p.classes }, (_, c) => c)
  return classes.map((c) =>
    fitIsotonic(
      rows.map((i) => prob(p, i, c)),
      rows.map((i) => (labels[i] === c ? 1 : 0)),
    ),
  )
}

function brier(p: ClassProbabilities, labels: ArrayLike<number>, rows: number[]): number {
  let s = 0
  for (const i of rows) for (let c = 0; c < p.classes; c++) s += (prob(p, i, c) - (labels[i] === c ? 1 : 0)) ** 2
  return s / rows.length
}

/**
 * Fits the calibration used by confidence-based performance estimation on a labelled reference
 * window: isotonic regression per class (one-vs-rest, rows renormalized), kept only when it lowers
 * the Brier score in k-fold cross-validation on that window (an in-sample fit always looks better).
 */
export function fitCbpeCalibration(
  reference: ClassProbabilities,
  labels: ArrayLike<number>,
  options: CbpeCalibrationOptions = {},
): CbpeCalibration {
  const n = rowCount(reference)
  const folds = Math.max(2, Math.min(options.folds ?? 5, n))
  const order = Uint32Array.from({ length: n }, (_, i) => i)
  shuffleInPlace(order, seededRandom(options.seed ?? 0))
  const all = Array.from(order)
  let rawSum = 0
  let calSum = 0
  for (let f = 0; f < folds; f++) {
    const test = all.filter((_, j) => j % folds === f)
    const train = all.filter((_, j) => j % folds !== f)
    const models = fitModels(reference, labels, train)
    const sub = (p: ClassProbabilities, rows: number[]): ClassProbabilities =>
      p.classes === 2
        ? { classes: 2, values: Float64Array.from(rows, (i) => prob(p, i, 1)) }
        : { classes: p.classes, values: Float64Array.from(rows.flatMap((i) => Array.from({ length: p.classes }, (_, c) => prob(p, i, c)))) }
    const testProbs = sub(reference, test)
    const testLabels = test.map((i) => labels[i]!)
    const idx = test.map((_, j) => j)
    rawSum += brier(testProbs, testLabels, idx) * test.length
    calSum += brier(applyCalibration(testProbs, models), testLabels, idx) * test.length
  }
  const raw = rawSum / n
  const cal = calSum / n
  const calibrated = cal < raw
  return {
    classes: reference.classes,
    calibrated,
    models: calibrated ? fitModels(reference, labels, all) : undefined,
    brier: { raw, calibrated: cal },
  }
}

function metricsFromConfusion(confusion: number[][], n: number): ClassificationMetrics {
  const k = confusion.length
  let diag = 0
  const precision: number[] = []
  const recall: number[] = []
  const f1: number[] = []
  for (let c = 0; c < k; c++) {
    diag += confusion[c]![c]!
    let predicted = 0
    let actual = 0
    for (let t = 0; t < k; t++) predicted += confusion[t]![c]!
    for (let p = 0; p < k; p++) actual += confusion[c]![p]!
    precision.push(predicted > 0 ? confusion[c]![c]! / predicted : 0)
    recall.push(actual > 0 ? confusion[c]![c]! / actual : 0)
    f1.push(predicted + actual > 0 ? (2 * confusion[c]![c]!) / (predicted + actual) : 0)
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length
  const out: ClassificationMetrics = {
    n,
    accuracy: n > 0 ? diag / n : Number.NaN,
    precision_macro: mean(precision),
    recall_macro: mean(recall),
    f1_macro: mean(f1),
    confusion,
  }
  if (k === 2) {
    out.precision = precision[1]!
    out.recall = recall[1]!
    out.f1 = f1[1]!
  }
  return out
}

function predictedClasses(p: ClassProbabilities, options: CbpeEstimateOptions): number[] {
  const n = rowCount(p)
  if (options.predictions) return Array.from({ length: n }, (_, i) => options.predictions![i]!)
  const threshold = options.threshold ?? 0.5
  return Array.from({ length: n }, (_, i) => {
    if (p.classes === 2) return prob(p, i, 1) >= threshold ? 1 : 0
    let best = 0
    for (let c = 1; c < p.classes; c++) if (prob(p, i, c) > prob(p, i, best)) best = c
    return best
  })
}

/**
 * Confidence-based performance estimation (CBPE, as in NannyML): with calibrated probabilities,
 * each prediction contributes its probability mass to the expected confusion matrix
 * E[C[t][p]] = Σ_{i: ŷᵢ = p} P(yᵢ = t), from which accuracy, precision, recall and F1 follow —
 * before any label arrives. Valid under covariate shift (P(y | x) unchanged); under concept drift
 * the calibration no longer holds and the estimate is wrong: compare with realized metrics as
 * labels come (see `realizedPerformance`).
 */
export function estimatePerformance(
  calibration: CbpeCalibration,
  probabilities: ClassProbabilities,
  options: CbpeEstimateOptions = {},
): ClassificationMetrics {
  const k = probabilities.classes
  const pred = predictedClasses(probabilities, options)
  const p = applyCalibration(probabilities, calibration.models)
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  const w = options.weights
  let n = 0
  pred.forEach((c, i) => {
    const wi = w ? w[i]! : 1
    n += wi
    for (let t = 0; t < k; t++) confusion[t]![c]! += wi * prob(p, i, t)
  })
  return metricsFromConfusion(confusion, n)
}

/**
 * Metrics of labelled predictions, with a Wilson 95% interval for the accuracy. With `weights`
 * (1/sample_rate) counts are weighted sums and the interval uses Kish's effective sample size.
 */
export function realizedPerformance(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  classes: number,
  weights?: ArrayLike<number>,
): ClassificationMetrics & { accuracy_ci: [number, number] } {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0))
  let sw = 0
  let sw2 = 0
  for (let i = 0; i < labels.length; i++) {
    const wi = weights ? weights[i]! : 1
    confusion[labels[i]!]![predictions[i]!]! += wi
    sw += wi
    sw2 += wi * wi
  }
  const m = metricsFromConfusion(confusion, sw)
  const n = weights ? (sw * sw) / sw2 : labels.length
  const z = 1.959963984540054
  const phat = m.accuracy
  const denom = 1 + (z * z) / n
  const centre = (phat + (z * z) / (2 * n)) / denom
  const half = (z * Math.sqrt((phat * (1 - phat)) / n + (z * z) / (4 * n * n))) / denom
  return { ...m, accuracy_ci: [centre - half, centre + half] }
}
