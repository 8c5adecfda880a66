import { dropSchemas, PG_TEST_URL, postgresReachable, uniqueSchema, withSchema } from '@inferlog/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore } from '../store/open-store.js'
import { migrateDerived } from './derived-schema.js'

const reachable = await postgresReachable()
const schemas: string[] = []
afterAll(() => dropSchemas(schemas))

describe.skipIf(!reachable)('migrateDerived on postgres', () => {
  it('lets many owners migrate a fresh schema at once (the table of versions made once)', async () => {
    // Several rounds: the race it guards against needs two sessions in CREATE TABLE at once.
    for (let round = 0; round < 5; round++) {
      const schema = uniqueSchema('ds')
      schemas.push(schema)
      const stores = Array.from({ length: 6 }, () => openStore(withSchema(PG_TEST_URL, schema)))
      try {
        await stores[0]!.migrate()
        await Promise.all(
          stores.map((store, i) =>
            migrateDerived(store.derived, `owner_${i}`, [
              (db) =>
                db.schema
                  .createTable(`t_${i}`)
                  .ifNotExists()
                  .addColumn('k', 'text', (c) => c.primaryKey())
                  .execute(),
            ]),
          ),
        )
        const rows = (await stores[0]!.derived.db.selectFrom('derived_schema').selectAll().orderBy('owner').execute()) as {
          owner: string
          version: number
        }[]
        expect(rows.filter((r) => r.owner.startsWith('owner_')).map((r) => [r.owner, Number(r.version)])).toEqual(
          stores.map((_, i) => [`owner_${i}`, 1]),
        )
      } finally {
        await Promise.all(stores.map((s) => s.close()))
      }
    }
  })
})
