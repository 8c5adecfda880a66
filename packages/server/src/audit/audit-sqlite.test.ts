import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { describeAuditConformance, sealAll } from './audit-conformance.test-suite.js'
import { eventRecord } from '../store/store-conformance.test-suite.js'
import { verifyChain } from './verify-chain.js'
import { verifyChainParallel } from './verify-parallel.js'
import { describeExportImport } from './export-import.test-suite.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-audit-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
let n = 0

describeAuditConformance('sqlite', async () => new SqliteStore({ filename: path.join(dir, `a${n++}.db`) }))
// The writer thread runs compiled code (worker threads load plain JS): build first.
const writerScript = new URL('../../dist/store/sqlite/sqlite-writer-thread.js', import.meta.url)
describeAuditConformance(
  'sqlite, writer thread',
  async () => new SqliteStore({ filename: path.join(dir, `w${n++}.db`), writer: 'thread', writerScript }),
)
describeExportImport(
  'sqlite to sqlite',
  async () => new SqliteStore({ filename: path.join(dir, `x${n++}.db`) }),
  async () => new SqliteStore({ filename: path.join(dir, `y${n++}.db`) }),
)
describeExportImport(
  'sqlite to sqlite, writer thread',
  async () => new SqliteStore({ filename: path.join(dir, `x${n++}.db`), writer: 'thread', writerScript }),
  async () => new SqliteStore({ filename: path.join(dir, `y${n++}.db`), writer: 'thread', writerScript }),
)

describe('verify on several threads', () => {
  it('splits the batches among workers and finds what one thread finds', async () => {
    const file = path.join(dir, `par${n++}.db`)
    const store = new SqliteStore({ filename: file })
    await store.migrate()
    for (let b = 0; b < 40; b++)
      await store.writeBatch({ events: [eventRecord({ id: `p${b}-a` }), eventRecord({ id: `p${b}-b` })], feedback: [] })
    await sealAll(store)
    const script = new URL('../../dist/audit/verify-worker.js', import.meta.url)
    const url = `sqlite:${file}`
    expect(await verifyChainParallel(store, url, { jobs: 3, script })).toMatchObject({ ok: true, batches: 40, rows: 80, errors: [] })
    await sql.raw(`UPDATE events SET body = body || ' ' WHERE id IN ('p31-b', 'p7-a')`).execute(store.derived.db)
    const par = await verifyChainParallel(store, url, { jobs: 3, script })
    const one = await verifyChain(store)
    expect(par.first_error).toMatchObject({ code: 'row_mismatch', batch: 8, row: { id: 'p7-a' } })
    expect(par.errors.map((e) => e.batch)).toEqual(one.errors.map((e) => e.batch))
    expect(par).toMatchObject({ ok: false, batches: 40, rows: 80 })
    await store.close()
  })
})
