import { describe, expect, it } from 'vitest'
import { aggregateToJson, decodeAggregate, encodeAggregate } from './aggregate-codec.js'
import type { LabelContribution } from './label-aggregate.js'
import {
  addConversion,
  addEvent,
  addLabel,
  createMetricsAggregate,
  type MetricsAggregate,
  mergeAggregates,
  observationOf,
  retractConversion,
  retractLabel,
} from './metrics-aggregate.js'
import { finalizeAggregate } from './metrics-finalizer.js'
import { MonitoringError } from './monitoring-error.js'

function lcg(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 48271) % 2147483647
    return s / 2147483647
  }
}

const CLASSES = ['cat', 'dog', 'bird']

function filled(seed: number, events: number, weights: number[] = [1]): MetricsAggregate {
  const r = lcg(seed)
  const agg = createMetricsAggregate()
  for (let i = 0; i < events; i++) {
    const w = weights[Math.floor(r() * weights.length)] as number
    addEvent(agg, {
      weight: w,
      error: r() < 0.05,
      latencyMs: { total: 20 + 200 * r() * r(), inference: 10 + 100 * r() },
      inputTokens: Math.floor(100 * r()),
      outputTokens: Math.floor(50 * r()),
      costUsd: 0.001 * r(),
    })
    const predicted = CLASSES[Math.floor(r() * 3)] as string
    const actual = r() < 0.7 ? predicted : (CLASSES[Math.floor(r() * 3)] as string)
    addLabel(agg, 'label', { type: 'class', actual, predicted, confidence: 0.34 + 0.66 * r(), weight: w })
    addLabel(agg, 'rating', { type: 'rating', actual: 1 + Math.floor(5 * r()), weight: w })
    if (r() < 0.1) addConversion(agg, 'purchase', w)
  }
  return agg
}

