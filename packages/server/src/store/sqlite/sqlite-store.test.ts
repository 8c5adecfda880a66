import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { describeStoreConformance, eventRecord } from '../store-conformance.test-suite.js'
import { SqliteStore } from './sqlite-store.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-sqlite-'))
let n = 0
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describeStoreConformance('sqlite', async () => new SqliteStore({ filename: path.join(dir, `t${n++}.db`) }))

describe('SqliteStore specifics', () => {
  it('runs in WAL mode with synchronous=FULL by default and survives reopen', async () => {
    const file = path.join(dir, 'reopen.db')
    const s = new SqliteStore({ filename: file })
    await s.migrate()
    await s.writeBatch({ events: [eventRecord({ id: 'x' })], feedback: [] })
    await s.close()
    const again = new SqliteStore({ filename: file })
    await again.migrate()
    expect((await again.getEvent('p1', 'x'))?.seq).toBe(1)
    const raw = (again as unknown as { db: { pragma(s: string, o: object): unknown } }).db
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(raw.pragma('synchronous', { simple: true })).toBe(2)
    await again.close()
  })

  it('uses the indexes the filters need', async () => {
    const s = new SqliteStore({ filename: ':memory:' })
    await s.migrate()
    const db = (s as unknown as { db: { prepare(q: string): { all(...a: unknown[]): { detail: string }[] } } }).db
    const plan = (q: string, ...a: unknown[]) => db.prepare(`EXPLAIN QUERY PLAN ${q}`).all(...a).map((r) => r.detail).join(' | ')
    expect(plan('SELECT body FROM events WHERE project = ? AND id = ?', 'p', 'i')).toMatch(/events_project_id/)
    expect(plan('SELECT body FROM feedback WHERE project = ? AND event_id = ? ORDER BY ts_ms, seq', 'p', 'i')).toMatch(/feedback_event/)
    expect(plan('SELECT seq FROM events e WHERE e.project = ? ORDER BY e.ts_ms DESC, e.seq DESC LIMIT 5', 'p')).toMatch(/events_project_ts/)
    await s.close()
  })
})
