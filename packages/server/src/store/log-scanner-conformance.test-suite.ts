/**
 * Conformance of the LogScanner part: the commit feed and streaming scans. Called by
 * `describeStoreConformance` for every adapter.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventRecord, feedbackRecord } from './store-conformance.test-suite.js'
import type { LoggedEvent, Store } from './store.js'

async function collect(it: AsyncIterable<LoggedEvent[]>): Promise<{ ids: string[]; chunks: number[] }> {
  const ids: string[] = []
  const chunks: number[] = []
  for await (const chunk of it) {
    chunks.push(chunk.length)
    ids.push(...chunk.map((e) => e.id))
  }
  return { ids, chunks }
}

export function describeLogScannerConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`LogScanner conformance: ${name}`, () => {
    let store: Store
    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
    })
    afterEach(async () => {
      await store.close()
    })

    it('feeds committed batches in commit order with exactly the rows they inserted', async () => {
      expect(await store.commitHead()).toBe(0)
      expect(await store.readBatches(0)).toEqual([])
      await store.writeBatch({
        events: [eventRecord({ id: 'a' }), eventRecord({ id: 'b' })],
        feedback: [feedbackRecord({ id: 'f1', eventId: 'a' })],
      })
      // A batch of a duplicate, a conflict and one new item: only the new one is in the feed.
      await store.writeBatch({
        events: [eventRecord({ id: 'a' }), { ...eventRecord({ id: 'b' }), body: '{"other":1}' }, eventRecord({ id: 'c' })],
        feedback: [],
      })
      await store.writeBatch({ events: [], feedback: [feedbackRecord({ id: 'f2', eventId: 'zz' })] })
      const head = await store.commitHead()
      const batches = await store.readBatches(0)
      expect(batches).toHaveLength(3)
      expect(batches.map((b) => b.position)).toEqual([...batches.map((b) => b.position)].sort((x, y) => x - y))
      expect(batches[2]!.position).toBe(head)
      expect(batches.map((b) => b.events.map((e) => e.id))).toEqual([['a', 'b'], ['c'], []])
      expect(batches.map((b) => b.feedback.map((f) => f.id))).toEqual([['f1'], [], ['f2']])
      for (const b of batches) {
        expect(b.committedMs).toBeGreaterThan(0)
        for (const e of b.events) expect(e.batch).toBe(b.position)
        for (const f of b.feedback) expect(f.batch).toBe(b.position)
      }
      const c = batches[1]!.events[0]!
      expect(c).toMatchObject({ project: 'p1', id: 'c', model: 'm', version: '1', stage: 'primary', status: 'ok' })
      expect(JSON.parse(c.body)).toMatchObject({ id: 'c', model: { name: 'm' } })
      expect(batches[2]!.feedback[0]).toMatchObject({ eventId: 'zz', name: 'thumbs' })
      // From a watermark: only what follows it.
      expect((await store.readBatches(batches[0]!.position)).map((b) => b.position)).toEqual([batches[1]!.position, batches[2]!.position])
      expect(await store.readBatches(head)).toEqual([])
    })

    it('cuts reads by batches and rows but never splits a batch', async () => {
      for (let i = 0; i < 5; i++)
        await store.writeBatch({ events: [eventRecord({ id: `x${i}a` }), eventRecord({ id: `x${i}b` })], feedback: [] })
      expect(await store.readBatches(0, { maxBatches: 2 })).toHaveLength(2)
      const cut = await store.readBatches(0, { maxRows: 3 })
      expect(cut).toHaveLength(1)
      expect(cut[0]!.events).toHaveLength(2)
      expect(await store.readBatches(0, { maxRows: 1 })).toHaveLength(1)
    })

    it('scans events in ascending commit order within bounds, filters included, chunk by chunk', async () => {
      const ids: string[] = []
      for (let b = 0; b < 6; b++) {
        const evs = Array.from({ length: 7 }, (_, i) =>
          eventRecord({ id: `s${b}-${i}`, model: i % 2 ? 'odd' : 'even', version: String(b % 3), tsMs: Date.UTC(2026, 10, 1 + b, i) }),
        )
        ids.push(...evs.map((e) => e.id))
        await store.writeBatch({ events: evs, feedback: [feedbackRecord({ id: `fb${b}`, eventId: `s${b}-0` })] })
      }
      await store.writeBatch({ events: [eventRecord({ id: 'other', project: 'p2' })], feedback: [] })
      const head = await store.commitHead()
      const all = await collect(store.scanEvents('p1', {}, { upTo: head }, 10))
      expect(all.ids).toEqual(ids)
      expect(all.chunks).toEqual([10, 10, 10, 10, 2])
      const positions = (await store.readBatches(0)).map((b) => b.position)
      // Bounds by commit position: (after, upTo].
      const mid = await collect(store.scanEvents('p1', {}, { after: positions[1]!, upTo: positions[3]! }))
      expect(mid.ids).toEqual(ids.slice(14, 28))
      const odd = await collect(store.scanEvents('p1', { model: 'odd', versions: ['0', '2'] }, { upTo: head }))
      expect(odd.ids).toEqual(ids.filter((id) => Number(id.split('-')[1]) % 2 === 1 && ['0', '2', '3', '5'].includes(id[1]!)))
      const days = await collect(store.scanEvents('p1', { fromMs: Date.UTC(2026, 10, 3), toMs: Date.UTC(2026, 10, 5) }, { upTo: head }))
      expect(days.ids).toEqual(ids.slice(14, 28))
      const withFb = await collect(store.scanEvents('p1', { hasFeedback: true }, { upTo: head }))
      expect(withFb.ids).toEqual(['s0-0', 's1-0', 's2-0', 's3-0', 's4-0', 's5-0'])
      expect((await collect(store.scanEvents('p1', { model: 'none' }, { upTo: head }))).ids).toEqual([])
      expect((await collect(store.scanEvents('p1', { versions: [] }, { upTo: head }))).ids).toEqual([])
      // The bodies-only scan: the same rows, order and chunks, with exactly id, position, row, time and text.
      const withHost = <T extends { body: string }>(e: T, host: string | undefined): T => {
        if (host !== undefined) expect(host.endsWith(e.body)).toBe(true)
        return e
      }
      const project = (e: LoggedEvent) => ({ id: e.id, batch: e.batch, seq: e.seq, tsMs: e.tsMs, body: e.body })
      for (const [filter, bounds, chunk] of [
        [{}, { upTo: head }, 10],
        [{}, { after: positions[1]!, upTo: positions[3]! }, 1000],
        [{ model: 'odd', versions: ['0', '2'] }, { upTo: head }, 3],
        [{ fromMs: Date.UTC(2026, 10, 3), toMs: Date.UTC(2026, 10, 5) }, { upTo: head }, 1000],
        [{ model: 'none' }, { upTo: head }, 10],
      ] as const) {
        const full: unknown[][] = []
        for await (const c of store.scanEvents('p1', filter, bounds, chunk)) full.push(c.map(project))
        const bodies: unknown[][] = []
        // `host`, when a store sets it, is the string the body was cut from: it ends with the body.
        for await (const c of store.scanEventBodies('p1', filter, bounds, chunk)) bodies.push(c.map(({ host, ...e }) => withHost(e, host)))
        expect(bodies).toEqual(full)
      }
    })

    it('does not show rows committed after the bound a scan took, even while it runs', async () => {
      await store.writeBatch({ events: Array.from({ length: 30 }, (_, i) => eventRecord({ id: `before${i}` })), feedback: [] })
      const upTo = await store.commitHead()
      const seen: string[] = []
      let wrote = false
      for await (const chunk of store.scanEvents('p1', {}, { upTo }, 10)) {
        seen.push(...chunk.map((e) => e.id))
        if (!wrote) {
          wrote = true
          await store.writeBatch({ events: [eventRecord({ id: 'during' })], feedback: [] })
        }
      }
      expect(seen).toHaveLength(30)
      expect(seen).not.toContain('during')
      const after = await collect(store.scanEvents('p1', {}, { after: upTo, upTo: await store.commitHead() }))
      expect(after.ids).toEqual(['during'])
    })

    it('finds the shadows of many primaries at once, bounded by commit position', async () => {
      await store.writeBatch({
        events: [eventRecord({ id: 'p1' }), eventRecord({ id: 'p2' }), eventRecord({ id: 's1', shadowOf: 'p1', stage: 'shadow' })],
        feedback: [],
      })
      const upTo = await store.commitHead()
      await store.writeBatch({
        events: [eventRecord({ id: 's2', shadowOf: 'p2', stage: 'shadow' }), eventRecord({ id: 's3', shadowOf: 'p1', project: 'p2' })],
        feedback: [],
      })
      expect((await store.shadowsFor('p1', ['p1', 'p2'], upTo)).map((e) => e.id)).toEqual(['s1'])
      expect((await store.shadowsFor('p1', ['p1', 'p2'], await store.commitHead())).map((e) => e.id).sort()).toEqual(['s1', 's2'])
      expect((await store.shadowsFor('p1', ['p1'], upTo))[0]).toMatchObject({ shadowOf: 'p1', stage: 'shadow' })
    })

    it('reads events by many ids at once', async () => {
      await store.writeBatch({
        events: [eventRecord({ id: 'i1' }), eventRecord({ id: 'i2' }), eventRecord({ id: 'i1', project: 'p2' })],
        feedback: [],
      })
      const got = await store.eventsByIds('p1', ['i2', 'i1', 'nope'])
      expect(got.map((e) => e.id).sort()).toEqual(['i1', 'i2'])
      expect(got.every((e) => e.project === 'p1' && e.batch === got[0]!.batch && e.batch > 0)).toBe(true)
      expect(await store.eventsByIds('p1', [])).toEqual([])
    })

    it('looks feedback up for many events at once, bounded by commit position', async () => {
      await store.writeBatch({
        events: [eventRecord({ id: 'e1' }), eventRecord({ id: 'e2' })],
        feedback: [feedbackRecord({ id: 'k1', eventId: 'e1' }), feedbackRecord({ id: 'k2', eventId: 'e1', name: 'label' })],
      })
      const upTo = await store.commitHead()
      await store.writeBatch({
        events: [],
        feedback: [feedbackRecord({ id: 'k3', eventId: 'e2' }), feedbackRecord({ id: 'k4', eventId: 'e1', project: 'p2' })],
      })
      const sorted = (rows: { id: string }[]) => rows.map((r) => r.id).sort()
      expect(sorted(await store.feedbackForEvents('p1', ['e1', 'e2', 'nope'], upTo))).toEqual(['k1', 'k2'])
      expect(sorted(await store.feedbackForEvents('p1', ['e1', 'e2'], await store.commitHead()))).toEqual(['k1', 'k2', 'k3'])
      expect(await store.feedbackForEvents('p1', [], upTo)).toEqual([])
      const many = Array.from({ length: 2500 }, (_, i) => `nope${i}`)
      expect(sorted(await store.feedbackForEvents('p1', [...many, 'e2'], await store.commitHead()))).toEqual(['k3'])
      // The bodies-only look-up: the same items with what a dataset build reads, and a name filter.
      const slim = (rows: { id: string; eventId: string; name: string; tsMs: number; batch: number; seq: number; body: string }[]) =>
        rows
          .map((f) => ({ id: f.id, eventId: f.eventId, name: f.name, tsMs: f.tsMs, batch: f.batch, seq: f.seq, body: f.body }))
          .sort((a, b) => (a.id < b.id ? -1 : 1))
      const head = await store.commitHead()
      expect(slim(await store.feedbackBodies('p1', ['e1', 'e2', 'nope'], upTo))).toEqual(
        slim(await store.feedbackForEvents('p1', ['e1', 'e2'], upTo)),
      )
      expect(slim(await store.feedbackBodies('p1', [...many, 'e1', 'e2'], head))).toEqual(
        slim(await store.feedbackForEvents('p1', ['e1', 'e2'], head)),
      )
      expect(sorted(await store.feedbackBodies('p1', ['e1', 'e2'], head, ['label']))).toEqual(['k2'])
      expect(sorted(await store.feedbackBodies('p1', ['e1', 'e2'], head, []))).toEqual([])
      expect(await store.feedbackBodies('p1', [], head)).toEqual([])
    })

    it('looks feedback up by id range where a chunk of ids is dense, and id by id where it is not', async () => {
      const id = (i: number) => `r${String(i).padStart(3, '0')}`
      const events = Array.from({ length: 120 }, (_, i) => eventRecord({ id: id(i) }))
      // Every event has a 'label'; every third also a 'thumbs'; feedback of an unknown event and of another project in the range.
      const feedback = events.flatMap((e, i) => [
        feedbackRecord({ id: `l-${e.id}`, eventId: e.id, name: 'label' }),
        ...(i % 3 === 0 ? [feedbackRecord({ id: `t-${e.id}`, eventId: e.id })] : []),
      ])
      feedback.push(feedbackRecord({ id: 'ghost', eventId: 'r050x', name: 'label' }))
      feedback.push(feedbackRecord({ id: 'elsewhere', eventId: id(50), name: 'label', project: 'p2' }))
      await store.writeBatch({ events, feedback })
      const upTo = await store.commitHead()
      // Committed after the bound: never seen through it.
      await store.writeBatch({ events: [], feedback: [feedbackRecord({ id: 'late', eventId: id(40), name: 'label' })] })
      const head = await store.commitHead()
      const expected = (wanted: string[], names?: string[], late = false) =>
        [
          ...feedback.filter((f) => f.project === 'p1' && wanted.includes(f.eventId) && (names === undefined || names.includes(f.name))),
          ...(late && wanted.includes(id(40)) && (names === undefined || names.includes('label')) ? [{ id: 'late' }] : []),
        ]
          .map((f) => f.id)
          .sort()
      const sorted = (rows: { id: string }[]) => rows.map((r) => r.id).sort()
      const dense = Array.from({ length: 40 }, (_, i) => id(70 - i))
      // Every fifth id over the whole log: the range holds five times the events looked up.
      const sparse = Array.from({ length: 24 }, (_, i) => id(i * 5))
      // Increasing, with gaps (events without feedback of a name, ids between them not asked).
      const increasing = Array.from({ length: 40 }, (_, i) => id(20 + i + (i > 20 ? 10 : 0)))
      // An item's event position, when a store gives it, names its own event; given for all items or none.
      const positioned = (rows: { eventId: string; eventIndex?: number }[], wanted: string[]) => {
        const given = rows.filter((f) => f.eventIndex !== undefined)
        expect(given.length === 0 || given.length === rows.length).toBe(true)
        for (const f of given) expect(wanted[f.eventIndex!]).toBe(f.eventId)
        return rows
      }
      for (const wanted of [dense, sparse, [...dense, ...sparse], increasing]) {
        expect(sorted(await store.feedbackForEvents('p1', wanted, upTo))).toEqual(expected(wanted))
        expect(sorted(await store.feedbackForEvents('p1', wanted, head))).toEqual(expected(wanted, undefined, true))
        expect(sorted(positioned(await store.feedbackBodies('p1', wanted, upTo, ['label']), wanted))).toEqual(expected(wanted, ['label']))
        expect(sorted(positioned(await store.feedbackBodies('p1', wanted, head), wanted))).toEqual(expected(wanted, undefined, true))
        expect(sorted(positioned(await store.feedbackBodies('p1', wanted, head, ['thumbs']), wanted))).toEqual(
          expected(wanted, ['thumbs'], false),
        )
      }
      const one = (await store.feedbackBodies('p1', dense, upTo, ['thumbs'])).find((f) => f.eventId === id(60))
      expect(one).toMatchObject({ id: `t-${id(60)}`, name: 'thumbs', batch: upTo })
    })
    it('scans return every column as written: separators, empty strings, NULLs, astral characters, non-JSON bodies', async () => {
      // The stores read scans as one packed string per row (packed-row-cutter.ts); these rows cannot
      // be cut (or nearly cannot) and must come back exactly all the same, in order.
      const sep = '\u001f'
      const written = [
        eventRecord({ id: `a${sep}b` }),
        eventRecord({ id: 'empty', sessionId: '', userId: '', arm: '', shadowOf: '' }),
        eventRecord({ id: 'nulls' }),
        eventRecord({ id: 'astral\u{1F600}', model: 'm\u00e9', version: 'v\u{1F680}' }),
        eventRecord({ id: 'neg', tsMs: -5, receivedMs: 0 }),
        eventRecord({
          id: 'x',
          model: sep,
          version: `${sep}${sep}`,
          stage: `s${sep}`,
          status: sep,
          sessionId: sep,
          userId: sep,
          arm: sep,
          shadowOf: sep,
        }),
        eventRecord({ id: 'only-user', userId: 'u' }),
        eventRecord({ id: 'only-shadow', shadowOf: 'nulls' }),
        { ...eventRecord({ id: 'sep-body' }), body: `{"x":"${sep}"}${sep}` },
        eventRecord({ id: 'last' }),
      ]
      await store.writeBatch({ events: written.slice(0, 4), feedback: [] })
      await store.writeBatch({ events: written.slice(4), feedback: [] })
      const upTo = await store.commitHead()
      const byId = (x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)
      const pick = (e: LoggedEvent) => {
        const { seq: _s, batch: _b, ...rest } = e
        return rest
      }
      for (const chunkSize of [1, 3, 1000]) {
        const scanned: LoggedEvent[] = []
        for await (const chunk of store.scanEvents('p1', {}, { upTo }, chunkSize)) scanned.push(...chunk)
        // A store may number the rows of one batch in another order than they were given.
        expect(scanned.map(pick).sort(byId)).toEqual([...written].sort(byId))
        expect(scanned.map((e) => [e.batch, e.seq])).toEqual(
          scanned.map((e) => [e.batch, e.seq]).sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!),
        )
        const stored = await store.eventsByIds(
          'p1',
          written.map((e) => e.id),
        )
        expect(scanned).toEqual(scanned.map((w) => stored.find((e) => e.id === w.id)))
        const bodies: { id: string; body: string; tsMs: number; batch: number; seq: number }[] = []
        for await (const chunk of store.scanEventBodies('p1', {}, { upTo }, chunkSize)) bodies.push(...chunk)
        expect(bodies.map((b) => ({ id: b.id, body: b.body, tsMs: b.tsMs, batch: b.batch, seq: b.seq }))).toEqual(
          scanned.map((e) => ({ id: e.id, body: e.body, tsMs: e.tsMs, batch: e.batch, seq: e.seq })),
        )
      }
      const fed = (await store.readBatches(0)).flatMap((b) => b.events)
      expect(fed.map(pick).sort(byId)).toEqual([...written].sort(byId))
    })
  })
}
