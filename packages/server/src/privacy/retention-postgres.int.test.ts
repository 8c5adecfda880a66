/** Retention on PostgreSQL: whole monthly partitions dropped only when every project in them lets go. */
import { dropSchemas, PG_TEST_URL, postgresReachable, uniqueSchema, withSchema } from '@inferlog/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { sealAll } from '../audit/audit-conformance.test-suite.js'
import { verifyChain } from '../audit/verify-chain.js'
import { callApp } from '../http/app-harness.test-suite.js'
import { createApp } from '../http/create-app.js'
import { silentLogger } from '../logging/logger.js'
import { openStore } from '../store/open-store.js'
import type { PostgresStore } from '../store/postgres/postgres-store.js'

const reachable = await postgresReachable()
const schemas: string[] = []
afterAll(() => dropSchemas(schemas))
const DAY = 86_400_000

describe.skipIf(!reachable)('retention on PostgreSQL partitions', () => {
  it('drops a month partition when every project in it expires it, deletes rows otherwise, and verify passes', async () => {
    const schema = uniqueSchema()
    schemas.push(schema)
    const store = openStore(withSchema(PG_TEST_URL, schema)) as PostgresStore
    await store.migrate()
    const core = createApp({ store, logger: silentLogger() })
    try {
      const now = Date.now()
      const d = new Date(now - 150 * DAY)
      const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 10)
      const table = `events_${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`
      const req = (method: string, url: string, project: string, body?: unknown) =>
        callApp(core, method, url, body as object, { 'x-inferlog-project': project })
      const ev = (id: string, ts: number) => ({
        id,
        ts: new Date(ts).toISOString(),
        model: { name: 'm', version: '1' },
        input: 1,
        output: 1,
      })
      for (const p of ['a', 'b']) {
        expect(
          (await req('POST', '/v1/events', p, [ev(`${p}-old`, month), ev(`${p}-old2`, month + DAY), ev(`${p}-new`, now - DAY)])).json
            .accepted,
        ).toBe(3)
      }
      const exists = async () =>
        (await store.queryable.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${schema}.${table}`])).rows[0]!.t
      expect(await exists()).not.toBeNull()
      await sealAll(store)

      // Only project a lets the month go: its rows are deleted one by one, the table stays for b.
      await req('PUT', '/v1/retention', 'a', { events_days: 30 })
      const runA = await req('POST', '/v1/retention/run', 'a')
      expect(runA.json).toMatchObject({ removed: { events: 2, feedback: 0 }, partitions: [] })
      expect(await exists()).not.toBeNull()
      expect((await req('GET', '/v1/events/b-old', 'b')).status).toBe(200)

      // Once b expires it too, the scheduled run (every project) drops the table.
      await req('PUT', '/v1/retention', 'b', { events_days: 60 })
      await core.retention.tick()
      expect(await exists()).toBeNull()
      const drop = (await store.auditRecords('b')).map((r) => JSON.parse(r.body)).find((r) => r.details?.dropped)
      expect(drop).toMatchObject({ type: 'retention', actor: { key_id: null, name: 'retention' }, details: { partition: table } })
      expect((await req('GET', '/v1/events/b-old', 'b')).status).toBe(410)
      expect((await req('GET', '/v1/events/b-new', 'b')).status).toBe(200)
      // An old id sent again is refused; a new old-dated event lands in the default partition.
      const again = await req('POST', '/v1/events', 'b', [ev('b-old', month), ev('b-late', month + 2 * DAY)])
      expect(again.json.rejected.map((r: { code: string }) => r.code)).toEqual(['erased'])
      expect((await req('GET', '/v1/events/b-late', 'b')).status).toBe(200)

      await sealAll(store)
      const v = await verifyChain(store)
      expect(v.errors).toEqual([])
    } finally {
      await core.close()
      await store.close()
    }
  })
})
