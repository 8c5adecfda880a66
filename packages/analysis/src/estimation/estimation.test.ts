import { describe, expect, it } from 'vitest'
import { seededRandom } from '../drift/random.js'
import { categoricalColumn, numericalColumn } from '../fields/column.js'
import { type ClassProbabilities, estimatePerformance, fitCbpeCalibration, realizedPerformance } from './cbpe.js'
import { conceptDrift } from './concept-drift.js'
import { fitIsotonic, predictIsotonic } from './isotonic.js'
import { createPageHinkleyState, type PageHinkleyState, pageHinkleyUpdate } from './page-hinkley.js'

const random = seededRandom(5)
function gaussian(): number {
  let u = 0
  while (u === 0) u = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z))

describe('isotonic regression (pool adjacent violators)', () => {
  it('pools violators and interpolates between fitted points', () => {
    const m = fitIsotonic([1, 2, 3, 4, 5, 6], [1, 3, 2, 4, 3, 5])
    expect(m.y).toEqual([1, 2.5, 2.5, 3.5, 3.5, 5])
    expect(predictIsotonic(m, 0)).toBe(1)
    expect(predictIsotonic(m, 5.5)).toBe(4.25)
    expect(predictIsotonic(m, 9)).toBe(5)
  })
  it('pools ties in x before fitting', () => {
    expect(fitIsotonic([1, 1, 2], [0, 1, 0]).y).toEqual([1 / 3, 1 / 3])
  })
})

/** A binary window: x ~ N(mu, 1.2), labels from the true P(y=1|x), the model's score. */
function binaryWindow(n: number, mu: number, truth: (x: number) => number, model: (x: number) => number) {
  const scores = new Float64Array(n)
  const labels = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const x = mu + 1.2 * gaussian()
    scores[i] = model(x)
    labels[i] = random() < truth(x) ? 1 : 0
  }
  return { probs: { classes: 2, values: scores } satisfies ClassProbabilities, labels }
}

describe('confidence-based performance estimation', () => {
  const truth = (x: number) => sigmoid(2 * x - 0.5)
  // An over-confident model: right ranking, wrong probabilities; isotonic calibration fixes it.
  const model = (x: number) => sigmoid(3.5 * x - 0.9)
  const ref = binaryWindow(6000, 0, truth, model)
  const calibration = fitCbpeCalibration(ref.probs, ref.labels)
  const means = Array.from({ length: 20 }, (_, w) => -1 + (2 * w) / 19)

  it('calibrates an over-confident model because it lowers the cross-validated Brier score', () => {
    expect(calibration.calibrated).toBe(true)
    expect(calibration.brier.calibrated).toBeLessThan(calibration.brier.raw)
  })

  it('keeps a calibrated model as it is', () => {
    const good = binaryWindow(6000, 0, truth, truth)
    const c = fitCbpeCalibration(good.probs, good.labels)
    expect(c.brier.calibrated).toBeGreaterThan(c.brier.raw * 0.995)
  })

  it('under covariate shift, the estimate lies within the realized 95% CI in most windows', () => {
    let inside = 0
    for (const mu of means) {
      const w = binaryWindow(1500, mu, truth, model)
      const est = estimatePerformance(calibration, w.probs)
      const pred = Array.from(w.probs.values, (s) => (s >= 0.5 ? 1 : 0))
      const real = realizedPerformance(w.labels, pred, 2)
      if (est.accuracy >= real.accuracy_ci[0] && est.accuracy <= real.accuracy_ci[1]) inside++
      expect(Math.abs(est.f1! - real.f1!)).toBeLessThan(0.08)
    }
    expect(inside).toBeGreaterThanOrEqual(16)
  })

  it('under concept drift, the estimate misses and the realized metric reveals it', () => {
    const drifted = (x: number) => sigmoid(-1.5 * x + 0.5)
    let outside = 0
    for (const mu of means) {
      const w = binaryWindow(1500, mu, drifted, model)
      const est = estimatePerformance(calibration, w.probs)
      const pred = Array.from(w.probs.values, (s) => (s >= 0.5 ? 1 : 0))
      const real = realizedPerformance(w.labels, pred, 2)
      if (est.accuracy < real.accuracy_ci[0] || est.accuracy > real.accuracy_ci[1]) outside++
    }
    expect(outside).toBeGreaterThanOrEqual(16)
  })

  it('estimates multiclass accuracy and macro F1 under covariate shift', () => {
    const window = (n: number, shift: number) => {
      const values = new Float64Array(n * 3)
      const labels = new Int32Array(n)
      for (let i = 0; i < n; i++) {
        const z = [gaussian() * 1.5 + shift, gaussian() * 1.5 - shift, 0]
        const e = z.map(Math.exp)
        const s = e[0]! + e[1]! + e[2]!
        const p = e.map((v) => v / s)
        values.set(p, i * 3)
        const u = random()
        labels[i] = u < p[0]! ? 0 : u < p[0]! + p[1]! ? 1 : 2
      }
      return { probs: { classes: 3, values } satisfies ClassProbabilities, labels }
    }
    const r = window(6000, 0)
    const c = fitCbpeCalibration(r.probs, r.labels)
    let inside = 0
    for (const shift of [-0.8, -0.4, 0, 0.4, 0.8, 1.2]) {
      const w = window(2000, shift)
      const est = estimatePerformance(c, w.probs)
      const pred = Array.from({ length: 2000 }, (_, i) => {
        const row = Array.from(w.probs.values.subarray(i * 3, i * 3 + 3))
        return row.indexOf(Math.max(...row))
      })
      const real = realizedPerformance(w.labels, pred, 3)
      if (est.accuracy >= real.accuracy_ci[0] && est.accuracy <= real.accuracy_ci[1]) inside++
      expect(Math.abs(est.f1_macro - real.f1_macro)).toBeLessThan(0.06)
    }
    expect(inside).toBeGreaterThanOrEqual(5)
  })
})

