import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { describeParallelBuildConformance } from './parallel-build-conformance.test-suite.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-par-'))
let n = 0
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describeParallelBuildConformance('sqlite', async () => {
  const filename = path.join(dir, `s${n++}.db`)
  return { store: new SqliteStore({ filename }), url: `sqlite:${filename}` }
})
