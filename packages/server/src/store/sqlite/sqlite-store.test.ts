import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { describeLineageConformance } from '../../lineage/lineage-conformance.test-suite.js'
import { describeErasureConformance } from '../../privacy/erasure-conformance.test-suite.js'
import { describeRedactionConformance } from '../../privacy/redaction-conformance.test-suite.js'
import { describeRetentionConformance } from '../../privacy/retention-conformance.test-suite.js'
import { describeStoreConformance, eventRecord, feedbackRecord } from '../store-conformance.test-suite.js'
import { SqliteStore } from './sqlite-store.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-sqlite-'))
let n = 0
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describeStoreConformance('sqlite', async () => new SqliteStore({ filename: path.join(dir, `t${n++}.db`) }))

// The writer thread runs compiled code (worker threads load plain JS): npm test builds first.
const writerScript = new URL('../../../dist/store/sqlite/sqlite-writer-thread.js', import.meta.url)
describeStoreConformance(
  'sqlite, writer thread',
  async () => new SqliteStore({ filename: path.join(dir, `w${n++}.db`), writer: 'thread', writerScript }),
)

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

  it('answers session/user/arm filters exactly before, during and after background look-up indexing', async () => {
    const s = new SqliteStore({ filename: path.join(dir, 'lookup.db'), lookupIndexIntervalMs: 0 })
    await s.migrate()
    const mk = (id: string, i: number) => eventRecord({ id, sessionId: `s${i % 3}`, userId: `u${i % 4}`, arm: i % 2 ? 'a' : 'b' })
    await s.writeBatch({ events: Array.from({ length: 30 }, (_, i) => mk(`old${i}`, i)), feedback: [] })
    expect(s.indexLookups(10)).toBe(10) // partly indexed: the watermark sits inside the data
    await s.writeBatch({ events: Array.from({ length: 30 }, (_, i) => mk(`new${i}`, i)), feedback: [] })
    const expected = (pred: (i: number) => boolean) => [
      ...Array.from({ length: 30 }, (_, i) => i)
        .filter(pred)
        .map((i) => `new${i}`)
        .reverse(),
      ...Array.from({ length: 30 }, (_, i) => i)
        .filter(pred)
        .map((i) => `old${i}`)
        .reverse(),
    ]
    const ids = async (f: Parameters<SqliteStore['listEvents']>[1]) =>
      (await s.listEvents('p1', f, 1000)).rows.map((r) => JSON.parse(r.body).id as string)
    const check = async () => {
      expect(await ids({ sessionId: 's1' })).toEqual(expected((i) => i % 3 === 1))
      expect(await ids({ userId: 'u2', arm: 'b' })).toEqual(expected((i) => i % 4 === 2 && i % 2 === 0))
      expect(await ids({ arm: 'a', sessionId: 's0' })).toEqual(expected((i) => i % 2 === 1 && i % 3 === 0))
      expect(await ids({ sessionId: 's1', userId: 'nobody' })).toEqual([])
    }
    await check()
    while (s.indexLookups(7) > 0);
    await check()
    expect(await ids({ sessionId: 's1' }).then((r) => r.length)).toBe(20)
    await s.close()
  })

  it('falls back to inline commits when the writer-thread script is not there (running from sources)', async () => {
    const s = new SqliteStore({
      filename: path.join(dir, 'fallback.db'),
      writer: 'thread',
      writerScript: new URL('file:///nonexistent/sqlite-writer-thread.js'),
    })
    await s.migrate()
    expect((await s.writeBatch({ events: [eventRecord({ id: 'fb' })], feedback: [] })).events).toEqual(['inserted'])
    await s.close()
  })

  it('bounds the WAL when checkpoints are left to another connection', async () => {
    const file = path.join(dir, 'wal.db')
    const s = new SqliteStore({ filename: file, autoCheckpoint: false, maxWalBytes: 256 * 1024, lookupIndexIntervalMs: 0 })
    await s.migrate()
    let biggest = 0
    for (let b = 0; b < 20; b++) {
      await s.writeBatch({
        events: Array.from({ length: 100 }, (_, i) => eventRecord({ id: `w${b}-${i}` }, { input: 'x'.repeat(1000) })),
        feedback: [],
      })
      biggest = Math.max(biggest, fs.statSync(`${file}-wal`).size)
    }
    // 20 batches of ~110 KB would make a WAL of > 2 MB without the guard.
    expect(biggest).toBeLessThan(1024 * 1024)
    expect((await s.listEvents('p1', {}, 1000)).rows).toHaveLength(1000)
    await s.close()
  })

  it("gives feedback bodies their event's position when the ids asked are increasing and dense", async () => {
    const s = new SqliteStore({ filename: path.join(dir, `positions${n++}.db`) })
    await s.migrate()
    const id = (i: number) => `q${String(i).padStart(3, '0')}`
    const events = Array.from({ length: 60 }, (_, i) => eventRecord({ id: id(i) }))
    const feedback = events.flatMap((e, i) => (i % 4 === 3 ? [] : [feedbackRecord({ id: `f-${e.id}`, eventId: e.id, name: 'label' })]))
    await s.writeBatch({ events, feedback })
    const head = await s.commitHead()
    const increasing = Array.from({ length: 30 }, (_, i) => id(2 * i))
    const got = await s.feedbackBodies('p1', increasing, head, ['label'])
    expect(got.map((f) => f.id).sort()).toEqual(
      feedback
        .filter((f) => increasing.includes(f.eventId))
        .map((f) => f.id)
        .sort(),
    )
    expect(got.map((f) => [f.eventIndex, f.eventId])).toEqual(got.map((f) => [increasing.indexOf(f.eventId), f.eventId]))
    // Ids out of order: the same items, with no positions (the compiler groups them by id).
    const shuffled = [...increasing].reverse()
    const again = await s.feedbackBodies('p1', shuffled, head, ['label'])
    expect(again.map((f) => f.id).sort()).toEqual(got.map((f) => f.id).sort())
    expect(again.every((f) => f.eventIndex === undefined)).toBe(true)
    await s.close()
  })

  it('matches a span walk to consecutive ids, to ids with gaps and to ids whose events have no feedback', async () => {
    const s = new SqliteStore({ filename: path.join(dir, `positions${n++}.db`) })
    await s.migrate()
    const id = (i: number) => `r${String(i).padStart(3, '0')}`
    const events = Array.from({ length: 80 }, (_, i) => eventRecord({ id: id(i) }))
    // None for every fifth event, three (two names) for every third, one otherwise.
    const feedback = events.flatMap((e, i) =>
      i % 5 === 4
        ? []
        : (i % 3 === 0 ? ['label', 'other', 'label'] : ['label']).map((name, k) =>
            feedbackRecord({ id: `f-${e.id}-${k}`, eventId: e.id, name }),
          ),
    )
    await s.writeBatch({ events, feedback })
    const head = await s.commitHead()
    const wanted = (ids: string[], names?: string[]) =>
      feedback
        .filter((f) => ids.includes(f.eventId) && (names === undefined || names.includes(f.name)))
        .map((f) => f.id)
        .sort()
    // Consecutive ids, then consecutive runs with gaps between them, then every third id.
    const cases = [
      Array.from({ length: 40 }, (_, i) => id(10 + i)),
      Array.from({ length: 60 }, (_, i) => i)
        .filter((i) => i % 10 < 6)
        .map(id),
      Array.from({ length: 26 }, (_, i) => id(3 * i + 1)),
    ]
    for (const ids of cases)
      for (const names of [undefined, ['label']]) {
        const got = await s.feedbackBodies('p1', ids, head, names)
        expect(got.map((f) => f.id).sort()).toEqual(wanted(ids, names))
        expect(got.every((f) => f.eventIndex !== undefined && ids[f.eventIndex] === f.eventId)).toBe(true)
      }
    await s.close()
  })

  it('uses the indexes the filters need', async () => {
    const s = new SqliteStore({ filename: ':memory:' })
    await s.migrate()
    const db = (s as unknown as { db: { prepare(q: string): { all(...a: unknown[]): { detail: string }[] } } }).db
    const plan = (q: string, ...a: unknown[]) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${q}`)
        .all(...a)
        .map((r) => r.detail)
        .join(' | ')
    expect(plan('SELECT body FROM events WHERE project = ? AND id = ?', 'p', 'i')).toMatch(/events_project_id/)
    expect(plan('SELECT body FROM feedback WHERE project = ? AND event_id = ? ORDER BY ts_ms, seq', 'p', 'i')).toMatch(/feedback_event/)
    expect(plan('SELECT seq FROM events e WHERE e.project = ? ORDER BY e.ts_ms DESC, e.seq DESC LIMIT 5', 'p')).toMatch(/events_project_ts/)
    const bySession = plan(
      `SELECT e.seq FROM (SELECT seq FROM event_keys WHERE project = ? AND kind = 1 AND key = ?
        UNION ALL SELECT seq FROM events WHERE seq > (SELECT value FROM meta WHERE name = 'lookup_watermark') AND +project = ? AND session_id = ?)
        AS k CROSS JOIN events AS e ON e.seq = k.seq WHERE e.project = ? AND e.session_id = ? ORDER BY e.ts_ms DESC, e.seq DESC LIMIT 5`,
      'p',
      's',
      'p',
      's',
      'p',
      's',
    )
    expect(bySession).toMatch(/SEARCH e USING INTEGER PRIMARY KEY \(rowid=\?\)/)
    expect(bySession).toMatch(/SEARCH event_keys USING PRIMARY KEY/)
    expect(bySession).toMatch(/SEARCH events USING INTEGER PRIMARY KEY \(rowid>\?\)/)
    await s.close()
  })
})

describeErasureConformance('sqlite', async () => new SqliteStore({ filename: path.join(dir, `e${n++}.db`) }))
describeErasureConformance(
  'sqlite, writer thread',
  async () => new SqliteStore({ filename: path.join(dir, `ew${n++}.db`), writer: 'thread', writerScript }),
)

describeLineageConformance('sqlite', async () => new SqliteStore({ filename: path.join(dir, `l${n++}.db`) }))
describeRetentionConformance('sqlite', async () => new SqliteStore({ filename: path.join(dir, `r${n++}.db`) }))
describeRedactionConformance('sqlite', async () => new SqliteStore({ filename: path.join(dir, `x${n++}.db`) }))
