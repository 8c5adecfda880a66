import { describe, expect, it } from 'vitest'
import { MonitoringError } from '../metrics/index.js'
import { costOf } from './cost-of.js'
import { createPriceLookup, parsePriceTable, priceAt } from './price-table.js'

const table = parsePriceTable({
  currency: 'USD',
  prices: [
    { model: 'gpt-4o*', start: '2024-05-13', input_usd_per_1m: 5, output_usd_per_1m: 15 },
    { model: 'gpt-4o*', start: '2024-08-06T00:00:00Z', input_usd_per_1m: 2.5, output_usd_per_1m: 10, cached_input_usd_per_1m: 1.25 },
    { model: 'gpt-4o-mini*', start: '2024-07-18', input_usd_per_1m: 0.15, output_usd_per_1m: 0.6 },
    { model: 'org/*', input_usd_per_1m: 1, output_usd_per_1m: 1 },
  ],
})

describe('price table', () => {
  it('picks the most specific pattern, then the latest start in effect', () => {
    const at = (s: string) => Date.parse(s)
    expect(priceAt(table, 'gpt-4o', at('2024-06-01T00:00:00Z'))?.input_usd_per_1m).toBe(5)
    expect(priceAt(table, 'GPT-4o-2024-08-06', at('2024-09-01T00:00:00Z'))?.input_usd_per_1m).toBe(2.5)
    expect(priceAt(table, 'gpt-4o-mini', at('2024-09-01T00:00:00Z'))?.input_usd_per_1m).toBe(0.15)
    expect(priceAt(table, 'gpt-4o-mini', at('2024-07-01T00:00:00Z'))?.input_usd_per_1m).toBe(5)
    expect(priceAt(table, 'gpt-4o', at('2024-01-01T00:00:00Z'))).toBeUndefined()
    expect(createPriceLookup(table)('org/team/model-a', 0)?.input_usd_per_1m).toBe(1)
    expect(priceAt(table, 'claude', Date.now())).toBeUndefined()
  })

  it('rejects a malformed table whole, with the path of each error', () => {
    let err: unknown
    try {
      parsePriceTable({
        currency: 'EUR',
        prices: [
          { model: 'a*', input_usd_per_1m: -1, output_usd_per_1m: 1 },
          { model: 'b', output_usd_per_1m: 'x', extra: 1 },
        ],
      })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(MonitoringError)
    const e = err as MonitoringError
    expect(e.code).toBe('invalid_price_table')
    expect(e.issues.map((i) => i.path).sort()).toEqual([
      '/currency',
      '/prices/0/input_usd_per_1m',
      '/prices/1/extra',
      '/prices/1/input_usd_per_1m',
      '/prices/1/output_usd_per_1m',
    ])
    const dup = (() => {
      try {
        parsePriceTable({
          prices: [
            { model: 'A', start: '2024-01-01', input_usd_per_1m: 1, output_usd_per_1m: 1 },
            { model: 'a', start: '2024-01-01T00:00:00Z', input_usd_per_1m: 2, output_usd_per_1m: 1 },
            { model: 'c', start: 'yesterday', input_usd_per_1m: 1, output_usd_per_1m: 1 },
          ],
        })
      } catch (x) {
        return (x as MonitoringError).issues
      }
    })()
    expect(dup).toEqual([
      { path: '/prices/1', message: 'duplicates /prices/0 (same model pattern and start)' },
      { path: '/prices/2/start', message: 'must be an RFC 3339 time or YYYY-MM-DD' },
    ])
    expect(() => parsePriceTable([])).toThrow(MonitoringError)
  })
})

describe('costOf', () => {
  const price = { model: 'm', input_usd_per_1m: 2, output_usd_per_1m: 8, cached_input_usd_per_1m: 0.5 }
  it('lets the client-sent cost win and otherwise prices tokens', () => {
    expect(costOf({ cost_usd: 0.3, input_tokens: 1e6 }, price)).toEqual({ cost_usd: 0.3, source: 'client' })
    expect(costOf({ input_tokens: 1000, cached_input_tokens: 400, output_tokens: 100 }, price).cost_usd).toBeCloseTo(
      (600 * 2 + 400 * 0.5 + 100 * 8) / 1e6,
      15,
    )
    expect(costOf({ output_tokens: 10 }, price)).toEqual({ cost_usd: 0.00008, source: 'price_table' })
    expect(costOf({ input_tokens: 10 }, undefined)).toEqual({ cost_usd: null, source: 'none' })
    expect(costOf({}, price)).toEqual({ cost_usd: null, source: 'none' })
  })
})
