import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from './app-harness.test-suite.js'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
})
afterEach(async () => {
  await h.close()
})

const spec = {
  select: { model: 'm' },
  feedback: { label: { name: 'label', missing: 'drop' } },
  label: { from: 'label' },
  split: { by: 'id', ratios: { train: 0.5, test: 0.5 }, seed: 's' },
}

describe('POST /v1/datasets/preview', () => {
  it('counts what the build then writes, per split and label, and writes nothing', async () => {
    const events = Array.from({ length: 40 }, (_, i) => ({
      id: `e${i}`,
      model: { name: 'm', version: '1' },
      input: { x: i },
      output: i % 2,
    }))
    expect((await h.post('/v1/events', events)).status).toBe(200)
    const fb = events.filter((_, i) => i % 4 !== 0).map((e, i) => ({ event_id: e.id, name: 'label', value: i % 3 === 0 ? 'a' : 'b' }))
    expect((await h.post('/v1/feedback', fb)).status).toBe(200)
    const p = await h.post('/v1/datasets/preview', { spec })
    expect(p.status).toBe(200)
    expect(p.json.rows).toBe(30)
    expect(p.json.counts).toMatchObject({ scanned: 40, selected: 40, rows: 30, dropped: { missing: { label: 10 } } })
    expect((await h.get('/v1/datasets')).json.items).toEqual([])
    const built = await h.post('/v1/datasets', { name: 'd', spec })
    expect(built.status).toBe(201)
    expect(p.json.labels).toEqual(built.json.manifest.labels)
    for (const [name, s] of Object.entries(built.json.manifest.splits as Record<string, { rows: number; labels: unknown }>))
      expect(p.json.splits[name]).toEqual({ rows: s.rows, labels: s.labels })
    // YAML text works as in a build; max_rows truncates.
    const y = await h.post('/v1/datasets/preview', { spec: 'select: {model: m}\n', max_rows: 5 })
    expect(y.json).toMatchObject({ rows: 5, truncated: true })
  })

  it('refuses bad requests with every spec problem listed', async () => {
    const bad = await h.post('/v1/datasets/preview', { spec: { split: { ratios: { a: 2 } }, nope: 1 } })
    expect(bad.status).toBe(400)
    expect(bad.json.error.details.length).toBeGreaterThanOrEqual(1)
    expect((await h.post('/v1/datasets/preview', {})).status).toBe(400)
    expect((await h.post('/v1/datasets/preview', { spec, extra: 1 })).status).toBe(400)
    expect((await h.post('/v1/datasets/preview', { spec, max_rows: 0 })).status).toBe(400)
    expect((await h.post('/v1/datasets/preview', 'nope')).status).toBe(400)
  })
})
