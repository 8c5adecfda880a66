import { describe, expect, it } from 'vitest'
import type { MetricPoint, MetricsReply } from './api/types.js'
import {
  align,
  chartFields,
  estimatedLines,
  headlineMetric,
  lines,
  metricsQuery,
  qualityLines,
  qualityNames,
  scorePath,
} from './overview-data.js'

const point = (start: string, count: number, extra: Partial<MetricPoint> = {}): MetricPoint => ({
  start,
  count,
  n: count,
  n_eff: count,
  errors: 0,
  error_rate: 0,
  latency_ms: {},
  usage: { input_tokens: 0, output_tokens: 0, cost_usd: 0 },
  ...extra,
})

const reply: MetricsReply = {
  bucket: 'hour',
  series: [
    { group: { version: '1' }, points: [point('2026-01-01T00:00:00Z', 3), point('2026-01-01T02:00:00Z', 5)] },
    {
      group: { version: '2' },
      points: [
        point('2026-01-01T01:00:00Z', 7, {
          quality: { label: { n_labeled: 4, coverage: 0.5, accuracy: { value: 0.75, ci_low: 0.3, ci_high: 0.95 } } },
          estimated: { label: { accuracy: 0.8 } },
        }),
      ],
    },
  ],
}

describe('overview data', () => {
  it('aligns groups on the union of bucket starts, with gaps', () => {
    const a = align(reply)
    expect(a.x).toEqual([1767225600, 1767229200, 1767232800])
    expect(lines(a, (p) => p.count)).toEqual([
      { label: '1', values: [3, null, 5] },
      { label: '2', values: [null, 7, null] },
    ])
  })

  it('finds labels, their headline metric, bands and estimates', () => {
    expect(qualityNames(reply)).toEqual(['label'])
    expect(headlineMetric(reply, 'label')).toBe('accuracy')
    const a = align(reply)
    const q = qualityLines(a, 'label', 'accuracy')
    expect(q[1]!.values).toEqual([null, 0.75, null])
    expect(q[1]!.band).toEqual({ lo: [null, 0.3, null], hi: [null, 0.95, null] })
    const est = estimatedLines(a, 'label', 'accuracy')
    expect(est.map((s) => s.label)).toEqual(['2 realized', '2 estimated'])
    expect(est[1]!.values).toEqual([null, 0.8, null])
  })

  it('asks only for the figures the charts draw, for every feedback name without knowing it first', () => {
    expect(chartFields(['total', 'ttft'])).toBe(
      'count,error_rate,usage.cost_usd,quality.*.coverage,latency_ms.total.p50,latency_ms.total.p99,latency_ms.ttft.p50,' +
        'latency_ms.ttft.p99,quality.*.accuracy,quality.*.f1_macro,quality.*.mae,quality.*.rmse,quality.*.mean,quality.*.conversion_rate',
    )
    expect(chartFields([])).toBe(
      'count,error_rate,usage.cost_usd,quality.*.coverage,quality.*.accuracy,quality.*.f1_macro,quality.*.mae,quality.*.rmse,' +
        'quality.*.mean,quality.*.conversion_rate',
    )
  })

  it('handles an empty reply', () => {
    const a = align({ bucket: 'hour', series: [] })
    expect(a.x).toEqual([])
    expect(qualityNames({ bucket: 'hour', series: [] })).toEqual([])
  })
})

describe('score paths for the estimate', () => {
  it('finds a binary score or a class-probability object', () => {
    expect(scorePath({ churn: true, score: 0.8 })).toEqual({ score: 'output.score' })
    expect(scorePath({ label: 'a', probabilities: { a: 0.7, b: 0.3 } })).toEqual({ probabilities: 'output.probabilities' })
    expect(scorePath({ label: 'a', probabilities: { a: 'x' } })).toBeUndefined()
    expect(scorePath('text')).toBeUndefined()
  })
})

describe('metricsQuery', () => {
  it('reads the window ending at now, per version, in the window bucket unless told', () => {
    const now = Date.parse('2026-03-01T00:00:00Z')
    expect(metricsQuery('m', '30d', now)).toEqual({
      model: 'm',
      bucket: 'hour',
      group_by: 'version',
      from: '2026-01-30T00:00:00.000Z',
      to: '2026-03-01T00:01:00.000Z',
    })
    expect(metricsQuery('m', '1h', now, 'all').bucket).toBe('all')
  })
})
