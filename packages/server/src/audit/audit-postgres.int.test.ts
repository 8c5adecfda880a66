import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe } from 'vitest'
import { dropSchemas, PG_TEST_URL, postgresReachable, uniqueSchema, withSchema } from '@inferlog/testkit'
import { openStore } from '../store/open-store.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
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
