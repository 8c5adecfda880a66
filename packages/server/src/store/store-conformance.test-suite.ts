/**
 * One behavioural suite every Store adapter must pass (SQLite today, PostgreSQL next).
 * Call `describeStoreConformance('name', makeStore)` from an adapter's test file.
 */
import canonicalize from 'canonicalize'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { EventRecord, FeedbackRecord, Store } from './store.js'
import { describeDerivedStoreConformance } from './derived-store-conformance.test-suite.js'
import { describeLogScannerConformance } from './log-scanner-conformance.test-suite.js'

let seq = 0
const T0 = Date.parse('2026-11-01T00:00:00.000Z')

/** Builds an event record as the ingest pipeline would. */
export function eventRecord(p: Partial<EventRecord> & { id: string }, body: Record<string, unknown> = {}): EventRecord {
  const tsMs = p.tsMs ?? T0 + ++seq
  const full = {
    id: p.id,
    ts: new Date(tsMs).toISOString(),
    model: { name: p.model ?? 'm', version: p.version ?? '1', stage: p.stage ?? 'primary' },
    input: { n: seq },
    output: 1,
    ...body,
  }
  return {
    project: p.project ?? 'p1',
    id: p.id,
    tsMs,
    receivedMs: p.receivedMs ?? tsMs,
    model: p.model ?? 'm',
    version: p.version ?? '1',
    stage: p.stage ?? 'primary',
    status: p.status ?? 'ok',
    sessionId: p.sessionId ?? null,
    userId: p.userId ?? null,
    arm: p.arm ?? null,
    shadowOf: p.shadowOf ?? null,
    body: p.body ?? canonicalize(full)!,
  }
}

/** Builds a feedback record. */
export function feedbackRecord(p: Partial<FeedbackRecord> & { id: string; eventId: string }, value: unknown = 1): FeedbackRecord {
  const tsMs = p.tsMs ?? T0 + ++seq
  const name = p.name ?? 'thumbs'
  return {
    project: p.project ?? 'p1',
    id: p.id,
    eventId: p.eventId,
    name,
    tsMs,
    receivedMs: tsMs,
    body: p.body ?? canonicalize({ id: p.id, event_id: p.eventId, name, value })!,
  }
}

const ids = (rows: { body: string }[]) => rows.map((r) => (JSON.parse(r.body) as { id: string }).id)

/** Every part's conformance suite for one adapter. */
export function describeStoreConformance(name: string, makeStore: () => Promise<Store>): void {
  describeRecordConformance(name, makeStore)
  describeLogScannerConformance(name, makeStore)
  describeDerivedStoreConformance(name, makeStore)
}

