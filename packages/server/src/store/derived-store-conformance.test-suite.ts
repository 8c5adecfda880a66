/**
 * Conformance of the DerivedStore part: consumer watermarks that move with their writes, atomically
 * and only from where they were. Called by `describeStoreConformance` for every adapter.
 */
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from './store.js'

export function describeDerivedStoreConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`DerivedStore conformance: ${name}`, () => {
    let store: Store
    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
      await sql`CREATE TABLE test_counts (k text PRIMARY KEY, n bigint NOT NULL)`.execute(store.derived.db)
    })
    afterEach(async () => {
      await store.close()
    })

    const upsert = (k: string, n: number) =>
      store.derived.db
        .insertInto('test_counts')
        .values({ k, n })
        .onConflict((oc) => oc.column('k').doUpdateSet({ n: (eb) => eb('test_counts.n', '+', eb.ref('excluded.n')) }))
        .compile()
    const counts = async () =>
      Object.fromEntries(
        ((await store.derived.db.selectFrom('test_counts').selectAll().orderBy('k').execute()) as { k: string; n: number }[]).map((r) => [
          r.k,
          Number(r.n),
        ]),
      )

    it('moves a watermark with its writes, only from where it stands', async () => {
      expect(await store.derived.watermark('c1')).toBe(0)
      expect(await store.derived.advance('c1', 0, 3, [upsert('a', 1), upsert('b', 2)])).toBe(true)
      expect(await store.derived.watermark('c1')).toBe(3)
      expect(await counts()).toEqual({ a: 1, b: 2 })
      // A stale runner (still thinks 0) changes nothing.
      expect(await store.derived.advance('c1', 0, 5, [upsert('a', 100)])).toBe(false)
      expect(await store.derived.advance('c1', 2, 5, [upsert('a', 100)])).toBe(false)
      expect(await counts()).toEqual({ a: 1, b: 2 })
      expect(await store.derived.advance('c1', 3, 7, [upsert('a', 10)])).toBe(true)
      expect(await counts()).toEqual({ a: 11, b: 2 })
      // Watermarks are per consumer.
      expect(await store.derived.watermark('c2')).toBe(0)
      expect(await store.derived.advance('c2', 0, 1, [])).toBe(true)
      expect(await store.derived.watermark('c1')).toBe(7)
    })

    it('leases a consumer to one holder at a time, and lets another take over when the lease runs out', async () => {
      expect(await store.derived.claim('c1', 'A', 60_000)).toBe(true)
      expect(await store.derived.claim('c1', 'B', 60_000)).toBe(false)
      expect(await store.derived.claim('c1', 'A', 60_000)).toBe(true)
      expect(await store.derived.claim('c2', 'B', 60_000)).toBe(true)
      // The lease does not touch the watermark.
      expect(await store.derived.advance('c1', 0, 4, [])).toBe(true)
      expect(await store.derived.watermark('c1')).toBe(4)
      expect(await store.derived.claim('c1', 'A', 1)).toBe(true)
      await new Promise((r) => setTimeout(r, 20))
      expect(await store.derived.claim('c1', 'B', 60_000)).toBe(true)
      expect(await store.derived.claim('c1', 'A', 60_000)).toBe(false)
      expect(await store.derived.watermark('c1')).toBe(4)
    })

    it('lets a holder take a lease over from a holder it names (one it knows is gone), and only from that one', async () => {
      expect(await store.derived.claim('c1', 'A', 60_000)).toBe(true)
      expect(await store.derived.claim('c1', 'B', 60_000, 'X')).toBe(false)
      expect(await store.derived.claim('c1', 'B', 60_000, 'A')).toBe(true)
      expect(await store.derived.claim('c1', 'A', 60_000)).toBe(false)
      expect(await store.derived.claim('c1', 'B', 60_000)).toBe(true)
    })

    it('lets a holder give its lease up (ttl 0 or less), so that another takes it at once', async () => {
      expect(await store.derived.claim('c1', 'A', 60_000)).toBe(true)
      // Giving up a lease one does not hold changes nothing.
      expect(await store.derived.claim('c1', 'B', -1)).toBe(false)
      expect(await store.derived.claim('c1', 'C', 60_000)).toBe(false)
      expect(await store.derived.claim('c1', 'A', -1)).toBe(true)
      expect(await store.derived.claim('c1', 'B', 60_000)).toBe(true)
      expect(await store.derived.claim('c1', 'A', 60_000)).toBe(false)
    })

    it('writes configuration without a watermark, all or nothing', async () => {
      await store.derived.write([upsert('cfg', 1), upsert('cfg', 2)])
      expect(await counts()).toEqual({ cfg: 3 })
      await expect(
        store.derived.write([upsert('cfg', 10), { sql: 'INSERT INTO no_such_table (x) VALUES (1)', parameters: [] }]),
      ).rejects.toThrow()
      expect(await counts()).toEqual({ cfg: 3 })
    })

    it('applies nothing, the watermark included, when one write fails', async () => {
      expect(await store.derived.advance('c1', 0, 1, [upsert('a', 1)])).toBe(true)
      const bad = { sql: 'INSERT INTO no_such_table (x) VALUES (1)', parameters: [] }
      await expect(store.derived.advance('c1', 1, 2, [upsert('a', 5), bad])).rejects.toThrow()
      expect(await store.derived.watermark('c1')).toBe(1)
      expect(await counts()).toEqual({ a: 1 })
    })
  })
}
