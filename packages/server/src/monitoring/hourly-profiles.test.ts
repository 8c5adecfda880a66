import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { describeHourlyProfilesConformance } from './hourly-profiles-conformance.test-suite.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-hourly-'))
let n = 0
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describeHourlyProfilesConformance('sqlite', async () => new SqliteStore({ filename: path.join(dir, `h${n++}.db`) }))
