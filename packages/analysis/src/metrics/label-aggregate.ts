import {
  emptyMoments,
  emptyTally,
  momentsAdd,
  momentsMerge,
  type Tally,
  tallyAdd,
  tallyMerge,
  type WeightedMoments,
} from '../stats/index.js'
import type { LabelType } from './label-config.js'
import { MonitoringError } from './monitoring-error.js'

/** Most classes kept per label; later classes are counted under {@link OTHER_CLASS}. */
export const MAX_CLASSES_PER_LABEL = 64
/** The class that collects classes beyond {@link MAX_CLASSES_PER_LABEL}. */
export const OTHER_CLASS = '(other)'
/** Equal-width calibration bins over [0, 1]: bin i holds confidences in [i/10, (i+1)/10), the last one includes 1. */
export const CALIBRATION_BINS = 10
// Cell keys are actual·STRIDE + predicted; STRIDE exceeds the class cap so keys never collide.
const STRIDE = 1024

/** A weighted confusion matrix: one tally per (actual, predicted) cell that has ever been hit. */
export interface ConfusionMatrix {
  /** Class names in first-seen order; indexes into it make the cell keys. */
  classes: string[]
  /** Cell key `actual·1024 + predicted` → tally. Cells whose count returns to 0 are removed. */
  cells: Map<number, Tally>
}

/** One calibration bin: count, Σw, Σw·confidence, Σw·correct. */
export interface CalibrationBin {
  n: number
  w: number
  wConf: number
  wCorrect: number
}

/** Calibration of the predicted class's confidence: ten bins, and the Brier terms (confidence − correct)². */
export interface Calibration {
  bins: CalibrationBin[]
  brier: WeightedMoments
}

/**
 * Everything a bucket keeps for one feedback name used as a label. Parts exist once a contribution
 * needs them, so one name can carry several (a changed declaration keeps both histories).
 */
export interface LabelAggregate {
  /** Events with an effective label (coverage numerator). */
  labeled: Tally
  /** Classification (`class`, and `boolean` with a boolean prediction). */
  confusion?: ConfusionMatrix
  /** Present when contributions carried a confidence. */
  calibration?: Calibration
  /** Regression: |predicted − actual| and (predicted − actual)². */
  absError?: WeightedMoments
  sqError?: WeightedMoments
  /** `rating` values, and `number` labels of events without a numeric prediction. */
  values?: WeightedMoments
  /** `boolean` labels of events without a boolean prediction (thumbs on a generation): positives out of all. */
  positives?: { pos: Tally; all: Tally }
}

/**
 * One label's contribution to its event's bucket. Retracting needs the very same contribution that
 * was added (same values, same weight), which is what makes a replaced label exact.
 */
export interface LabelContribution {
  type: LabelType
  /** The true value: a class name, a boolean, a number (see {@link actualOf}). */
  actual: string | boolean | number
  /** The model's prediction for this label, when its output has one (see {@link predictionOf}). */
  predicted?: string | boolean | number
  /** Probability in [0, 1] that `predicted` is right; enables ECE and Brier. */
  confidence?: number
  /** The event's weight, 1/sample_rate. Default 1. */
  weight?: number
}

/** An empty label aggregate. */
export function emptyLabelAggregate(): LabelAggregate {
  return { labeled: emptyTally() }
}

/** A new calibration with empty bins. */
export function emptyCalibration(): Calibration {
  const bins: CalibrationBin[] = []
  for (let i = 0; i < CALIBRATION_BINS; i++) bins.push({ n: 0, w: 0, wConf: 0, wCorrect: 0 })
  return { bins, brier: emptyMoments() }
}

/** Index of a calibration bin for a confidence in [0, 1]. */
export function calibrationBin(confidence: number): number {
  return Math.min(CALIBRATION_BINS - 1, Math.floor(confidence * CALIBRATION_BINS))
}

function classKey(v: string | boolean | number): string {
  return typeof v === 'string' ? v : String(v)
}

