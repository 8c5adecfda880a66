import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from '../http/app-harness.test-suite.js'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
})
afterEach(async () => {
  await h.close()
})

const D = 86_400_000
const T0 = Date.UTC(2026, 10, 1)

/** A calibrated binary classifier: the label is positive with the probability the model gives it; `concept` flips it above x = 0.5. */
async function window(day: number, n: number, skew: number, concept: boolean) {
  let r = 12345 + day
  const rand = () => (r = (r * 48271) % 2147483647) / 2147483647
  const events = []
  const feedback = []
  for (let i = 0; i < n; i++) {
    const x = rand() ** skew
    const p = 0.05 + 0.9 * x
    let y = rand() < p
    if (concept && x > 0.5) y = !y
    const id = `w${day}-${i}`
    events.push({
      id,
      ts: new Date(T0 + day * D + i * 1000).toISOString(),
      model: { name: 'bin', version: '1' },
      input: { x },
      output: { label: p >= 0.5, score: p },
    })
    feedback.push({ event_id: id, name: 'label', value: y, ts: new Date(T0 + day * D + i * 1000 + 5000).toISOString() })
  }
  await h.post('/v1/events', events)
  await h.post('/v1/feedback', feedback)
}
const day = (n: number) => ({ model: 'bin', from: new Date(T0 + n * D).toISOString(), to: new Date(T0 + (n + 1) * D).toISOString() })

describe('performance estimation and concept drift', () => {
  it('estimates accuracy within the realized interval under covariate shift, and misses under concept drift', async () => {
    await window(0, 2000, 1, false)
    await window(1, 1500, 3, false) // covariate shift: fewer confident positives
    await window(2, 1500, 1, true) // concept drift
    await window(3, 1500, 1, false) // neither
    const shift = (await h.post('/v1/estimate', { reference: day(0), current: day(1), label: 'label', score: 'output.score' })).json
    expect(shift.n_reference).toBe(2000)
    expect(shift.n_current_labeled).toBe(1500)
    const [lo, hi] = shift.realized.accuracy_ci
    expect(shift.estimated.accuracy).toBeGreaterThanOrEqual(lo)
    expect(shift.estimated.accuracy).toBeLessThanOrEqual(hi)
    const concept = (await h.post('/v1/estimate', { reference: day(0), current: day(2), label: 'label', score: 'output.score' })).json
    const [clo, chi] = concept.realized.accuracy_ci
    expect(concept.estimated.accuracy < clo || concept.estimated.accuracy > chi).toBe(true)

    const cd = (
      await h.post('/v1/concept-drift', {
        reference: day(0),
        current: day(2),
        label: 'label',
        output: 'output.label',
        fields: ['input.x'],
        bins: 4,
      })
    ).json
    const f = cd.fields[0]
    expect(f.drift).toBe(true)
    const moved = f.bins.filter((b: { moved: boolean }) => b.moved).map((b: { bin: string }) => b.bin)
    expect(moved.length).toBeGreaterThan(0)
    // The bins where mistakes moved are the upper ones (x > 0.5).
    for (const b of moved) expect(Number(b.split(',')[0]!.slice(1))).toBeGreaterThan(0.3)
    const none = (
      await h.post('/v1/concept-drift', {
        reference: day(0),
        current: day(3),
        label: 'label',
        output: 'output.label',
        fields: ['input.x'],
        bins: 4,
      })
    ).json
    expect(none.fields[0].bins.filter((b: { moved: boolean }) => b.moved)).toEqual([])
    for (const bad of [
      { reference: day(0), current: day(1), label: 'label' },
      { reference: day(0), current: day(1), label: 'label', score: 's', probabilities: 'p' },
    ]) {
      expect((await h.post('/v1/estimate', bad)).status).toBe(400)
    }
  })
})
