import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defaultConsumers } from '../feed/default-consumers.js'
import { FeedRunner } from '../feed/feed-runner.js'
import { type AppHarness, openAppHarness } from '../http/app-harness.test-suite.js'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
})
afterEach(async () => {
  await h.close()
})

const H = 3_600_000
// Recent whole hours: minute buckets are kept a few days only, on the real clock.
const T0 = Math.floor(Date.now() / H) * H - 8 * H

/**
 * An hour of a calibrated binary classifier: the label is positive with the probability the model
 * gives (`concept`: flipped above x = 0.5); `labelled` of the events get their label.
 */
async function hour(k: number, n: number, o: { skew?: number; concept?: boolean; labelled?: number; rate?: number } = {}) {
  let r = 777 + k
  const rand = () => (r = (r * 48271) % 2147483647) / 2147483647
  const events = []
  const feedback = []
  for (let i = 0; i < n; i++) {
    const x = rand() ** (o.skew ?? 1)
    const p = 0.05 + 0.9 * x
    let y = rand() < p
    if (o.concept && x > 0.5) y = !y
    const id = `h${k}-${i}`
    events.push({
      id,
      ts: new Date(T0 + k * H + i * 1000).toISOString(),
      model: { name: 'bin', version: '1' },
      input: { x },
      output: { label: p >= 0.5, score: p },
      ...(o.rate ? { sample_rate: o.rate } : {}),
    })
    if (i < n * (o.labelled ?? 1)) feedback.push({ event_id: id, name: 'label', value: y })
  }
  expect((await h.post('/v1/events', events)).json.accepted).toBe(n)
  if (feedback.length) expect((await h.post('/v1/feedback', feedback)).json.accepted).toBe(feedback.length)
}
const catchUp = () => new FeedRunner(h.store, defaultConsumers(h.store)).catchUp()
const window = `model=bin&from=${new Date(T0).toISOString()}&to=${new Date(T0 + 6 * H).toISOString()}`