describe('MetricsAggregate', () => {
  it('retracting a replaced label leaves the aggregate as if only the new label had been added', () => {
    const base = filled(1, 200, [1, 2, 1 / 0.3])
    const direct = decodeAggregate(encodeAggregate(base))
    const first: LabelContribution = { type: 'class', actual: 'dog', predicted: 'cat', confidence: 0.8, weight: 4 }
    const second: LabelContribution = { type: 'class', actual: 'cat', predicted: 'cat', confidence: 0.8, weight: 4 }
    addLabel(base, 'label', first)
    retractLabel(base, 'label', first)
    addLabel(base, 'label', second)
    addLabel(direct, 'label', second)
    // Counts are exact; weighted sums of fractional values are exact up to float rounding.
    const cellsB = base.labels.get('label')?.confusion?.cells ?? new Map()
    const cellsD = direct.labels.get('label')?.confusion?.cells ?? new Map()
    expect([...cellsB.keys()]).toEqual([...cellsD.keys()])
    for (const [k, t] of cellsB) {
      expect(t.n).toBe(cellsD.get(k)?.n)
      expect(t.w).toBeCloseTo(cellsD.get(k)?.w, 10)
    }
    const pb = finalizeAggregate(base, 0).quality.label
    const pd = finalizeAggregate(direct, 0).quality.label
    expect(pb?.n_labeled).toBe(pd?.n_labeled)
    expect(pb?.accuracy?.value).toBeCloseTo(pd?.accuracy?.value as number, 12)
    expect(pb?.f1_macro?.ci_low).toBeCloseTo(pd?.f1_macro?.ci_low as number, 12)
    expect(pb?.ece).toBeCloseTo(pd?.ece as number, 12)
    expect(pb?.brier).toBeCloseTo(pd?.brier as number, 12)
  })

  it('retracting the only label of a name removes it, and an unknown retraction changes nothing', () => {
    const agg = createMetricsAggregate()
    addEvent(agg, { weight: 1 })
    const c: LabelContribution = { type: 'number', actual: 3, predicted: 2.5 }
    addLabel(agg, 'y', c)
    const before = encodeAggregate(agg)
    expect(() => retractLabel(agg, 'y', { ...c, predicted: undefined })).toThrow(MonitoringError)
    expect(encodeAggregate(agg)).toBe(before)
    expect(() => retractLabel(agg, 'label', c)).toThrow(expect.objectContaining({ code: 'invalid_retraction' }))
    retractLabel(agg, 'y', c)
    expect(agg.labels.size).toBe(0)
    addConversion(agg, 'buy')
    retractConversion(agg, 'buy')
    expect(agg.conversions.size).toBe(0)
    expect(() => retractConversion(agg, 'buy')).toThrow(MonitoringError)
  })

  it('merging parts equals aggregating the union, and survives the codec', () => {
    const whole = filled(5, 600, [1, 5])
    const again = filled(5, 600, [1, 5])
    const merged = mergeAggregates([decodeAggregate(encodeAggregate(again)), createMetricsAggregate()])
    expect(finalizeAggregate(merged, 0)).toEqual(finalizeAggregate(whole, 0))
    const a = filled(8, 300)
    const b = filled(9, 300)
    const ab = mergeAggregates([a, b])
    const ba = mergeAggregates([decodeAggregate(encodeAggregate(b)), decodeAggregate(encodeAggregate(a))])
    const pa = finalizeAggregate(ab, 0)
    const pb = finalizeAggregate(ba, 0)
    expect(pb.n).toBe(600)
    expect(pb.count).toBeCloseTo(pa.count, 9)
    expect(pb.latency_ms).toEqual(pa.latency_ms)
    expect(pb.quality.label?.accuracy?.value).toBeCloseTo(pa.quality.label?.accuracy?.value as number, 12)
    expect(pb.quality.label?.f1_macro?.value).toBeCloseTo(pa.quality.label?.f1_macro?.value as number, 12)
  })

  it('finalizes to the contract shape, every figure weighted', () => {
    const agg = createMetricsAggregate()
    addEvent(agg, { weight: 1, latencyMs: { total: 100 }, inputTokens: 10, outputTokens: 5, costUsd: 0.01 })
    addEvent(agg, { weight: 3, error: true, latencyMs: { total: 300 }, inputTokens: 20, costUsd: 0.02 })
    addLabel(agg, 'thumbs', { type: 'boolean', actual: true, weight: 1 })
    addLabel(agg, 'thumbs', { type: 'boolean', actual: false, weight: 3 })
    addConversion(agg, 'purchase', 3)
    const p = finalizeAggregate(agg, Date.UTC(2026, 0, 1))
    expect(p.start).toBe('2026-01-01T00:00:00.000Z')
    expect(p).toMatchObject({ count: 4, n: 2, errors: 3, error_rate: 0.75, usage: { input_tokens: 70, output_tokens: 5 } })
    expect(p.usage.cost_usd).toBeCloseTo(0.07, 15)
    expect(p.n_eff).toBeCloseTo(16 / 10, 12)
    expect(p.latency_ms.total?.p50).toBeCloseTo(300, -1)
    expect(p.latency_ms.total?.mean).toBe(250)
    expect(p.quality.thumbs?.mean?.value).toBe(0.25)
    expect(p.quality.thumbs?.coverage).toBe(1)
    expect(p.quality.purchase?.conversion_rate?.value).toBe(0.75)
    // Names are user data.
    addLabel(agg, '__proto__', { type: 'rating', actual: 3 })
    addLabel(agg, 'x', { type: 'class', actual: '__proto__', predicted: '__proto__' })
    const p2 = finalizeAggregate(decodeAggregate(encodeAggregate(agg)), 0)
    expect(Object.getPrototypeOf(p2.quality)).toBe(Object.prototype)
    expect(Object.hasOwn(p2.quality, '__proto__')).toBe(true)
    expect(JSON.parse(JSON.stringify(p2.quality)).__proto__.mean.value).toBe(3)
    expect(Object.hasOwn(p2.quality.x?.per_class ?? {}, '__proto__')).toBe(true)
  })

  it('keeps a minute of 1 000 events with two labels small', () => {
    const agg = filled(3, 1000)
    const json = encodeAggregate(agg)
    expect(json.length).toBeLessThan(6000)
    expect(Object.keys(aggregateToJson(agg))).toEqual(expect.arrayContaining(['v', 'e', 'l', 'q']))
  })

  it('reads events as observations: weight, status, latency, usage, client cost first', () => {
    const base = { model: { name: 'm', version: '1' }, input: 1, output: 2 }
    expect(observationOf({ ...base, sample_rate: 0.25, usage: { cost_usd: 0.5, input_tokens: 3 } }, 9)).toEqual({
      weight: 4,
      error: false,
      inputTokens: 3,
      costUsd: 0.5,
    })
    expect(observationOf({ ...base, status: 'error', usage: { input_tokens: 3 } }, 0.2)).toMatchObject({
      weight: 1,
      error: true,
      costUsd: 0.2,
    })
  })

  it('rejects a bad aggregate text', () => {
    expect(() => decodeAggregate('{"v":2}')).toThrow(expect.objectContaining({ code: 'invalid_aggregate' }))
    expect(() => decodeAggregate('nope')).toThrow(MonitoringError)
    // Sketches decode on first use: a truncated one fails when read.
    const lazy = decodeAggregate('{"v":1,"e":1,"l":{"total":["AQ==",[1,1,1]]}}')
    expect(() => finalizeAggregate(lazy, 0)).toThrow(RangeError)
  })
})
