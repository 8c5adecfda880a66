import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { describeReadAheadConformance } from './read-ahead-conformance.test-suite.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-ra-'))
let n = 0
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describeReadAheadConformance('sqlite', async () => {
  const filename = path.join(dir, `s${n++}.db`)
  return { store: new SqliteStore({ filename }), url: `sqlite:${filename}` }
})
