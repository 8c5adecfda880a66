import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_WRITE_QUEUE } from '../config.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { eventRecord } from '../store/store-conformance.test-suite.js'
import { WriteQueue } from './write-queue.js'

let dir: string
let store: SqliteStore
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-wq-'))
  store = new SqliteStore({ filename: path.join(dir, 'q.db') })
  await store.migrate()
})
afterEach(async () => {
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('WriteQueue.busyMs', () => {
  it('counts the time commits were in flight: grows with commits, not while idle', async () => {
    const queue = new WriteQueue(store, DEFAULT_WRITE_QUEUE)
    expect(queue.busyMs).toBe(0)
    const events = Array.from({ length: 200 }, (_, i) => eventRecord({ id: `e${i}` }))
    const t0 = performance.now()
    await Promise.all([
      queue.submit({ events: events.slice(0, 100), feedback: [] }),
      queue.submit({ events: events.slice(100), feedback: [] }),
    ])
    const elapsed = performance.now() - t0
    const busy = queue.busyMs
    // Some time was spent committing, never more than the whole wait.
    expect(busy).toBeGreaterThan(0)
    expect(busy).toBeLessThanOrEqual(elapsed + 1)
    await new Promise((r) => setTimeout(r, 50))
    expect(queue.busyMs).toBe(busy)
    await queue.submit({ events: [eventRecord({ id: 'late' })], feedback: [] })
    expect(queue.busyMs).toBeGreaterThan(busy)
    await queue.close()
  })
})