describe('Page–Hinkley on per-event correctness', () => {
  it('stays quiet at a steady error rate and alarms soon after it rises; the state survives JSON', () => {
    let state: PageHinkleyState = createPageHinkleyState()
    let alarms = 0
    for (let i = 0; i < 5000; i++) {
      const r = pageHinkleyUpdate(state, random() < 0.1 ? 1 : 0)
      state = JSON.parse(JSON.stringify(r.state)) as PageHinkleyState
      if (r.drift) alarms++
    }
    expect(alarms).toBe(0)
    let detectedAfter = -1
    for (let i = 0; i < 2000 && detectedAfter < 0; i++) {
      const r = pageHinkleyUpdate(state, random() < 0.4 ? 1 : 0)
      state = r.state
      if (r.drift) detectedAfter = i
    }
    expect(detectedAfter).toBeGreaterThan(0)
    expect(detectedAfter).toBeLessThan(400)
    expect(state.alarms).toBe(1)
  })
})

describe('concept drift per field bin', () => {
  function window(n: number, errorRate: (x: number) => number) {
    const x = Float64Array.from({ length: n }, () => gaussian())
    const correct = Float64Array.from(x, (v) => (random() < errorRate(v) ? 0 : 1))
    return { col: numericalColumn(x), correct }
  }
  it('flags the bins where the error rate moved, not the others', () => {
    const ref = window(20_000, () => 0.1)
    const cur = window(20_000, (x) => (x > 1.3 ? 0.4 : 0.1))
    const r = conceptDrift(ref.col, ref.correct, cur.col, cur.correct)
    expect(r.drift).toBe(true)
    expect(r.bins.filter((b) => b.moved).map((b) => b.bin)).toEqual([r.bins[r.bins.length - 1]!.bin])
    expect(r.bins[r.bins.length - 1]!.current.error_rate).toBeGreaterThan(0.3)
  })
  it('sees no drift when the relationship holds, even if the inputs shift', () => {
    const ref = window(20_000, (x) => (x > 0 ? 0.2 : 0.05))
    const x = Float64Array.from({ length: 20_000 }, () => gaussian() + 0.7)
    const correct = Float64Array.from(x, (v) => (random() < (v > 0 ? 0.2 : 0.05) ? 0 : 1))
    const r = conceptDrift(ref.col, ref.correct, numericalColumn(x), correct)
    expect(r.drift).toBe(false)
    expect(r.bins.some((b) => b.moved)).toBe(false)
  })
  it('bins categories with an (other) bucket and skips unlabelled rows', () => {
    const ref = categoricalColumn(['a', 'b', 'c', 'a', 'b', 'z'])
    const cur = categoricalColumn(['a', 'b', 'c', 'a', 'q', 'q'])
    const r = conceptDrift(ref, [1, 1, 0, 1, 0, 1], cur, [1, Number.NaN, 0, 0, 1, 1], { bins: 3 })
    expect(r.bins.map((b) => b.bin)).toEqual(['a', 'b', '(other)'])
    expect(r.bins[1]!.current.n).toBe(0)
    expect(r.bins[2]!.current.n).toBe(3)
  })
})

describe('weighted estimates (1/sample_rate)', () => {
  it('a row of weight 2 counts as the row twice, estimated and realized alike', () => {
    const p = Float64Array.from([0.9, 0.2, 0.7, 0.4])
    const y = [1, 0, 0, 1]
    const cal = { classes: 2, calibrated: false, brier: { raw: 0, calibrated: 0 } }
    const w = [2, 1, 1, 2]
    const dup = { classes: 2, values: Float64Array.from([0.9, 0.9, 0.2, 0.7, 0.4, 0.4]) }
    const a = estimatePerformance(cal, { classes: 2, values: p }, { weights: w })
    const b = estimatePerformance(cal, dup)
    expect(a.n).toBe(6)
    expect(a.accuracy).toBeCloseTo(b.accuracy, 12)
    expect(a.f1).toBeCloseTo(b.f1!, 12)
    const pred = [1, 0, 1, 0]
    const ra = realizedPerformance(y, pred, 2, w)
    const rb = realizedPerformance([1, 1, 0, 0, 1, 1], [1, 1, 0, 1, 0, 0], 2)
    expect(ra.accuracy).toBeCloseTo(rb.accuracy, 12)
    expect(ra.f1).toBeCloseTo(rb.f1!, 12)
    // The interval uses Kish's effective size (36/10 = 3.6 rows), wider than six independent rows.
    expect(ra.accuracy_ci[1] - ra.accuracy_ci[0]).toBeGreaterThan(rb.accuracy_ci[1] - rb.accuracy_ci[0])
  })
})
