import { describe, expect, it } from 'vitest'
import { cacheKeyOf, cacheOpportunity } from './cache-opportunity.js'

describe('cacheOpportunity', () => {
  it('counts hits within the TTL of the computed answer and what they save', () => {
    const m = 60_000
    const r = cacheOpportunity(
      [
        { id: 'a1', key: 'A', ts: 0, inputTokens: 10, outputTokens: 5, costUsd: 0.1, latencyMs: 100 },
        { id: 'a2', key: 'A', ts: 30 * m, inputTokens: 10, outputTokens: 5, costUsd: 0.1, latencyMs: 90 },
        { id: 'a3', key: 'A', ts: 61 * m, inputTokens: 10, outputTokens: 5, costUsd: 0.1, latencyMs: 80 },
        { id: 'a4', key: 'A', ts: 62 * m, inputTokens: 10, outputTokens: 5, costUsd: 0.1, latencyMs: 70 },
        { id: 'b1', key: 'B', ts: 1, costUsd: 1 },
        { id: 'b2', key: 'B', ts: 2, costUsd: 1 },
        { id: 'c1', key: 'C', ts: 3 },
      ],
      { windowMs: 60 * m },
    )
    expect(r.requests).toBe(7)
    expect(r.hits).toBe(3)
    expect(r.hit_share).toBeCloseTo(3 / 7, 15)
    expect(r.saved).toMatchObject({ input_tokens: 20, output_tokens: 10, latency_ms: 160 })
    expect(r.saved.cost_usd).toBeCloseTo(1.2, 12)
    expect(r.top.map((t) => [t.key, t.requests, t.hits, t.example_id])).toEqual([
      ['A', 4, 2, 'a1'],
      ['B', 2, 1, 'b1'],
    ])
  })

  it('keys by canonical input and model parameters, not by key order or version', () => {
    const k1 = cacheKeyOf({ model: { name: 'm', version: '1', params: { t: 0, top_p: 1 } }, input: { a: 1, b: [1, 2] } })
    const k2 = cacheKeyOf({ model: { name: 'm', version: '2', params: { top_p: 1, t: 0 } }, input: { b: [1, 2], a: 1 } })
    const k3 = cacheKeyOf({ model: { name: 'm', version: '1', params: { t: 1, top_p: 1 } }, input: { a: 1, b: [1, 2] } })
    expect(k1).toBe(k2)
    expect(k1).not.toBe(k3)
    expect(k1).toMatch(/^[0-9a-f]{64}$/)
  })
})
