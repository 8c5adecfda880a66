import { describe, expect, it } from 'vitest'
import { DatasetError } from '../errors.js'
import { nextScheduledMs, parseDatasetTrigger } from './trigger-config.js'

const spec = { select: { model: 'm' }, format: 'jsonl' }
const at = (s: string) => Date.parse(s)

describe('dataset triggers: schedule and validation', () => {
  it('schedules every N at multiples of N since the epoch, whatever time it is asked', () => {
    expect(nextScheduledMs({ every: '1h' }, at('2026-03-10T10:20:00Z'))).toBe(at('2026-03-10T11:00:00Z'))
    expect(nextScheduledMs({ every: '1h' }, at('2026-03-10T11:00:00Z'))).toBe(at('2026-03-10T12:00:00Z'))
    expect(nextScheduledMs({ every: '1d' }, at('2026-03-10T23:59:59Z'))).toBe(at('2026-03-11T00:00:00Z'))
    expect(nextScheduledMs({ every: '15m' }, at('2026-03-10T10:20:00Z'))).toBe(at('2026-03-10T10:30:00Z'))
    expect(nextScheduledMs(undefined, 0)).toBeUndefined()
  })

  it('schedules cron expressions in their time zone, across daylight saving time, with crontab OR days', () => {
    expect(nextScheduledMs({ cron: '0 3 * * *' }, at('2026-03-10T10:00:00Z'))).toBe(at('2026-03-11T03:00:00Z'))
    // 03:30 Paris: UTC+1 before 29 March 2026, UTC+2 after.
    const paris = { cron: '30 3 * * *', timezone: 'Europe/Paris' }
    expect(nextScheduledMs(paris, at('2026-03-27T12:00:00Z'))).toBe(at('2026-03-28T02:30:00Z'))
    expect(nextScheduledMs(paris, at('2026-03-29T12:00:00Z'))).toBe(at('2026-03-30T01:30:00Z'))
    // Day 1 of the month OR a Monday (2026-06-01 is a Monday; 2026-06-08 the next).
    expect(nextScheduledMs({ cron: '0 0 1 * 1' }, at('2026-06-01T12:00:00Z'))).toBe(at('2026-06-08T00:00:00Z'))
    expect(nextScheduledMs({ cron: '*/20 * * * *' }, at('2026-06-01T12:05:00Z'))).toBe(at('2026-06-01T12:20:00Z'))
  })

  it('rejects a trigger whole, with the path of every problem, spec problems under /spec', () => {
    const issues = (v: unknown) => {
      try {
        parseDatasetTrigger(v)
      } catch (e) {
        expect(e).toBeInstanceOf(DatasetError)
        return (e as DatasetError).issues.map((i) => i.path)
      }
      throw new Error('accepted')
    }
    expect(issues({ spec })).toEqual([''])
    expect(issues({ spec: { format: 'x' }, on_alert: [] })).toEqual(expect.arrayContaining(['/on_alert', '/spec/format']))
    expect(issues({ spec, schedule: { every: '30s' } })).toEqual(['/schedule'])
    expect(issues({ spec, schedule: { every: '999999w' } })).toEqual(['/schedule/every'])
    expect(issues({ spec, schedule: { cron: '0 0 3 * * *' } })).toEqual(['/schedule/cron'])
    expect(issues({ spec, schedule: { cron: '0 25 * * *' } })).toEqual(['/schedule/cron'])
    expect(issues({ spec, schedule: { every: '1h', cron: '0 * * * *' } })).toEqual(['/schedule'])
    expect(issues({ spec, on_alert: ['a', 'a'], webhook: { url: 'http://x', max_attempts: 0 } })).toEqual(
      expect.arrayContaining(['/on_alert', '/webhook/max_attempts']),
    )
    expect(issues('nope')).toEqual([''])
    const ok = parseDatasetTrigger({ spec: 'select: {model: m}\nformat: csv\n', on_alert: ['drift'] })
    expect(ok.spec).toEqual({ select: { model: 'm' }, format: 'csv' })
  })
})
