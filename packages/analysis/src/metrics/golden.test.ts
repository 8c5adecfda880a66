import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { decodeAggregate, encodeAggregate } from './aggregate-codec.js'
import { addEvent, addLabel, createMetricsAggregate } from './metrics-aggregate.js'
import { finalizeAggregate, type QualityFigures } from './metrics-finalizer.js'
import { predictionOf } from './prediction.js'

// numpy/scipy reference values: packages/analysis/scripts/make-monitoring-fixtures.py
const fx = JSON.parse(readFileSync(new URL('../../fixtures/monitoring-quality.json', import.meta.url), 'utf8'))

function close(actual: number | null | undefined, expected: number, rel = 1e-6): void {
  expect(typeof actual).toBe('number')
  expect(Math.abs((actual as number) - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(expected), 1e-12))
}

function classificationQuality(weighted: boolean): QualityFigures {
  const c = fx.classification
  const agg = createMetricsAggregate()
  c.actual.forEach((actual: string, i: number) => {
    const weight = weighted ? (c.weights[i] as number) : 1
    addEvent(agg, { weight })
    addLabel(agg, 'label', { type: 'class', actual, predicted: c.predicted[i], confidence: c.confidence[i], weight })
  })
  // Through the codec, as the server stores it.
  return finalizeAggregate(decodeAggregate(encodeAggregate(agg)), 0).quality.label as QualityFigures
}

describe('quality metrics against numpy', () => {
  for (const weighted of [false, true]) {
    it(`classification (${weighted ? 'weighted' : 'unweighted'}): accuracy, precision/recall/F1 per class and macro, ECE, Brier`, () => {
      const ref = fx.classification[weighted ? 'weighted' : 'unweighted']
      const q = classificationQuality(weighted)
      close(q.accuracy?.value, ref.accuracy)
      close(q.f1_macro?.value, ref.f1_macro)
      close(q.precision_macro?.value, ref.precision_macro)
      close(q.recall_macro?.value, ref.recall_macro)
      for (const [cls, r] of Object.entries(ref.per_class) as [
        string,
        { precision: number; recall: number; f1: number; support: number },
      ][]) {
        const got = q.per_class?.[cls]
        close(got?.precision?.value, r.precision)
        close(got?.recall?.value, r.recall)
        close(got?.f1.value, r.f1)
        close(got?.support, r.support)
      }
      close(q.ece, ref.ece)
      close(q.brier, ref.brier)
      for (const iv of [q.accuracy, q.f1_macro, q.precision_macro, q.recall_macro]) {
        expect(iv?.ci_low).toBeLessThan(iv?.value as number)
        expect(iv?.ci_high).toBeGreaterThan(iv?.value as number)
      }
    })
  }

  it('binary classifier with P(true) scores: top-label Brier equals the binary Brier score', () => {
    const b = fx.binary
    const agg = createMetricsAggregate()
    b.p_true.forEach((p: number, i: number) => {
      addEvent(agg, {})
      const pred = predictionOf({ p }, { output: 'p', type: 'boolean' })
      addLabel(agg, 'y', { type: 'boolean', actual: b.actual[i], ...pred })
    })
    const q = finalizeAggregate(agg, 0).quality.y
    close(q?.brier, b.brier)
    close(q?.accuracy?.value, b.accuracy)
  })

  it('regression: MAE and RMSE, plain and weighted, with t intervals', () => {
    const r = fx.regression
    for (const weighted of [false, true]) {
      const agg = createMetricsAggregate()
      r.actual.forEach((actual: number, i: number) => {
        const weight = weighted ? (r.weights[i] as number) : 1
        addEvent(agg, { weight })
        addLabel(agg, 'y', { type: 'number', actual, predicted: r.predicted[i], weight })
      })
      const q = finalizeAggregate(agg, 0).quality.y
      close(q?.mae?.value, weighted ? r.mae_weighted : r.mae)
      close(q?.rmse?.value, weighted ? r.rmse_weighted : r.rmse)
      if (!weighted) {
        close(q?.mae?.ci_low, r.mae_ci[0])
        close(q?.mae?.ci_high, r.mae_ci[1])
        close(q?.rmse?.ci_low, Math.sqrt(r.mse_ci[0]))
        close(q?.rmse?.ci_high, Math.sqrt(r.mse_ci[1]))
      }
    }
  })
})
