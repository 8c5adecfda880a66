import type { PriceEntry } from './price-table.js'

/** Token usage and cost as an event carries it (`usage`), plus cached input tokens when a source reports them. */
export interface CostUsage {
  input_tokens?: number
  output_tokens?: number
  /** Input tokens served from the provider's prompt cache (a subset of `input_tokens`). */
  cached_input_tokens?: number
  cost_usd?: number
}

/** A cost and where it came from. */
export interface CostResult {
  /** `null` when neither the client sent a cost nor a price and token counts allow one. */
  cost_usd: number | null
  source: 'client' | 'price_table' | 'none'
}

/**
 * The cost of one event. A client-sent `usage.cost_usd` always wins (the client knows its discounts
 * and contracts; a derived figure never overrides what was sent, and the stored record is never
 * changed). Otherwise, with a price and at least one token count:
 * (input − cached)·input_price + cached·cached_price (the input price when none) + output·output_price,
 * prices per million tokens. Missing counts are 0 when the other count is present.
 */
export function costOf(usage: CostUsage | undefined, price: PriceEntry | undefined): CostResult {
  if (typeof usage?.cost_usd === 'number' && Number.isFinite(usage.cost_usd)) return { cost_usd: usage.cost_usd, source: 'client' }
  const input = usage?.input_tokens
  const output = usage?.output_tokens
  if (!price || (typeof input !== 'number' && typeof output !== 'number')) return { cost_usd: null, source: 'none' }
  const inTok = typeof input === 'number' && input > 0 ? input : 0
  const outTok = typeof output === 'number' && output > 0 ? output : 0
  const cached = Math.min(
    inTok,
    typeof usage?.cached_input_tokens === 'number' && usage.cached_input_tokens > 0 ? usage.cached_input_tokens : 0,
  )
  const cachedPrice = price.cached_input_usd_per_1m ?? price.input_usd_per_1m
  const cost = ((inTok - cached) * price.input_usd_per_1m + cached * cachedPrice + outTok * price.output_usd_per_1m) / 1e6
  return { cost_usd: cost, source: 'price_table' }
}
