import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defaultConsumers } from '../feed/default-consumers.js'
import { FeedRunner } from '../feed/feed-runner.js'
import { type AppHarness, openAppHarness } from '../http/app-harness.test-suite.js'

const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000
let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
})
afterEach(async () => {
  await h.close()
})
const feed = () => new FeedRunner(h.store, defaultConsumers(h.store)).catchUp()
const win = `from=${new Date(T0 - 3_600_000).toISOString()}&to=${new Date(T0 + 3_600_000).toISOString()}`

describe('latency, cost and cache analysis', () => {
  it('derives costs from the price in effect at each event, leaves client-sent costs alone, and sums by group', async () => {
    const prices = {
      prices: [
        { model: 'gpt-*', input_usd_per_1m: 1, output_usd_per_1m: 2 },
        { model: 'gpt-*', start: new Date(T0 + 1_800_000).toISOString(), input_usd_per_1m: 10, output_usd_per_1m: 20 },
      ],
    }
    const bad = await h.req('PUT', '/v1/prices', { prices: [{ model: 'x', input_usd_per_1m: -1 }] })
    expect(bad.status).toBe(400)
    expect(bad.json.error.details.length).toBeGreaterThan(0)
    expect((await h.req('PUT', '/v1/prices', prices)).status).toBe(200)
    const ev = (id: string, at: number, over: object = {}) => ({
      id,
      ts: new Date(at).toISOString(),
      model: { name: 'gpt-x', version: '1', endpoint: id.startsWith('a') ? '/chat' : '/embed' },
      input: { q: id },
      output: 'y',
      usage: { input_tokens: 1000, output_tokens: 500 },
      ...over,
    })
    await h.post('/v1/events', [
      ev('a1', T0 + 60_000),
      ev('a2', T0 + 2_000_000),
      ev('b1', T0 + 60_000, { usage: { input_tokens: 1000, output_tokens: 500, cost_usd: 0.5 } }),
    ])
    await feed()
    const cost = (await h.get(`/v1/analysis/cost?model=gpt-x&group_by=endpoint&${win}`)).json
    expect(cost.priced).toBe(true)
    const by = Object.fromEntries(
      cost.groups.map((g: { group: { endpoint: string }; cost_usd: number; requests: number }) => [
        g.group.endpoint,
        [g.requests, g.cost_usd],
      ]),
    )
    expect(by['/chat'][0]).toBe(2)
    expect(by['/chat'][1]).toBeCloseTo(0.002 + 0.02, 12) // old price, then the new one
    expect(by['/embed'][1]).toBeCloseTo(0.5, 12) // the client's own figure wins
    // The stored record is what the client sent.
    expect((await h.get('/v1/events/a1')).json.event.usage).toEqual({ input_tokens: 1000, output_tokens: 500 })
  })

  it('breaks latency into phases with their share, lists the slowest events, and finds repeated inputs', async () => {
    const evs = Array.from({ length: 30 }, (_, i) => ({
      id: `e${i}`,
      ts: new Date(T0 + i * 60_000).toISOString(),
      model: { name: 'm', version: '1', params: { t: 0 } },
      input: { q: `question ${i % 5}` },
      output: 'a',
      latency_ms: { total: 100 + i, pre: 10, inference: 80 + i },
      usage: { input_tokens: 10, output_tokens: 5, cost_usd: 0.01 },
    }))
    await h.post('/v1/events', evs)
    await feed()
    const lat = (await h.get(`/v1/analysis/latency?model=m&top=3&${win}`)).json
    expect(lat.n).toBe(30)
    expect(lat.slowest.map((s: { id: string }) => s.id)).toEqual(['e29', 'e28', 'e27'])
    expect(lat.phases.pre.share_of_total).toBeCloseTo(10 / 114.5, 2)
    expect(lat.phases.total.p50).toBeGreaterThan(100)
    expect(lat.truncated).toBe(false)
    const cache = (await h.get(`/v1/analysis/cache?model=m&window=2h&${win}`)).json
    // 5 distinct questions over 30 requests within the window: 25 would have been cache hits.
    expect(cache).toMatchObject({ requests: 30, hits: 25 })
    expect(cache.saved.cost_usd).toBeCloseTo(0.25, 12)
    expect((await h.get('/v1/analysis/cache?window=forever')).status).toBe(400)
    // The list's paging is not an analysis parameter: a 400 naming it, never silently ignored.
    for (const q of ['latency?model=m&limit=-1', 'latency?model=m&limit=5', 'cost?cursor=abc', 'cache?limit=3']) {
      const r = await h.get(`/v1/analysis/${q}`)
      expect(r.status).toBe(400)
      expect(r.json.error.code).toBe('invalid_parameter')
      expect(r.json.error.message).toMatch(/^(limit|cursor) is not a parameter/)
    }
    expect((await h.get('/v1/analysis/latency?model=m&top=0')).status).toBe(400)
  })
})
