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
  // Already current (the common case on every start and first request): no write, no lock.
  const current = await schemaVersion(derived.db, owner).catch(() => undefined)
  if (current !== undefined && current >= steps.length) return
  const createSchemaTable = (db: Kysely<any>) =>
    db.schema
      .createTable('derived_schema')
      .ifNotExists()
      .addColumn('owner', 'text', (c) => c.primaryKey())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute()
  if (derived.dialect === 'postgres') {
    // Every owner creates this table: two sessions running CREATE TABLE IF NOT EXISTS at once on
    // PostgreSQL can both try, and one fails on pg_type's unique index (a feed consumer starting
    // beside a first request that reads its project's redaction rules did, on a fresh schema). One
    // lock for all owners of this schema serializes it.
    await derived.db.transaction().execute(async (db) => {
      await sql`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.inferlog.derived_schema'))`.execute(db)
      await createSchemaTable(db)
    })
  } else await createSchemaTable(derived.db)
  const run = async (db: Kysely<any>) => {
    if (derived.dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(hashtext(${`inferlog.derived.${owner}`}))`.execute(db)
    const done = (await schemaVersion(db, owner)) ?? 0
    for (let v = done; v < steps.length; v++) await steps[v]!(db, derived.dialect)
    if (steps.length > done) {
      await db
        .insertInto('derived_schema')
        .values({ owner, version: steps.length })
        .onConflict((oc) => oc.column('owner').doUpdateSet({ version: steps.length }))
        .execute()
    }
  }
  if (derived.dialect === 'postgres') {
    await derived.db.transaction().execute(run)
    return
  }
  // SQLite: take the write lock up front. A deferred transaction that reads and then writes gets
  // SQLITE_BUSY at once (no busy wait) whenever the writer thread committed in between.
  await derived.db.connection().execute(async (db) => {
    await sql`BEGIN IMMEDIATE`.execute(db)
    try {
      await run(db)
      await sql`COMMIT`.execute(db)
    } catch (e) {
      await sql`ROLLBACK`.execute(db).catch(() => {})
      throw e
    }
  })
}

async function schemaVersion(db: Kysely<any>, owner: string): Promise<number | undefined> {
  const row = (await db.selectFrom('derived_schema').select('version').where('owner', '=', owner).executeTakeFirst()) as
    | { version: number }
    | undefined
  return row?.version
}
