import { describe, expect, it } from 'vitest'
import { addEvent, addLabel, createMetricsAggregate, finalizeAggregate, MonitoringError } from '../metrics/index.js'
import { type AlertRule, parseAlertRule, parseAlertRules, windowMs } from './alert-rule.js'
import { type AlertState, evaluateAlert, metricObservation } from './evaluate-alert.js'

const rule: AlertRule = {
  id: 'err-rate',
  condition: { type: 'metric', metric: 'error_rate', filter: { model: 'm' } },
  window: '15m',
  operator: '>',
  threshold: 0.05,
  min_samples: 200,
}

function issues(f: () => unknown) {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(MonitoringError)
    return (e as MonitoringError).issues
  }
  throw new Error('expected a rejection')
}

describe('alert rules', () => {
  it('accepts every condition type', () => {
    expect(parseAlertRule(rule)).toBe(rule)
    expect(
      parseAlertRules([
        rule,
        {
          id: 'ab',
          condition: { type: 'comparison', metric: 'quality.label.accuracy', a: { arm: 'a' }, b: { arm: 'b' }, statistic: 'p_value' },
          window: '1d',
          operator: '<',
          threshold: 0.01,
        },
        {
          id: 'drift',
          condition: { type: 'drift', fields: ['input.age'], method: 'psi', statistic: 'drift_share' },
          window: '1h',
          operator: '>=',
          threshold: 0.5,
        },
        {
          id: 'cd',
          condition: { type: 'concept_drift', label: 'label' },
          window: '7d',
          operator: '>',
          threshold: 0.1,
          webhook: 'https://hooks.example/x',
        },
      ]),
    ).toHaveLength(4)
    expect(windowMs('15m')).toBe(900_000)
  })

  it('rejects a malformed rule whole, with every path', () => {
    const got = issues(() =>
      parseAlertRule({
        id: 'bad id',
        condition: { type: 'metric', metric: 'latency_ms.total.p42', extra: 1 },
        window: '5w',
        operator: '!=',
        min_samples: 0,
      }),
    )
    expect(got.map((i) => i.path).sort()).toEqual([
      '/condition/extra',
      '/condition/metric',
      '/id',
      '/min_samples',
      '/operator',
      '/threshold',
      '/window',
    ])
    const list = issues(() => parseAlertRules([rule, { ...rule, window: '91d' }, { ...rule, condition: { type: 'drift' } }]))
    expect(list).toEqual(expect.arrayContaining([{ path: '/2/condition/fields', message: 'is required' }]))
    const dup = issues(() => parseAlertRules([rule, { ...rule, window: '91d' }]))
    expect(dup).toEqual([
      { path: '/1/window', message: 'must be between 1s and 90d' },
      { path: '/1/id', message: 'duplicates the id of /0' },
    ])
  })
})

describe('evaluateAlert', () => {
  it('fires and resolves on crossings, and never fires below the minimum sample size', () => {
    let state: AlertState = 'ok'
    const seq = [
      { value: 0.5, n: 199, expect: ['ok', null, 'insufficient_samples'] },
      { value: 0.06, n: 200, expect: ['firing', 'fired', 'condition_met'] },
      { value: 0.07, n: 500, expect: ['firing', null, 'condition_met'] },
      { value: 0.01, n: 10, expect: ['firing', null, 'insufficient_samples'] },
      { value: null, n: 0, expect: ['firing', null, 'no_value'] },
      { value: 0.05, n: 300, expect: ['ok', 'resolved', 'condition_not_met'] },
      { value: 0.04, n: 300, expect: ['ok', null, 'condition_not_met'] },
    ]
    for (const s of seq) {
      const r = evaluateAlert(rule, state, { value: s.value, n: s.n })
      expect([r.state, r.transition, r.reason]).toEqual(s.expect)
      state = r.state
    }
    expect(evaluateAlert({ ...rule, min_samples: undefined }, 'ok', { value: 1, n: 99 }).state).toBe('ok')
  })

  it('reads metric figures from a finalized point', () => {
    const agg = createMetricsAggregate()
    for (let i = 0; i < 10; i++) {
      addEvent(agg, { error: i === 0, latencyMs: { total: 10 * (i + 1) } })
      if (i < 4) addLabel(agg, 'label', { type: 'class', actual: 'a', predicted: i < 3 ? 'a' : 'b' })
    }
    const p = finalizeAggregate(agg, 0)
    expect(metricObservation(p, 'error_rate')).toEqual({ value: 0.1, n: 10 })
    expect(metricObservation(p, 'quality.label.accuracy')).toEqual({ value: 0.75, n: 4 })
    expect(metricObservation(p, 'quality.label.coverage')).toEqual({ value: 0.4, n: 10 })
    expect(Math.abs((metricObservation(p, 'latency_ms.total.p99')?.value as number) - 99.1)).toBeLessThan(1)
    expect(metricObservation(p, 'quality.other.accuracy')).toBeUndefined()
  })
})
