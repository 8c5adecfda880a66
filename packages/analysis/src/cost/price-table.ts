import { Ajv } from 'ajv'
import { issuesFromAjv } from '../metrics/schema-issues.js'
import { MonitoringError, type MonitoringIssue } from '../metrics/monitoring-error.js'

/**
 * One price: per-token prices, in US dollars per million tokens, for the models whose name matches
 * `model`, from `start` on.
 */
export interface PriceEntry {
  /** Model-name glob: `*` any run of characters, `?` one character, everything else literal; case-insensitive. */
  model: string
  /** RFC 3339 time or `YYYY-MM-DD` (UTC midnight) from which the price applies. Absent: always. */
  start?: string
  input_usd_per_1m: number
  output_usd_per_1m: number
  /** Price of cached input tokens; absent means the input price. */
  cached_input_usd_per_1m?: number
}

/** A price table (`inferlog prices set`, file or API). */
export interface PriceTable {
  /** Only `USD`. */
  currency?: 'USD'
  prices: PriceEntry[]
}

const price = { type: 'number', minimum: 0, maximum: 1e9 }

/** JSON Schema (draft-07) of a price table. */
export const priceTableJsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://inferlog.dev/schemas/price-table.v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['prices'],
  properties: {
    currency: { enum: ['USD'] },
    prices: {
      type: 'array',
      maxItems: 10000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['model', 'input_usd_per_1m', 'output_usd_per_1m'],
        properties: {
          model: { type: 'string', minLength: 1, maxLength: 256 },
          start: { type: 'string', maxLength: 64 },
          input_usd_per_1m: price,
          output_usd_per_1m: price,
          cached_input_usd_per_1m: price,
        },
      },
    },
  },
} as const

/** Epoch ms of a `start`, `undefined` when it is not RFC 3339 / `YYYY-MM-DD`. */
export function parseStart(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2}))?$/.test(s)) return undefined
  const ms = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s)
  return Number.isFinite(ms) ? ms : undefined
}

/**
 * Validates a price table as a whole: every schema error, every unreadable `start`, and every
 * duplicate (same pattern, case-insensitive, and same start) is reported with its JSON Pointer.
 *
 * @throws MonitoringError `invalid_price_table` with `issues`, when anything is wrong (nothing is accepted)
 */
export function parsePriceTable(input: unknown): PriceTable {
  const ajv = new Ajv({ allErrors: true, strict: true })
  const validate = ajv.compile(priceTableJsonSchema)
  const issues: MonitoringIssue[] = validate(input) ? [] : issuesFromAjv(validate.errors)
  // Checks beyond the schema run on every entry whose fields have the right types, so one reply lists every problem.
  const prices =
    typeof input === 'object' && input !== null && Array.isArray((input as PriceTable).prices) ? (input as PriceTable).prices : []
  const seen = new Map<string, number>()
  prices.forEach((e, i) => {
    if (typeof e !== 'object' || e === null || typeof e.model !== 'string' || (e.start !== undefined && typeof e.start !== 'string')) return
    let start = Number.NEGATIVE_INFINITY
    if (e.start !== undefined) {
      const ms = parseStart(e.start)
      if (ms === undefined) {
        issues.push({ path: `/prices/${i}/start`, message: 'must be an RFC 3339 time or YYYY-MM-DD' })
        return
      }
      start = ms
    }
    const key = `${e.model.toLowerCase()}\u0000${start}`
    const first = seen.get(key)
    if (first !== undefined) issues.push({ path: `/prices/${i}`, message: `duplicates /prices/${first} (same model pattern and start)` })
    else seen.set(key, i)
  })
  if (issues.length > 0) throw new MonitoringError('invalid_price_table', `price table rejected: ${issues.length} problem(s)`, issues)
  return input as PriceTable
}

/** A compiled glob: anchored, `*` and `?` wildcards, case-insensitive. */
export function globToRegExp(glob: string): RegExp {
  let re = ''
  for (const ch of glob) {
    if (ch === '*') re += '.*'
    else if (ch === '?') re += '.'
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`, 'iu')
}

/** Finds the price in effect for a model at a time. */
export type PriceLookup = (model: string, tsMs: number) => PriceEntry | undefined

/**
 * Compiles a (validated) table for repeated lookups. Among entries whose pattern matches the model
 * and whose start is at or before the time, the most specific pattern wins (most literal
 * characters, then fewest wildcards), and among that pattern's entries the latest start.
 */
export function createPriceLookup(table: PriceTable): PriceLookup {
  const compiled = table.prices.map((e) => {
    const wild = [...e.model].filter((c) => c === '*' || c === '?').length
    return {
      entry: e,
      re: globToRegExp(e.model),
      literal: [...e.model].length - wild,
      wild,
      start: e.start === undefined ? Number.NEGATIVE_INFINITY : (parseStart(e.start) ?? Number.POSITIVE_INFINITY),
    }
  })
  return (model, tsMs) => {
    let best: (typeof compiled)[number] | undefined
    for (const c of compiled) {
      if (c.start > tsMs || !c.re.test(model)) continue
      if (
        !best ||
        c.literal > best.literal ||
        (c.literal === best.literal && (c.wild < best.wild || (c.wild === best.wild && c.start > best.start)))
      ) {
        best = c
      }
    }
    return best?.entry
  }
}

/** The price in effect for `model` at `tsMs` (compiles the table each call; use {@link createPriceLookup} in loops). */
export function priceAt(table: PriceTable, model: string, tsMs: number): PriceEntry | undefined {
  return createPriceLookup(table)(model, tsMs)
}
