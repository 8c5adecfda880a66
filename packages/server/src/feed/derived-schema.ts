import { type Kysely, sql } from 'kysely'
import type { DerivedStore } from '../store/store.js'

/** One step of a consumer's schema; runs once per store, in order. */
export type DerivedMigration = (db: Kysely<any>, dialect: DerivedStore['dialect']) => Promise<void>

/**
 * Creates or upgrades the tables a feed consumer owns, so a feature adds its derived data without
 * touching either store adapter. Steps are written with Kysely's schema builder (portable) and
 * recorded per owner in `derived_schema`; on PostgreSQL an advisory lock keeps several processes
 * from running them at once.
 */
export async function migrateDerived(derived: DerivedStore, owner: string, steps: readonly DerivedMigration[]): Promise<void> {
  await derived.db.schema
    .createTable('derived_schema')
    .ifNotExists()
    .addColumn('owner', 'text', (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute()
  const run = async (db: Kysely<any>) => {
    if (derived.dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(hashtext(${`inferlog.derived.${owner}`}))`.execute(db)
    const row = (await db.selectFrom('derived_schema').select('version').where('owner', '=', owner).executeTakeFirst()) as
      | { version: number }
      | undefined
    const done = row?.version ?? 0
    for (let v = done; v < steps.length; v++) await steps[v]!(db, derived.dialect)
    if (steps.length > done) {
      await db
        .insertInto('derived_schema')
        .values({ owner, version: steps.length })
        .onConflict((oc) => oc.column('owner').doUpdateSet({ version: steps.length }))
        .execute()
    }
  }
  await derived.db.transaction().execute(run)
}
