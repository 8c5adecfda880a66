import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { describeDatasetsConformance } from './datasets-conformance.test-suite.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-ds-'))
let n = 0
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describeDatasetsConformance('sqlite', async () => {
  const i = n++
  return { store: new SqliteStore({ filename: path.join(dir, `s${i}.db`) }), dir: path.join(dir, `ds${i}`) }
})
