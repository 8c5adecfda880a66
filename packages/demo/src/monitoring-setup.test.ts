import { parseAlertRules } from '@inferlog/analysis'
import { describe, expect, it } from 'vitest'
import { DRIFT_RULE, demoRules, QUALITY_RULE, windowText } from './monitoring-setup.js'

describe('demoRules', () => {
  it('are valid alert rules for the collector, with the drift reference ending at the shift', () => {
    const rules = parseAlertRules(demoRules({ startMs: 1_000, shiftMs: 31_000, speed: 1, rate: 20 }))
    expect(rules.map((r) => r.id)).toEqual([DRIFT_RULE, QUALITY_RULE])
    const drift = rules[0]!
    expect(drift.condition).toEqual(
      expect.objectContaining({ type: 'drift', reference: expect.objectContaining({ from: 1_000, to: 31_000 }) }),
    )
    expect(drift.window).toBe('20s')
    expect(drift.min_samples).toBe(100)
    expect(drift.condition).toEqual(expect.objectContaining({ method: 'ks' }))
    expect(parseAlertRules(demoRules({ startMs: 0, shiftMs: 1, speed: 1, rate: 2 }))[0]!.min_samples).toBe(20)
    expect(rules[1]!.window).toBe('120s')
  })

  it('shrink their windows with the speed (drift: never below 8 s)', () => {
    const rules = parseAlertRules(demoRules({ startMs: 0, shiftMs: 1, speed: 3, rate: 50 }))
    expect(rules.map((r) => r.window)).toEqual(['8s', '40s'])
    expect(rules[0]!.min_samples).toBe(100)
    expect(parseAlertRules(demoRules({ startMs: 0, shiftMs: 1, speed: 100, rate: 5 }))[0]!.min_samples).toBe(20)
    expect(windowText(10)).toBe('1s')
  })
})
