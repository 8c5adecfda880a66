import { describe, expect, it } from 'vitest'
import { fieldsKey, parseFields, project } from './metrics-reply.js'

const point = {
  start: '2026-12-01T00:00:00.000Z',
  count: 10,
  error_rate: 0.1,
  latency_ms: { total: { p50: 1, p99: 9 }, inference: { p50: 0.5, p99: 4 } },
  quality: {
    label: { coverage: 0.5, accuracy: { value: 0.9, ci_low: 0.8, ci_high: 0.95 }, per_class: { a: 1 } },
    thumbs: { coverage: 0.2, mean: { value: 0.7 } },
  },
}

describe('fields= selections', () => {
  it('keeps named paths only, start always, and drops objects left empty', () => {
    const sel = parseFields('count,latency_ms.total.p99,quality.label.accuracy.value,quality.nothing.x')!
    expect(project(point, sel)).toEqual({
      start: point.start,
      count: 10,
      latency_ms: { total: { p99: 9 } },
      quality: { label: { accuracy: { value: 0.9 } } },
    })
  })

  it('matches every key with a * segment, together with named paths at the same level', () => {
    const sel = parseFields('quality.*.coverage,quality.*.accuracy,quality.*.mean,quality.label.per_class,latency_ms.*.p50')!
    expect(project(point, sel)).toEqual({
      start: point.start,
      latency_ms: { total: { p50: 1 }, inference: { p50: 0.5 } },
      quality: {
        label: { coverage: 0.5, accuracy: { value: 0.9, ci_low: 0.8, ci_high: 0.95 }, per_class: { a: 1 } },
        thumbs: { coverage: 0.2, mean: { value: 0.7 } },
      },
    })
    // A * that keeps everything below it wins over a narrower named path, and the other way round.
    expect(project(point, parseFields('quality.*,quality.label.coverage')!)).toEqual({ start: point.start, quality: point.quality })
    expect(project(point, parseFields('quality.label,quality.*.coverage')!)).toEqual({
      start: point.start,
      quality: { label: point.quality.label, thumbs: { coverage: 0.2 } },
    })
  })

  it('names a selection the same whatever the order of its paths', () => {
    expect(fieldsKey(parseFields('quality.*.coverage,count'))).toBe(fieldsKey(parseFields('count,quality.*.coverage')))
    expect(() => parseFields('*.x')).toThrow(/unknown field/)
  })
})
