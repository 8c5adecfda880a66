import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { describeAuditConformance } from './audit-conformance.test-suite.js'
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
