import type { CompiledWrite, CommittedBatch, DerivedStore } from '../store/store.js'
import type { FeedConsumer, FeedContext } from './feed-consumer.js'
import { type DerivedMigration, migrateDerived } from './derived-schema.js'
import { CompiledFor, WriteTemplate } from './write-template.js'

const MODEL_FIELDS = ['project', 'model', 'version', 'events', 'errors', 'first_ts_ms', 'last_ts_ms'] as const
type ModelField = (typeof MODEL_FIELDS)[number]

const SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('catalog_models')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('events', 'bigint', (c) => c.notNull())
      .addColumn('errors', 'bigint', (c) => c.notNull())
      .addColumn('first_ts_ms', 'bigint', (c) => c.notNull())
      .addColumn('last_ts_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('catalog_models_pk', ['project', 'model', 'version'])
      .execute()
    await db.schema
      .createTable('catalog_feedback')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('items', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('catalog_feedback_pk', ['project', 'name'])
      .execute()
  },
]

/** One row of the catalog: a model version with traffic. */
export interface CatalogModel {
  project: string
  model: string
  version: string
  events: number
  errors: number
  firstTsMs: number
  lastTsMs: number
}

/** Creates the catalog's tables if they are not there yet (readers may come before the first feed step). */
export function ensureCatalog(derived: DerivedStore): Promise<void> {
  return migrateDerived(derived, 'catalog', SCHEMA)
}

/**
 * The catalog: which models, versions and feedback names a project has, with exact counts and
 * time spans. The simplest consumer of the commit feed, and the answer to "every model with
 * traffic" without scanning the log.
 */
export class CatalogConsumer implements FeedConsumer {
  readonly name = 'catalog'
  /**
   * A step folds counts into a handful of rows: cheap enough to take commits every 50 ms instead
   * of the runner's 250, which keeps the catalog within a few hundred ms of the commits.
   */
  readonly minStepIntervalMs = 50

  /** The two upserts, compiled once for the store's dialect. */
  private readonly compiled = new CompiledFor((db) => {
    const model = new WriteTemplate(MODEL_FIELDS, (v) =>
      db
        .insertInto('catalog_models')
        .values(v)
        .onConflict((oc) =>
          oc.columns(['project', 'model', 'version']).doUpdateSet((eb) => ({
            events: eb('catalog_models.events', '+', eb.ref('excluded.events')),
            errors: eb('catalog_models.errors', '+', eb.ref('excluded.errors')),
            first_ts_ms: eb
              .case()
              .when('excluded.first_ts_ms', '<', eb.ref('catalog_models.first_ts_ms'))
              .then(eb.ref('excluded.first_ts_ms'))
              .else(eb.ref('catalog_models.first_ts_ms'))
              .end(),
            last_ts_ms: eb
              .case()
              .when('excluded.last_ts_ms', '>', eb.ref('catalog_models.last_ts_ms'))
              .then(eb.ref('excluded.last_ts_ms'))
              .else(eb.ref('catalog_models.last_ts_ms'))
              .end(),
          })),
        ),
    )
    const feedback = new WriteTemplate(['project', 'name', 'items'] as const, (v) =>
      db
        .insertInto('catalog_feedback')
        .values(v)
        .onConflict((oc) =>
          oc.columns(['project', 'name']).doUpdateSet((eb) => ({ items: eb('catalog_feedback.items', '+', eb.ref('excluded.items')) })),
        ),
    )
    return { model, feedback }
  })

  async prepare(ctx: FeedContext): Promise<void> {
    await ensureCatalog(ctx.derived)
  }

  async apply(batches: readonly CommittedBatch[], ctx: FeedContext): Promise<readonly CompiledWrite[]> {
    const models = new Map<string, CatalogModel>()
    const names = new Map<string, { project: string; name: string; items: number }>()
    for (const b of batches) {
      for (const e of b.events) {
        const k = JSON.stringify([e.project, e.model, e.version])
        let m = models.get(k)
        if (!m)
          models.set(
            k,
            (m = { project: e.project, model: e.model, version: e.version, events: 0, errors: 0, firstTsMs: e.tsMs, lastTsMs: e.tsMs }),
          )
        m.events++
        if (e.status === 'error') m.errors++
        if (e.tsMs < m.firstTsMs) m.firstTsMs = e.tsMs
        if (e.tsMs > m.lastTsMs) m.lastTsMs = e.tsMs
      }
      for (const f of b.feedback) {
        const k = JSON.stringify([f.project, f.name])
        const n = names.get(k)
        if (n) n.items++
        else names.set(k, { project: f.project, name: f.name, items: 1 })
      }
    }
    const t = this.compiled.get(ctx.derived.db)
    const writes: CompiledWrite[] = []
    for (const m of models.values()) {
      writes.push(
        t.model.bind({
          project: m.project,
          model: m.model,
          version: m.version,
          events: m.events,
          errors: m.errors,
          first_ts_ms: m.firstTsMs,
          last_ts_ms: m.lastTsMs,
        }),
      )
    }
    for (const n of names.values()) writes.push(t.feedback.bind(n))
    return writes
  }
}
