import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { dropSchemas, PG_TEST_URL, postgresReachable, uniqueSchema, withSchema } from '@inferlog/testkit'
import { openStore } from '../store/open-store.js'
import { FeedRunner } from '../feed/feed-runner.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import { AuditChainConsumer } from './audit-chain-consumer.js'
import { verifyChain } from './verify-chain.js'
import { describeAuditConformance, sealAll } from './audit-conformance.test-suite.js'
import { LeafHasher } from './leaf-hash.js'
import { describeExportImport } from './export-import.test-suite.js'

const reachable = await postgresReachable()
const schemas: string[] = []
afterAll(() => dropSchemas(schemas))

describe.skipIf(!reachable)('postgres', () => {
  describeAuditConformance('postgres', async () => {
    const schema = uniqueSchema()
    schemas.push(schema)
    return openStore(withSchema(PG_TEST_URL, schema))
  })
})

describe.skipIf(!reachable)('postgres export and import', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-export-'))
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  let n = 0
  const pg = async () => {
    const schema = uniqueSchema()
    schemas.push(schema)
    return openStore(withSchema(PG_TEST_URL, schema))
  }
  describeExportImport('postgres to postgres', pg, pg)
  // The supported path from the embedded store to scale-out.
  describeExportImport('sqlite to postgres', async () => new SqliteStore({ filename: path.join(dir, `s${n++}.db`) }), pg)
})

describe.skipIf(!reachable)('postgres, behind several workers', () => {
  it('two writers committing concurrently and two processes sealing leave one chain that verifies', async () => {
    const schema = uniqueSchema()
    schemas.push(schema)
    const url = withSchema(PG_TEST_URL, schema)
    // Two stores on one schema: two worker processes, each with its own pool.
    const a = openStore(url)
    const b = openStore(url)
    await a.migrate()
    await b.migrate()
    try {
      const runners = [a, b].map(
        (s) => new FeedRunner(s, [new AuditChainConsumer(s, { minStepIntervalMs: 0 })], { pollMs: 20, leaseMs: 2_000 }),
      )
      for (const r of runners) r.start()
      const write = (s: typeof a, w: string) =>
        (async () => {
          for (let i = 0; i < 40; i++) {
            await s.writeBatch({
              events: Array.from({ length: 5 }, (_, k) => eventRecord({ id: `${w}-${i}-${k}` })),
              feedback: [feedbackRecord({ id: `${w}-f${i}`, eventId: `${w}-${i}-0` })],
            })
          }
        })()
      await Promise.all([write(a, 'a'), write(b, 'b')])
      const head = await a.commitHead()
      await vi.waitFor(async () => expect(await a.derived.watermark('audit')).toBe(head), { timeout: 60_000, interval: 100 })
      await Promise.all(runners.map((r) => r.stop()))
      expect(head).toBe(80)
      expect(await verifyChain(a)).toMatchObject({ ok: true, batches: 80, rows: 480 })
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe.skipIf(!reachable)('postgres, leaves hashed by the server', () => {
  it('computes LeafHasher’s leaf for every plain row and leaves a batch with a long key to it', async () => {
    const schema = uniqueSchema()
    schemas.push(schema)
    const store = openStore(withSchema(PG_TEST_URL, schema))
    await store.migrate()
    try {
      const long = 'L'.repeat(300)
      await store.writeBatch({
        events: [
          eventRecord({ id: 'plain' }),
          eventRecord({ id: 'ünïcødé-🙂', model: 'modèle', sessionId: '会话', userId: 'ü', arm: '', shadowOf: 'plain' }),
          eventRecord({ id: 'k'.repeat(256), model: 'm'.repeat(256), tsMs: -5 }),
        ],
        feedback: [feedbackRecord({ id: 'f-ü', eventId: 'plain', name: 'nämé' })],
      })
      await store.writeBatch({ events: [eventRecord({ id: long }), eventRecord({ id: 'nul\u0000inside' })], feedback: [] })
      await store.appendAudit({ record: { project: 'p1', id: 'rec-ü', tsMs: 1767225600000, body: '{"type":"x","ü":1}' } })
      await sealAll(store)
      const hasher = new LeafHasher()
      const withLeaves: number[] = []
      for await (const chunk of store.scanLeafRows!(0, Number.MAX_SAFE_INTEGER)) {
        for (const b of chunk.batches) {
          if (!b.leaves) continue
          withLeaves.push(b.position)
          const expected: string[] = []
          for (const [kind, list] of [
            ['event', b.events],
            ['feedback', b.feedback],
            ['audit', b.audit],
          ] as const) {
            for (const r of await store.rowsBySeq!(
              kind,
              list.map((x) => x[0]),
            ))
              expected.push(hasher.hash(kind, r as never).toString('hex'))
          }
          expect(b.leaves.toString('hex')).toBe(expected.join(''))
        }
      }
      // The first batch and the record's; not the one whose id is folded.
      expect(withLeaves).toHaveLength(2)
      expect(await verifyChain(store)).toMatchObject({ ok: true, batches: 3, rows: 7 })
      await sql.raw(`UPDATE events SET body = body || ' ' WHERE id = 'ünïcødé-🙂'`).execute(store.derived.db)
      expect((await verifyChain(store)).first_error).toMatchObject({ code: 'row_mismatch', row: { id: 'ünïcødé-🙂' } })
    } finally {
      await store.close()
    }
  })
})
