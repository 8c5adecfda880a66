import { createPriceLookup, MonitoringError, type PriceLookup, type PriceTable, parsePriceTable } from '@inferlog/analysis'
import { InferlogError } from '../errors.js'
import { type DerivedMigration, migrateDerived } from '../feed/derived-schema.js'
import type { DerivedStore } from '../store/store.js'

const SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('price_tables')
      .addColumn('project', 'text', (c) => c.primaryKey())
      .addColumn('price_table', 'text', (c) => c.notNull())
      .addColumn('updated_ms', 'bigint', (c) => c.notNull())
      .execute()
  },
]

/**
 * Per-project price tables (`inferlog prices set`, `PUT /v1/prices`): per-token prices by model
 * pattern and start date, used for the cost of events whose client sent no `usage.cost_usd`.
 * The stored records never change: derived costs live in the metrics buckets only, computed with
 * the price in effect at the event's time when its batch is aggregated.
 */
export class PriceTables {
  private ready: Promise<void> | undefined
  private cache = new Map<string, { at: number; lookup: PriceLookup | undefined }>()

  constructor(
    private readonly derived: DerivedStore,
    private readonly now: () => number = Date.now,
    /** How long a looked-up table is reused by the feed, ms. Default 5 000. */
    private readonly cacheMs = 5_000,
  ) {}

  private ensure(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'prices', SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  async get(project: string): Promise<PriceTable | undefined> {
    await this.ensure()
    const r = (await this.derived.db.selectFrom('price_tables').select('price_table').where('project', '=', project).executeTakeFirst()) as
      | { price_table: string }
      | undefined
    return r ? (JSON.parse(r.price_table) as PriceTable) : undefined
  }

  /** Replaces a project's table; a malformed one is rejected whole with the path of every error. */
  async set(project: string, input: unknown): Promise<PriceTable> {
    let table: PriceTable
    try {
      table = parsePriceTable(input)
    } catch (e) {
      if (e instanceof MonitoringError) throw new InferlogError('validation_failed', e.message, { details: e.issues })
      throw e
    }
    await this.ensure()
    const text = JSON.stringify(table)
    await this.derived.write([
      this.derived.db
        .insertInto('price_tables')
        .values({ project, price_table: text, updated_ms: this.now() })
        .onConflict((oc) => oc.column('project').doUpdateSet({ price_table: text, updated_ms: this.now() }))
        .compile(),
    ])
    this.cache.delete(project)
    return table
  }

  /** The project's price lookup (cached briefly), or undefined without a table. */
  async lookup(project: string): Promise<PriceLookup | undefined> {
    const hit = this.cache.get(project)
    if (hit && this.now() - hit.at < this.cacheMs) return hit.lookup
    const table = await this.get(project)
    const lookup = table ? createPriceLookup(table) : undefined
    this.cache.set(project, { at: this.now(), lookup })
    return lookup
  }
}