/** The event log, point reads, pages and keys. */
function describeRecordConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store
    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
      await store.migrate() // idempotent
    })
    afterEach(async () => {
      await store.close()
    })

    it('returns the stored body byte for byte', async () => {
      const r = eventRecord({ id: 'e1' }, { input: { text: 'héllo 📦', nested: [1, 2.5, -0.001, { z: null }] } })
      const res = await store.writeBatch({ events: [r], feedback: [] })
      expect(res.events).toEqual(['inserted'])
      expect(res.batchSeq).toBeGreaterThan(0)
      const got = await store.getEvent('p1', 'e1')
      expect(got?.body).toBe(r.body)
      expect(got?.tsMs).toBe(r.tsMs)
      expect(await store.getEvent('p1', 'nope')).toBeUndefined()
    })

    it('tells duplicates from conflicts and never overwrites', async () => {
      const a = eventRecord({ id: 'e1' })
      await store.writeBatch({ events: [a], feedback: [] })
      const changed = { ...a, body: a.body.replace('"output":1', '"output":2') }
      const res = await store.writeBatch({ events: [a, changed, eventRecord({ id: 'e2' })], feedback: [] })
      expect(res.events).toEqual(['duplicate', 'conflict', 'inserted'])
      expect((await store.getEvent('p1', 'e1'))?.body).toBe(a.body)
      // Twice in one batch: the second is a duplicate of the first.
      const b = eventRecord({ id: 'e3' })
      expect((await store.writeBatch({ events: [b, b], feedback: [] })).events).toEqual(['inserted', 'duplicate'])
      const f = feedbackRecord({ id: 'f1', eventId: 'e1' })
      const f2 = { ...f, body: f.body.replace('"value":1', '"value":0') }
      expect((await store.writeBatch({ events: [], feedback: [f, f, f2] })).feedback).toEqual(['inserted', 'duplicate', 'conflict'])
    })

    it('joins feedback that arrives before, with and after its event', async () => {
      await store.writeBatch({ events: [], feedback: [feedbackRecord({ id: 'early', eventId: 'e1' })] })
      expect(await store.feedbackForEvent('p1', 'e1')).toHaveLength(1)
      await store.writeBatch({
        events: [eventRecord({ id: 'e1' })],
        feedback: [feedbackRecord({ id: 'same', eventId: 'e1', name: 'label' }, 'spam')],
      })
      await store.writeBatch({ events: [], feedback: [feedbackRecord({ id: 'late', eventId: 'e1' })] })
      expect(ids(await store.feedbackForEvent('p1', 'e1'))).toEqual(['early', 'same', 'late'])
      expect(await store.feedbackForEvent('p2', 'e1')).toEqual([])
    })

    it('finds shadows of a primary event', async () => {
      await store.writeBatch({
        events: [
          eventRecord({ id: 'prim' }),
          eventRecord({ id: 'sh1', stage: 'shadow', shadowOf: 'prim' }),
          eventRecord({ id: 'sh2', stage: 'challenger', shadowOf: 'prim' }),
        ],
        feedback: [],
      })
      expect(ids(await store.shadowsOf('p1', 'prim'))).toEqual(['sh1', 'sh2'])
      expect(await store.shadowsOf('p1', 'sh1')).toEqual([])
    })

    it('filters events by every documented field', async () => {
      await store.writeBatch({
        events: [
          eventRecord({ id: 'a', model: 'clf', version: '1', sessionId: 's1', userId: 'u1', arm: 'control', tsMs: T0 + 1000 }),
          eventRecord({ id: 'b', model: 'clf', version: '2', stage: 'canary', userId: 'u2', arm: 'treatment', tsMs: T0 + 2000 }),
          eventRecord({ id: 'c', model: 'llm', version: '1', status: 'error', sessionId: 's1', tsMs: T0 + 3000 }),
        ],
        feedback: [feedbackRecord({ id: 'f', eventId: 'a', name: 'label' }), feedbackRecord({ id: 'g', eventId: 'c', name: 'thumbs' })],
      })
      const q = async (f: Parameters<Store['listEvents']>[1]) => ids((await store.listEvents('p1', f, 100)).rows)
      expect(await q({})).toEqual(['c', 'b', 'a'])
      expect(await q({ model: 'clf' })).toEqual(['b', 'a'])
      expect(await q({ model: 'clf', version: '2' })).toEqual(['b'])
      expect(await q({ stage: 'canary' })).toEqual(['b'])
      expect(await q({ status: 'error' })).toEqual(['c'])
      expect(await q({ sessionId: 's1' })).toEqual(['c', 'a'])
      expect(await q({ userId: 'u2' })).toEqual(['b'])
      expect(await q({ arm: 'control' })).toEqual(['a'])
      expect(await q({ fromMs: T0 + 2000 })).toEqual(['c', 'b'])
      expect(await q({ toMs: T0 + 2000 })).toEqual(['a'])
      expect(await q({ hasFeedback: true })).toEqual(['c', 'a'])
      expect(await q({ hasFeedback: false })).toEqual(['b'])
      expect(await q({ feedbackName: 'label' })).toEqual(['a'])
      expect(await q({ feedbackName: 'label', model: 'llm' })).toEqual([])
    })

    it('paginates with a keyset cursor that is stable while new events arrive', async () => {
      const first = Array.from({ length: 25 }, (_, i) => eventRecord({ id: `e${i}`, tsMs: T0 + (i % 5) * 1000 }))
      await store.writeBatch({ events: first, feedback: [] })
      const seen: string[] = []
      let cursor: Awaited<ReturnType<Store['listEvents']>>['next'] | undefined
      let pages = 0
      do {
        const page = await store.listEvents('p1', {}, 7, cursor ?? undefined)
        seen.push(...ids(page.rows))
        cursor = page.next
        pages++
        // New events (newer and same-ts) arrive between pages; they must not shift what comes next.
        await store.writeBatch({
          events: [eventRecord({ id: `new${pages}`, tsMs: T0 + 9000 + pages }), eventRecord({ id: `tie${pages}`, tsMs: T0 + 2000 })],
          feedback: [],
        })
      } while (cursor)
      // Nothing seen twice, nothing that existed at the start skipped. Late events with an old
      // timestamp may show up on a later page (they sort by event time); newer ones never do.
      expect(seen.length).toBe(new Set(seen).size)
      expect(seen.filter((s) => s.startsWith('e')).sort()).toEqual(first.map((e) => e.id).sort())
      expect(seen.some((s) => s.startsWith('new'))).toBe(false)
      expect(pages).toBeGreaterThanOrEqual(4)
      // Newest first, ties by ingest order descending.
      const all = (await store.listEvents('p1', {}, 1000)).rows
      for (let i = 1; i < all.length; i++) {
        const a = all[i - 1]!
        const b = all[i]!
        expect(a.tsMs > b.tsMs || (a.tsMs === b.tsMs && a.seq > b.seq)).toBe(true)
      }
    })

    it('pages through equal timestamps exactly, with a model and a window too (keyset on ts, seq)', async () => {
      // 4 events per millisecond over 5 ms, two models interleaved.
      const events = Array.from({ length: 20 }, (_, i) =>
        eventRecord({ id: `t${String(i).padStart(2, '0')}`, tsMs: T0 + Math.floor(i / 4), model: i % 2 ? 'a' : 'b' }),
      )
      await store.writeBatch({ events, feedback: [] })
      const walk = async (filter: Parameters<typeof store.listEvents>[1], size: number) => {
        const out: string[] = []
        let cursor: Parameters<typeof store.listEvents>[3]
        do {
          const page = await store.listEvents('p1', filter, size, cursor)
          out.push(...ids(page.rows))
          cursor = page.next ?? undefined
        } while (cursor)
        return out
      }
      const expected = (keep: (i: number) => boolean) =>
        events
          .map((e, i) => ({ id: e.id, i }))
          .filter(({ i }) => keep(i))
          .reverse()
          .map((x) => x.id)
      for (const size of [1, 3, 4, 7]) {
        expect(await walk({}, size)).toEqual(expected(() => true))
        expect(await walk({ model: 'a' }, size)).toEqual(expected((i) => i % 2 === 1))
        expect(await walk({ model: 'a', fromMs: T0 + 1, toMs: T0 + 4 }, size)).toEqual(expected((i) => i % 2 === 1 && i >= 4 && i < 16))
      }
    })

    it('lists feedback with filters and pagination', async () => {
      await store.writeBatch({
        events: [],
        feedback: Array.from({ length: 12 }, (_, i) =>
          feedbackRecord({ id: `f${i}`, eventId: `e${i % 3}`, name: i % 2 ? 'thumbs' : 'label', tsMs: T0 + i }),
        ),
      })
      expect(ids((await store.listFeedback('p1', { eventId: 'e0' }, 100)).rows)).toEqual(['f9', 'f6', 'f3', 'f0'])
      expect((await store.listFeedback('p1', { name: 'thumbs' }, 100)).rows).toHaveLength(6)
      expect(ids((await store.listFeedback('p1', { fromMs: T0 + 10 }, 100)).rows)).toEqual(['f11', 'f10'])
      const p1 = await store.listFeedback('p1', {}, 5)
      const p2 = await store.listFeedback('p1', {}, 5, p1.next!)
      const p3 = await store.listFeedback('p1', {}, 5, p2.next!)
      expect([...ids(p1.rows), ...ids(p2.rows), ...ids(p3.rows)]).toEqual(Array.from({ length: 12 }, (_, i) => `f${11 - i}`))
      expect(p3.next).toBeNull()
    })

    it('isolates projects', async () => {
      await store.writeBatch({
        events: [eventRecord({ id: 'same', project: 'p1' }), eventRecord({ id: 'same', project: 'p2', model: 'other' })],
        feedback: [feedbackRecord({ id: 'fb', eventId: 'same', project: 'p2' })],
      })
      expect(ids((await store.listEvents('p1', {}, 10)).rows)).toEqual(['same'])
      expect(JSON.parse((await store.getEvent('p2', 'same'))!.body).model.name).toBe('other')
      expect(await store.feedbackForEvent('p1', 'same')).toEqual([])
      expect(await store.feedbackForEvent('p2', 'same')).toHaveLength(1)
      expect((await store.listEvents('p1', { hasFeedback: true }, 10)).rows).toEqual([])
      expect((await store.listFeedback('p1', {}, 10)).rows).toEqual([])
    })

    it('stores API keys by hash, counts and revokes them', async () => {
      expect(await store.countActiveApiKeys(Date.now())).toBe(0)
      await store.createApiKey({
        id: 'k1',
        project: 'p1',
        name: 'ci',
        hash: 'h1',
        scopes: ['ingest', 'read'],
        createdMs: 1,
        revokedMs: null,
        expiresMs: null,
      })
      await store.createApiKey({
        id: 'k2',
        project: 'p2',
        name: 'adm',
        hash: 'h2',
        scopes: ['admin'],
        createdMs: 2,
        revokedMs: null,
        expiresMs: null,
      })
      await store.createApiKey({
        id: 'k3',
        project: 'p2',
        name: 'tmp',
        hash: 'h3',
        scopes: ['read'],
        createdMs: 3,
        revokedMs: null,
        expiresMs: 1_000,
      })
      expect(await store.countActiveApiKeys(999)).toBe(3)
      expect(await store.countActiveApiKeys(Date.now())).toBe(2)
      expect(await store.findApiKeyByHash('h3')).toMatchObject({ expiresMs: 1_000 })
      expect(await store.findApiKeyByHash('h1')).toMatchObject({ id: 'k1', project: 'p1', scopes: ['ingest', 'read'] })
      expect(await store.findApiKeyByHash('nope')).toBeUndefined()
      expect((await store.listApiKeys('p2')).map((k) => k.id)).toEqual(['k2', 'k3'])
      expect(await store.revokeApiKey('k1', 5)).toBe(true)
      expect(await store.revokeApiKey('k1', 6)).toBe(false)
      expect(await store.countActiveApiKeys(Date.now())).toBe(1)
      expect((await store.findApiKeyByHash('h1'))?.revokedMs).toBe(5)
    })

    it('tells data errors from store faults', async () => {
      expect(store.isDataError(new Error('connection refused'))).toBe(false)
      expect(store.isDataError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false)
      expect(store.isDataError(undefined)).toBe(false)
    })
  })
}