describe('GET /v1/metrics with estimate=LABEL: estimated figures beside the realized ones', () => {
  it('puts estimated accuracy, precision, recall and F1 in each bucket; within the realized interval under covariate shift, not under concept drift', async () => {
    await h.req('PUT', '/v1/models/bin', { labels: { label: { output: 'label', type: 'boolean' } } })
    await hour(0, 1500) // the labelled reference
    await hour(1, 1200, { skew: 3 }) // covariate shift
    await hour(2, 1200, { concept: true }) // concept drift
    await hour(3, 1000, { labelled: 0 }) // no labels yet
    await catchUp()
    const ref = `&reference_from=${new Date(T0).toISOString()}&reference_to=${new Date(T0 + H).toISOString()}`
    const res = await h.get(`/v1/metrics?${window}&bucket=hour&estimate=label&score=output.score${ref}`)
    expect(res.status, res.text).toBe(200)
    const points = res.json.series[0].points
    expect(points).toHaveLength(4)
    for (const p of points) {
      const e = p.estimated.label
      for (const k of ['accuracy', 'precision', 'recall', 'f1', 'precision_macro', 'recall_macro', 'f1_macro']) {
        expect(e[k]).toBeGreaterThan(0)
        expect(e[k]).toBeLessThanOrEqual(1)
      }
      expect(e.n).toBe(p.n)
      expect(e.n_reference).toBe(1500)
      expect(typeof e.calibrated).toBe('boolean')
    }
    const [, shift, concept, unlabelled] = points
    // Beside the realized figures of the buckets (the consumer's), which the estimate's own realized block agrees with.
    expect(shift.estimated.label.realized.accuracy).toBeCloseTo(shift.quality.label.accuracy.value, 9)
    const [lo, hi] = shift.estimated.label.realized.accuracy_ci
    expect(shift.estimated.label.accuracy).toBeGreaterThanOrEqual(lo)
    expect(shift.estimated.label.accuracy).toBeLessThanOrEqual(hi)
    const [clo, chi] = concept.estimated.label.realized.accuracy_ci
    expect(concept.estimated.label.accuracy > chi || concept.estimated.label.accuracy < clo).toBe(true)
    // The mistakes moved: the realized accuracy fell below the estimate, which cannot see it.
    expect(concept.quality.label.accuracy.value).toBeLessThan(concept.estimated.label.accuracy)
    // Before any label: an estimate, no realized figures.
    expect(unlabelled.estimated.label.realized).toBeUndefined()
    expect(unlabelled.quality.label?.n_labeled ?? 0).toBe(0)

    // Without a reference window the queried window's labelled events calibrate it; bucket=all is one point.
    const all = (await h.get(`/v1/metrics?${window}&bucket=all&estimate=label&score=output.score`)).json
    expect(all.series[0].points[0].estimated.label).toMatchObject({ n: 4900, n_reference: 3900 })
    // A plain metrics reply is unchanged.
    expect((await h.get(`/v1/metrics?${window}&bucket=hour`)).json.series[0].points[0].estimated).toBeUndefined()
  })

  it('weights by 1/sample_rate, groups like the series, and reads multiclass probabilities', async () => {
    await hour(0, 200, { rate: 0.5 })
    await h.post(
      '/v1/events',
      ['a', 'b', 'c'].flatMap((c, j) =>
        Array.from({ length: 30 }, (_, i) => ({
          id: `mc-${c}-${i}`,
          ts: new Date(T0 + 2 * H + i * 1000).toISOString(),
          model: { name: 'multi', version: String(1 + (i % 2)) },
          input: { i },
          output: { probabilities: { a: j === 0 ? 0.8 : 0.1, b: j === 1 ? 0.8 : 0.1, c: j === 2 ? 0.8 : 0.1 } },
        })),
      ),
    )
    await catchUp()
    const w = (await h.get(`/v1/metrics?${window}&bucket=hour&estimate=label&score=output.score`)).json.series[0].points[0]
    expect(w.count).toBe(400)
    expect(w.estimated.label.n).toBe(400)
    const multi = (
      await h.get(
        `/v1/metrics?model=multi&from=${new Date(T0).toISOString()}&to=${new Date(T0 + 6 * H).toISOString()}&bucket=hour&group_by=version&estimate=label&probabilities=output.probabilities`,
      )
    ).json
    expect(multi.series.map((s: { group: object }) => s.group)).toEqual([{ version: '1' }, { version: '2' }])
    for (const s of multi.series) {
      const e = s.points[0].estimated.label
      expect(e).toMatchObject({ n: 45, calibrated: false, n_reference: 0 })
      // Uncalibrated: each prediction is right with probability 0.8.
      expect(e.accuracy).toBeCloseTo(0.8, 9)
      expect(e.precision).toBeUndefined()
      expect(e.f1_macro).toBeCloseTo(0.8, 9)
    }
  })

  it('refuses estimate parameters that do not fit, naming them', async () => {
    const bad = async (q: string) => {
      const r = await h.get(`/v1/metrics?model=bin&${q}`)
      expect(r.status, q).toBe(400)
      return r.json.error.message as string
    }
    expect(await bad('estimate=label')).toMatch(/exactly one of score/)
    expect(await bad('estimate=label&score=output.score&probabilities=output.p')).toMatch(/exactly one of score/)
    expect(await bad('score=output.score')).toMatch(/with estimate=LABEL only/)
    expect(await bad('estimate=label&score=nope')).toMatch(/must be a path/)
    expect(await bad('estimate=label&score=output.score&reference_from=2026-01-01')).toMatch(/both reference_from and reference_to/)
    expect(await bad('estimate=label&score=output.score&reference_from=2026-01-02&reference_to=2026-01-01')).toMatch(/before/)
    expect(await bad('estimate=label&estimate=x&score=output.score')).toMatch(/once/)
    await h.req('PUT', '/v1/models/bin', { dimensions: ['tag.region'] })
    expect(await bad('estimate=label&score=output.score&group_by=tag.region')).toMatch(/not tag.region/)
  })
})