/**
 * Index of a class, adding it when there is room; beyond the cap the class counts as
 * {@link OTHER_CLASS}. With `create` false an unknown class maps to `undefined` (retractions).
 */
function classIndex(cm: ConfusionMatrix, name: string, create: boolean): number | undefined {
  let i = cm.classes.indexOf(name)
  if (i >= 0) return i
  if (cm.classes.length < MAX_CLASSES_PER_LABEL) {
    if (!create) return undefined
    cm.classes.push(name)
    return cm.classes.length - 1
  }
  i = cm.classes.indexOf(OTHER_CLASS)
  if (i >= 0 || !create) return i >= 0 ? i : undefined
  cm.classes.push(OTHER_CLASS)
  return cm.classes.length - 1
}

/** The cell key of (actual, predicted) indexes. */
export function cellKey(actual: number, predicted: number): number {
  return actual * STRIDE + predicted
}

/** (actual, predicted) indexes of a cell key. */
export function cellIndexes(key: number): [number, number] {
  return [Math.floor(key / STRIDE), key % STRIDE]
}

function checkContribution(c: LabelContribution): number {
  const w = c.weight ?? 1
  if (!(w > 0 && Number.isFinite(w))) throw new MonitoringError('invalid_label', `weight must be positive and finite, got ${w}`)
  if (c.confidence !== undefined && !(c.confidence >= 0 && c.confidence <= 1)) {
    throw new MonitoringError('invalid_label', `confidence must be in [0, 1], got ${c.confidence}`)
  }
  if ((c.type === 'number' || c.type === 'rating') && !(typeof c.actual === 'number' && Number.isFinite(c.actual))) {
    throw new MonitoringError('invalid_label', `a ${c.type} label needs a finite number, got ${JSON.stringify(c.actual)}`)
  }
  if (c.type === 'number' && c.predicted !== undefined && !(typeof c.predicted === 'number' && Number.isFinite(c.predicted))) {
    throw new MonitoringError('invalid_label', `a number label's prediction must be a finite number, got ${JSON.stringify(c.predicted)}`)
  }
  if (c.type === 'boolean' && typeof c.actual !== 'boolean')
    throw new MonitoringError('invalid_label', 'a boolean label needs a boolean value')
  return w
}

/**
 * Adds (`sign` 1) or retracts (`sign` −1) one contribution. A retraction is checked whole before
 * anything changes: every count it would decrement must hold at least one item, else
 * `invalid_retraction` and the aggregate is unchanged.
 */
