import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { eventRecord } from '../store-conformance.test-suite.js'
import { SqliteStore } from './sqlite-store.js'

const writerScript = new URL('../../../dist/store/sqlite/sqlite-writer-thread.js', import.meta.url)

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-checkpoint-'))
})
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('SqliteStore WAL checkpoints (writer thread)', () => {
  it('copies committed pages into the database file from a thread of their own, and stops on close', async () => {
    const file = path.join(dir, 'c.db')
    const store = new SqliteStore({ filename: file, writer: 'thread', writerScript })
    await store.migrate()
    for (let i = 0; i < 20; i++)
      await store.writeBatch({ events: Array.from({ length: 50 }, (_, j) => eventRecord({ id: `e${i}-${j}` })), feedback: [] })
    // A reader of the database file alone (no WAL) sees the rows once a checkpoint copied them.
    const probe = new Database(file, { readonly: true })
    try {
      await vi.waitFor(
        () => {
          // PASSIVE from here copies nothing more when the checkpointer already did: log = checkpointed.
          const [r] = probe.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[]
          expect(r!.log).toBeGreaterThan(0)
          expect(r!.checkpointed).toBe(r!.log)
        },
        { timeout: 10_000 },
      )
    } finally {
      probe.close()
    }
    await store.close()
    // Closed: the file opens again and holds every row.
    const again = new SqliteStore({ filename: file })
    expect((await again.readBatches(0, { maxBatches: 100 })).reduce((n, b) => n + b.events.length, 0)).toBe(1000)
    await again.close()
  })
})
