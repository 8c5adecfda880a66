import type { LoggedEvent, Logger, Span } from '@inferlog/sdk'
import { beforeAll, describe, expect, it } from 'vitest'
import { DelayedFeedback } from './delayed-feedback.js'
import { type DemoModels, trainModels } from './models/train-models.js'
import { SeededRandom } from './seeded-random.js'
import { Traffic } from './traffic.js'
import { loadWeather, splitWeather, type WeatherSplits } from './weather-data.js'

/** A Logger that records what it is given (the SDK's own behaviour is tested in its package). */
function recorder() {
  const events: (LoggedEvent & { id: string })[] = []
  const feedback: { eventId: string; name: string; value: unknown; ts?: string }[] = []
  let n = 0
  const log = {
    start(init: LoggedEvent = {}): Span {
      const id = `e${++n}`
      let fields: LoggedEvent = { ...init }
      const span: Span = {
        id,
        phase: () => span,
        ttft: () => span,
        set: (f) => {
          fields = { ...fields, ...f }
          return span
        },
        end: (f) => {
          events.push({ ...fields, ...f, id })
          return id
        },
        fail: (e, f) => {
          events.push({ ...fields, ...f, id, status: 'error', error: { type: (e as Error).name, message: (e as Error).message } })
          return id
        },
      }
      return span
    },
    feedback(eventId: string, name: string, value: unknown, extra?: { ts?: string }) {
      feedback.push({ eventId, name, value, ...(extra?.ts ? { ts: extra.ts } : {}) })
      return `f${feedback.length}`
    },
  } as unknown as Logger
  return { log, events, feedback }
}

let splits: WeatherSplits
let models: DemoModels
beforeAll(() => {
  splits = splitWeather(loadWeather())
  models = trainModels(splits.train.slice(0, 300), 1)
}, 120_000)

describe('Traffic', () => {
  it('logs a primary of the user’s arm and a shadow pointing at it, with context, attributions and a decision path', () => {
    const r = recorder()
    const t = new Traffic(r.log, models, splits, new DelayedFeedback(r.log), new SeededRandom(1), { seed: 1, speed: 1, errorShare: 0 })
    const served = t.serve(false)
    const [primary, shadow] = r.events
    expect(primary!.model).toEqual(
      expect.objectContaining({ name: 'weather-clf', stage: 'primary', version: served.arm === 'control' ? '1.4.0' : '2.0.0' }),
    )
    expect(primary!.context).toEqual(expect.objectContaining({ experiment: { name: 'weather-clf-rollout', arm: served.arm } }))
    expect(primary!.context?.entities).toEqual({ city: 'Seattle', date: served.day.date })
    expect(primary!.ts).toBeUndefined()
    expect(shadow!.shadow_of).toBe(primary!.id)
    expect(shadow!.model).toEqual(expect.objectContaining({ version: '2.1.0-rc.1', stage: 'shadow' }))
    expect(Object.keys((shadow!.internals as { attributions: object }).attributions)).toHaveLength(4)
    expect((shadow!.internals as { decision_path: unknown[] }).decision_path.length).toBeGreaterThan(0)
    expect(t.served).toBe(1)
  })

  it('after the shift serves New York days; a user keeps one arm across Traffics of a seed, in sessions of its own tag', () => {
    const r = recorder()
    const a = new Traffic(r.log, models, splits, new DelayedFeedback(r.log), new SeededRandom(2), { seed: 5, speed: 1 })
    const b = new Traffic(r.log, models, splits, new DelayedFeedback(r.log), new SeededRandom(3), { seed: 5, speed: 1, sessionTag: 'h' })
    for (let i = 0; i < 300; i++) expect(a.serve(true).day.city).toBe('New York')
    for (let i = 0; i < 300; i++) b.serve(false)
    const arms = new Map<string, Set<unknown>>()
    for (const e of r.events.filter((x) => x.model?.stage === 'primary')) {
      const user = e.trace?.user_id as string
      arms.set(user, (arms.get(user) ?? new Set()).add(e.context?.experiment?.arm))
    }
    expect([...arms.values()].every((s) => s.size === 1)).toBe(true)
    const sessions = r.events.map((e) => e.trace?.session_id as string)
    expect(sessions.slice(0, 600).every((s) => /-s\d+$/.test(s))).toBe(true)
    expect(sessions.slice(600).every((s) => /-h\d+$/.test(s))).toBe(true)
  })

  it('a missing reading is an error of both models, without feedback', () => {
    const r = recorder()
    const t = new Traffic(r.log, models, splits, new DelayedFeedback(r.log), new SeededRandom(4), { seed: 1, speed: 1, errorShare: 1 })
    const served = t.serve(false)
    expect(served.prediction).toBeNull()
    expect(r.events).toHaveLength(2)
    for (const e of r.events) {
      expect(e.status).toBe('error')
      expect(e.error).toEqual({ type: 'MissingFeatureError', message: 'missing reading: wind' })
      expect((e.input as { wind: unknown }).wind).toBeNull()
    }
    expect(r.feedback).toHaveLength(0)
  })

  it('backdates a request: its ts and sample_rate, and feedback already due is sent at once, dated when due', () => {
    const r = recorder()
    const feedback = new DelayedFeedback(r.log)
    const t = new Traffic(r.log, models, splits, feedback, new SeededRandom(6), { seed: 1, speed: 1, errorShare: 0 })
    const at = Date.now() - 3_600_000
    for (let i = 0; i < 50; i++) t.serve(false, at, 0.25)
    expect(r.events.every((e) => e.ts === new Date(at).toISOString() && e.sample_rate === 0.25)).toBe(true)
    expect(feedback.pending).toBe(0)
    expect(r.feedback.length).toBeGreaterThan(20)
    for (const f of r.feedback) expect(Date.parse(f.ts!)).toBeGreaterThan(at)
    expect(feedback.cancel()).toBe(0)
  })
})
