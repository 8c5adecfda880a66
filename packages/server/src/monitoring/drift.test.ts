import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { describeDriftConformance } from './drift-conformance.test-suite.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-drift-'))
let n = 0
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describeDriftConformance('sqlite', async () => new SqliteStore({ filename: path.join(dir, `d${n++}.db`) }))
