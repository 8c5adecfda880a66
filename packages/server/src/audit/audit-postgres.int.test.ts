import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { dropSchemas, PG_TEST_URL, postgresReachable, uniqueSchema, withSchema } from '@inferlog/testkit'
import { openStore } from '../store/open-store.js'
import { FeedRunner } from '../feed/feed-runner.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import { AuditChainConsumer } from './audit-chain-consumer.js'
import { verifyChain } from './verify-chain.js'
import { describeAuditConformance } from './audit-conformance.test-suite.js'
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
