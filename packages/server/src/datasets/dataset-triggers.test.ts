import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { describeTriggerConformance } from './dataset-triggers.test-suite.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-trig-db-'))
let n = 0
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describeTriggerConformance('sqlite', async () => new SqliteStore({ filename: path.join(dir, `t${n++}.db`) }))