export function applyLabelContribution(la: LabelAggregate, c: LabelContribution, sign: 1 | -1): void {
  const w = checkContribution(c)
  const create = sign === 1
  const targets: { n: number }[] = [la.labeled]
  const ops: (() => void)[] = [() => tallyAdd(la.labeled, w, sign)]
  const classification = (c.type === 'class' || c.type === 'boolean') && c.predicted !== undefined
  if (classification) {
    if (!la.confusion) {
      if (!create) throw new MonitoringError('invalid_retraction', 'no classification was added for this label')
      la.confusion = { classes: [], cells: new Map() }
    }
    const cm = la.confusion
    const a = classIndex(cm, classKey(c.actual), create)
    const p = classIndex(cm, classKey(c.predicted as string | boolean | number), create)
    const key = a === undefined || p === undefined ? undefined : cellKey(a, p)
    let cell = key === undefined ? undefined : cm.cells.get(key)
    if (!cell) {
      if (!create || key === undefined) throw new MonitoringError('invalid_retraction', 'no such confusion cell')
      cell = emptyTally()
      cm.cells.set(key, cell)
    }
    const theCell = cell
    targets.push(theCell)
    ops.push(() => {
      tallyAdd(theCell, w, sign)
      if (theCell.n === 0 && key !== undefined) cm.cells.delete(key)
    })
    if (c.confidence !== undefined) {
      if (!la.calibration) {
        if (!create) throw new MonitoringError('invalid_retraction', 'no calibration was added for this label')
        la.calibration = emptyCalibration()
      }
      const cal = la.calibration
      const bin = cal.bins[calibrationBin(c.confidence)] as CalibrationBin
      const conf = c.confidence
      const correct = classKey(c.actual) === classKey(c.predicted as string | boolean | number) ? 1 : 0
      targets.push(bin, cal.brier)
      ops.push(() => {
        bin.n += sign
        if (bin.n === 0) {
          bin.w = bin.wConf = bin.wCorrect = 0
        } else {
          bin.w += sign * w
          bin.wConf += sign * w * conf
          bin.wCorrect += sign * w * correct
        }
        momentsAdd(cal.brier, (conf - correct) ** 2, w, sign)
      })
    }
  } else if (c.type === 'number' && c.predicted !== undefined) {
    if (!create && !la.absError) throw new MonitoringError('invalid_retraction', 'no regression error was added for this label')
    la.absError ??= emptyMoments()
    la.sqError ??= emptyMoments()
    const ae = la.absError
    const se = la.sqError
    const e = (c.predicted as number) - (c.actual as number)
    targets.push(ae, se)
    ops.push(() => {
      momentsAdd(ae, Math.abs(e), w, sign)
      momentsAdd(se, e * e, w, sign)
    })
  } else if (c.type === 'number' || c.type === 'rating') {
    if (!create && !la.values) throw new MonitoringError('invalid_retraction', 'no value was added for this label')
    la.values ??= emptyMoments()
    const vals = la.values
    targets.push(vals)
    ops.push(() => momentsAdd(vals, c.actual as number, w, sign))
  } else if (c.type === 'boolean') {
    if (!create && !la.positives) throw new MonitoringError('invalid_retraction', 'no boolean outcome was added for this label')
    la.positives ??= { pos: emptyTally(), all: emptyTally() }
    const pz = la.positives
    targets.push(pz.all)
    if (c.actual === true) targets.push(pz.pos)
    ops.push(() => {
      tallyAdd(pz.all, w, sign)
      if (c.actual === true) tallyAdd(pz.pos, w, sign)
    })
  }
  if (sign === -1) {
    for (const t of targets) if (!(t.n >= 1)) throw new MonitoringError('invalid_retraction', 'the retracted contribution was not added')
  }
  for (const op of ops) op()
}

/** Adds every count of `src` into `into` (classes beyond the cap fold into {@link OTHER_CLASS}). */
export function mergeLabelAggregate(into: LabelAggregate, src: LabelAggregate): void {
  tallyMerge(into.labeled, src.labeled)
  if (src.confusion) {
    into.confusion ??= { classes: [], cells: new Map() }
    const cm = into.confusion
    const map = src.confusion.classes.map((name) => classIndex(cm, name, true) as number)
    for (const [key, t] of src.confusion.cells) {
      const [a, p] = cellIndexes(key)
      const k = cellKey(map[a] as number, map[p] as number)
      const cell = cm.cells.get(k)
      if (cell) tallyMerge(cell, t)
      else cm.cells.set(k, { ...t })
    }
  }
  if (src.calibration) {
    into.calibration ??= emptyCalibration()
    const cal = into.calibration
    src.calibration.bins.forEach((b, i) => {
      const t = cal.bins[i] as CalibrationBin
      t.n += b.n
      t.w += b.w
      t.wConf += b.wConf
      t.wCorrect += b.wCorrect
    })
    momentsMerge(cal.brier, src.calibration.brier)
  }
  if (src.absError) momentsMerge((into.absError ??= emptyMoments()), src.absError)
  if (src.sqError) momentsMerge((into.sqError ??= emptyMoments()), src.sqError)
  if (src.values) momentsMerge((into.values ??= emptyMoments()), src.values)
  if (src.positives) {
    into.positives ??= { pos: emptyTally(), all: emptyTally() }
    tallyMerge(into.positives.pos, src.positives.pos)
    tallyMerge(into.positives.all, src.positives.all)
  }
}
