import { describe, expect, it } from 'vitest'
import { addEvent, addLabel, createMetricsAggregate, type MetricsAggregate } from '../metrics/index.js'
import { twoProportionTest, welchTTestSamples } from '../stats/index.js'
import { compareAggregates } from './ab-comparison.js'
import { normalizeText } from './normalize-text.js'
import { sliceMetric } from './segment-slices.js'
import { compareShadow } from './shadow-comparison.js'

function arm(n: number, errors: number, correct: number, latencies: number[]): MetricsAggregate {
  const agg = createMetricsAggregate()
  for (let i = 0; i < n; i++) {
    addEvent(agg, { error: i < errors, latencyMs: { total: latencies[i % latencies.length] as number }, costUsd: 0.001 * (1 + (i % 3)) })
    addLabel(agg, 'label', { type: 'class', actual: 'a', predicted: i < correct ? 'a' : 'b' })
  }
  return agg
}

describe('compareAggregates', () => {
  it('compares every metric with the test of its kind, difference b − a', () => {
    const latA = [10, 12, 14, 11, 13]
    const latB = [15, 17, 19, 16, 18]
    const a = arm(500, 45, 400, latA)
    const b = arm(520, 70, 450, latB)
    const r = compareAggregates(a, b)
    expect(r.a).toEqual({ n: 500, count: 500 })
    const ref = twoProportionTest({ successes: 45, n: 500 }, { successes: 70, n: 520 })
    expect(r.metrics.error_rate).toEqual({
      a: 0.09,
      b: 70 / 520,
      diff: 70 / 520 - 0.09,
      ci_low: ref.ci_low,
      ci_high: ref.ci_high,
      p_value: ref.p_value,
    })
    const lat = welchTTestSamples(
      Array.from({ length: 500 }, (_, i) => latA[i % 5] as number),
      Array.from({ length: 520 }, (_, i) => latB[i % 5] as number),
    )
    expect(r.metrics['latency_ms.total.mean']?.diff).toBeCloseTo(lat.diff, 12)
    expect(r.metrics['latency_ms.total.mean']?.p_value).toBeCloseTo(lat.p_value, 12)
    expect(r.metrics['quality.label.accuracy']?.b).toBeCloseTo(450 / 520, 12)
    expect(Object.keys(r.metrics)).toEqual(
      expect.arrayContaining(['cost_usd.per_request', 'quality.label.f1_macro', 'quality.label.coverage', 'quality.label.recall.a']),
    )
    expect(r.srm.mismatch).toBe(false)
  })

  it('flags a sample ratio mismatch, adjusting for different sample rates', () => {
    const a = createMetricsAggregate()
    const b = createMetricsAggregate()
    for (let i = 0; i < 5300; i++) addEvent(a, {})
    for (let i = 0; i < 4700; i++) addEvent(b, {})
    expect(compareAggregates(a, b).srm.mismatch).toBe(true)
    // b logged at 10%: 4 700 stored stand for 47 000 requests, which is what a 10/90 split expects.
    const c = createMetricsAggregate()
    for (let i = 0; i < 4700; i++) addEvent(c, { weight: 10 })
    const r = compareAggregates(a, c, { expectedSplit: 0.1 })
    expect(r.srm.mismatch).toBe(false)
    expect(compareAggregates(a, c).srm.mismatch).toBe(true)
  })
})

describe('sliceMetric', () => {
  it('finds the segments significantly worse than the rest, BH-corrected', () => {
    const seg = (n: number, acc: number) => {
      const agg = createMetricsAggregate()
      for (let i = 0; i < n; i++) {
        addEvent(agg, {})
        addLabel(agg, 'label', { type: 'class', actual: 'x', predicted: i < acc * n ? 'x' : 'y' })
      }
      return agg
    }
    const r = sliceMetric(
      { gold: seg(400, 0.9), silver: seg(400, 0.88), bronze: seg(400, 0.7), tiny: seg(10, 0.1) },
      'quality.label.accuracy',
    )
    expect(r.worse).toEqual(['bronze'])
    const bronze = r.segments.find((s) => s.segment === 'bronze')
    expect(bronze).toMatchObject({ n: 400, count: 400, value: 0.7, worse: true })
    expect(bronze?.rest).toBeCloseTo((360 + 352 + 1) / 810, 12)
    expect(r.segments.find((s) => s.segment === 'tiny')).toMatchObject({ p_value: null, worse: false })
    expect(r.segments.find((s) => s.segment === 'gold')?.worse).toBe(false)
  })
})

describe('compareShadow', () => {
  it('measures agreement, text matches, deltas and the most divergent pairs', () => {
    const r = compareShadow([
      {
        id: 'p1',
        primary: { output: { label: 'cat' }, latencyMs: 10, costUsd: 1 },
        shadow: { output: { label: 'cat' }, latencyMs: 14, costUsd: 0.5 },
      },
      {
        id: 'p2',
        primary: { output: { label: 'cat' }, latencyMs: 12, costUsd: 1 },
        shadow: { output: { label: 'dog' }, latencyMs: 15, costUsd: 0.5 },
      },
      {
        id: 'p3',
        primary: { output: { label: 'dog' }, latencyMs: 11, costUsd: 1 },
        shadow: { output: { label: 'dog' }, latencyMs: 13, costUsd: 0.5 },
      },
      { id: 'p4', primary: { output: { label: 'dog' }, latencyMs: 9 }, shadow: {} },
    ])
    expect(r.pairs).toBe(4)
    expect(r.agreement?.value).toBeCloseTo(2 / 3, 12)
    expect(r.deltas.latency_ms).toMatchObject({ value: 3, n: 3, mean_abs: 3 })
    expect(r.deltas.cost_usd?.value).toBe(-0.5)
    expect(r.most_divergent).toEqual(['p2'])

    const t = compareShadow(
      [
        { id: 'a', primary: { output: 'Paris.' }, shadow: { output: 'paris' } },
        { id: 'b', primary: { output: 'The answer is 42' }, shadow: { output: 'The answer is 42' } },
        { id: 'c', primary: { output: 'yes it is' }, shadow: { output: 'no it is not' } },
        { id: 'd', primary: { output: 'totally different' }, shadow: { output: 'unrelated words' } },
      ],
      { top: 3 },
    )
    expect(t.text?.exact.value).toBe(0.25)
    expect(t.text?.normalized.value).toBe(0.5)
    expect(t.most_divergent).toEqual(['d', 'c', 'a'])
    const n = compareShadow(
      [
        { id: 'x', primary: { output: { y: 10 } }, shadow: { output: { y: 12 } } },
        { id: 'z', primary: { output: { y: 10 } }, shadow: { output: { y: 11 } } },
      ],
      { output: 'y' },
    )
    expect(n.deltas.output).toMatchObject({ value: 1.5, n: 2, mean_abs: 1.5 })
    expect(n.most_divergent).toEqual(['x', 'z'])
  })

  it('normalizes case, white space and punctuation', () => {
    expect(normalizeText('  Hello,   WORLD!\n')).toBe('hello world')
    expect(normalizeText('ＡＢＣ — “quoted”')).toBe('abc quoted')
    expect(normalizeText('2+2=4')).toBe('2+2=4')
  })
})
