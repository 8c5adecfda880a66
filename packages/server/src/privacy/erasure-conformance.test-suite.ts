/**
 * Privacy erasure on one store, through the HTTP API: what is erased, what stays, what reads and
 * ingest say afterwards, and every way a request can be refused. Run from each adapter's test file.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { callApp } from '../http/app-harness.test-suite.js'
import { createApp, type InferlogApp } from '../http/create-app.js'
import { silentLogger } from '../logging/logger.js'
import { MemoryQueue } from '../queue/memory/memory-queue.js'
import { QueueWriter } from '../queue/queue-writer.js'
import { recompute, sealAll, sealedRoots } from '../audit/audit-conformance.test-suite.js'
import { verifyChain } from '../audit/verify-chain.js'
import type { Store } from '../store/store.js'
import { pseudonymizeUserId } from './pseudonymize.js'

const SECRET = 'sdk-secret'
const T0 = Date.UTC(2026, 10, 2)

function ev(id: string, extra: Record<string, unknown> = {}, i = 0) {
  return {
    id,
    ts: new Date(T0 + i * 1000).toISOString(),
    model: { name: 'clf', version: '1' },
    input: { text: `input of ${id}` },
    output: { label: 'a' },
    ...extra,
  }
}

export function describeErasureConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`privacy erasure: ${name}`, () => {
    let store: Store
    let core: InferlogApp
    let dir: string
    const post = (url: string, body: unknown, app = core) => callApp(app, 'POST', url, body as object)
    const get = (url: string) => callApp(core, 'GET', url)

    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-erasure-'))
      core = createApp({
        store,
        logger: silentLogger(),
        datasets: { dir },
        privacy: { pseudonymizeSecret: SECRET, erasureConfirmThreshold: 5 },
      })
    })
    afterEach(async () => {
      await core.close()
      await store.close()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    /** u1's events: one with the raw id, one pseudonymized by the SDK, one shadow; plus others. */
    async function seed() {
      const events = [
        ev('a1', { trace: { user_id: 'u1', session_id: 's1' } }, 1),
        ev('a2', { trace: { user_id: pseudonymizeUserId(SECRET, 'u1'), session_id: 's2' } }, 2),
        ev('a1-shadow', { shadow_of: 'a1', model: { name: 'clf', version: '2', stage: 'shadow' } }, 3),
        ev('b1', { trace: { user_id: 'u2', session_id: 's1' } }, 4),
        ev('b2', { trace: { user_id: 'u2', session_id: 's3' } }, 5),
      ]
      expect((await post('/v1/events', events)).json.accepted).toBe(5)
      const fb = [
        { id: 'f-a1', event_id: 'a1', name: 'label', value: 'a' },
        { id: 'f-a2', event_id: 'a2', name: 'thumbs', value: 1, comment: 'u1 liked it' },
        { id: 'f-sh', event_id: 'a1-shadow', name: 'label', value: 'b' },
        { id: 'f-b1', event_id: 'b1', name: 'label', value: 'a' },
      ]
      expect((await post('/v1/feedback', fb)).json.accepted).toBe(4)
    }

    it("erases a user's events (raw and pseudonymized), their shadows and feedback, and nothing else", async () => {
      await seed()
      const r = await post('/v1/erasure', { user_id: 'u1', reason: 'DSR-1' })
      expect(r.status, r.text).toBe(200)
      expect(r.json.erased).toEqual({ events: 3, feedback: 3 })
      expect(r.json.record.id).toEqual(expect.any(String))
      for (const id of ['a1', 'a2', 'a1-shadow']) {
        const g = await get(`/v1/events/${id}`)
        expect(g.status).toBe(410)
        expect(g.json.error.code).toBe('erased')
      }
      expect((await get('/v1/events/nope')).status).toBe(404)
      const b1 = await get('/v1/events/b1')
      expect(b1.status).toBe(200)
      expect(b1.json.feedback.map((f: { id: string }) => f.id)).toEqual(['f-b1'])
      const list = await get('/v1/events?limit=100')
      expect(list.json.items.map((e: { id: string }) => e.id).sort()).toEqual(['b1', 'b2'])
      expect((await get('/v1/events?user_id=u1')).json.items).toEqual([])
      expect((await get('/v1/events?session_id=s1')).json.items.map((e: { id: string }) => e.id)).toEqual(['b1'])
      expect((await get('/v1/feedback?limit=100')).json.items.map((f: { id: string }) => f.id)).toEqual(['f-b1'])
      // The committed log no longer holds a byte of them.
      const batches = await store.readBatches(0, { maxBatches: 1000 })
      const text = JSON.stringify(batches)
      expect(text).not.toContain('input of a')
      expect(text).not.toContain('u1 liked it')
      expect(batches.flatMap((b) => b.events.map((e) => e.id)).sort()).toEqual(['b1', 'b2'])
    })

    it('keeps the tombstones, refuses re-sends and late feedback or shadows of erased events', async () => {
      await seed()
      await post('/v1/erasure', { session_id: 's2', reason: 'DSR-2' })
      const t = await store.tombstonesOf('event', 'default', ['a2', 'b1'])
      expect(t.map((x) => x.id)).toEqual(['a2'])
      expect(t[0]!.leaf).toMatch(/^[0-9a-f]{64}$/)
      const again = await post('/v1/events', [ev('a2', { trace: { user_id: 'x' } }), ev('c1')])
      expect(again.status).toBe(207)
      expect(again.json).toMatchObject({ accepted: 1, ids: [null, 'c1'] })
      expect(again.json.rejected).toEqual([expect.objectContaining({ index: 0, id: 'a2', code: 'erased' })])
      const shadow = await post('/v1/events', ev('a2-replay', { shadow_of: 'a2' }))
      expect(shadow.json.rejected[0].code).toBe('erased')
      const late = await post('/v1/feedback', [
        { id: 'f-late', event_id: 'a2', name: 'label', value: 'b' },
        { id: 'f-a2', event_id: 'b2', name: 'label', value: 'b' },
        { id: 'f-ok', event_id: 'b2', name: 'label', value: 'b' },
      ])
      expect(late.json.accepted).toBe(1)
      expect(late.json.rejected.map((x: { code: string }) => x.code)).toEqual(['erased', 'erased'])
      expect((await get('/v1/events/a2')).status).toBe(410)
      expect((await get('/v1/events/a2-replay')).status).toBe(404)
      expect((await get('/v1/feedback?event_id=a2')).json.items).toEqual([])
    })

    it('erases listed ids; an unknown id is no error; the request is on record even when nothing matched', async () => {
      await seed()
      const r = await post('/v1/erasure', { ids: ['b2', 'nope'], reason: 'ticket 7' })
      expect(r.json.erased).toEqual({ events: 1, feedback: 0 })
      const none = await post('/v1/erasure', { user_id: 'nobody', reason: 'ticket 8' })
      expect(none.status).toBe(200)
      expect(none.json.erased).toEqual({ events: 0, feedback: 0 })
      expect(none.json.record.id).toEqual(expect.any(String))
      expect((await get('/v1/events/b1')).status).toBe(200)
    })

    it('asks for confirmation above the threshold; a dry run only counts', async () => {
      const many = Array.from({ length: 8 }, (_, i) => ev(`m${i}`, { trace: { user_id: 'heavy' } }, i))
      await post('/v1/events', many)
      await post('/v1/feedback', { event_id: 'm0', name: 'label', value: 'a' })
      const refused = await post('/v1/erasure', { user_id: 'heavy', reason: 'DSR-3' })
      expect(refused.status).toBe(400)
      expect(refused.json.error.code).toBe('confirmation_required')
      expect(refused.json.error.details).toEqual({ events: 8, threshold: 5 })
      const dry = await post('/v1/erasure', { user_id: 'heavy', reason: 'DSR-3', dry_run: true })
      expect(dry.json).toMatchObject({ erased: { events: 8, feedback: 1 }, record: null, dry_run: true })
      expect((await get('/v1/events/m3')).status).toBe(200)
      const done = await post('/v1/erasure', { user_id: 'heavy', reason: 'DSR-3', confirm: true })
      expect(done.json.erased).toEqual({ events: 8, feedback: 1 })
      expect((await get('/v1/events/m3')).status).toBe(410)
    })

    it('refuses malformed requests with a clear error', async () => {
      await seed()
      const cases: [unknown, RegExp][] = [
        [{ reason: 'x' }, /needs a selector/],
        [{ user_id: 'u1', session_id: 's1', reason: 'x' }, /one selector/],
        [{ user_id: 'u1' }, /needs a reason/],
        [{ user_id: '', reason: 'x' }, /user_id must be a non-empty string/],
        [{ user_id: 7, reason: 'x' }, /user_id must be a non-empty string/],
        [{ ids: [], reason: 'x' }, /non-empty list/],
        [{ ids: 'a1', reason: 'x' }, /non-empty list/],
        [{ ids: ['a1', 3], reason: 'x' }, /ids\[1\]/],
        [{ user_id: 'u1', reason: 'x', confirm: 'yes' }, /confirm must be true or false/],
        [{ user_id: 'u1', reason: 'x', everything: true }, /unknown field "everything"/],
        [{ user_id: 'u1', reason: 'r'.repeat(3000) }, /reason is longer/],
      ]
      for (const [body, message] of cases) {
        const r = await post('/v1/erasure', body)
        expect(r.status, JSON.stringify(body)).toBe(400)
        expect(r.json.error.code).toBe('validation_failed')
        expect(r.json.error.message).toMatch(message)
      }
      const notJson = await callApp(core, 'POST', '/v1/erasure', '{"user_id":', { 'content-type': 'application/json' })
      expect(notJson.json.error.code).toBe('invalid_json')
      const list = await callApp(core, 'POST', '/v1/erasure', '[]', { 'content-type': 'application/json' })
      expect(list.json.error.code).toBe('invalid_json')
      expect((await get('/v1/events/a1')).status).toBe(200)
    })

    it('needs the admin scope', async () => {
      const keyed = createApp({ store, logger: silentLogger(), auth: { requireKeys: true } })
      try {
        const made = await post('/v1/keys', { project: 'default', scopes: ['ingest', 'read'] })
        const r = await callApp(keyed, 'POST', '/v1/erasure', { user_id: 'u1', reason: 'x' }, { authorization: `Bearer ${made.json.key}` })
        expect(r.status).toBe(403)
      } finally {
        await keyed.close()
      }
    })

    it('leaves erased events out of dataset builds and records them in the manifest', async () => {
      await seed()
      await post('/v1/erasure', { user_id: 'u1', reason: 'DSR-4' })
      const spec = { select: { model: 'clf' }, format: 'jsonl' }
      const built = await post('/v1/datasets', { name: 'all', spec })
      expect(built.status, built.text).toBe(201)
      const m = built.json.manifest
      expect(m.counts.written).toBe(2)
      expect(m.erased).toMatchObject({ events: 3, feedback: 3 })
      const rows = (await get(`/v1/datasets/all@1/files/${m.files[0].name}`)).text
      expect(rows).not.toContain('input of a')
    })

    it('is a chained audit record (who, when, why, how many), and the chain still verifies', async () => {
      await seed()
      await sealAll(store)
      const r = await post('/v1/erasure', { user_id: 'u1', reason: 'DSR-5' })
      await post('/v1/events', ev('after', {}, 9))
      await sealAll(store)
      const sealed = await sealedRoots(store)
      expect(sealed.map(({ position, root, head }) => ({ position, root, head }))).toEqual(await recompute(store))
      const verified = await verifyChain(store)
      expect(verified.errors).toEqual([])
      expect(verified.ok).toBe(true)
      const [rec] = await store.auditRecords('default')
      expect(rec!.id).toBe(r.json.record.id)
      expect(JSON.parse(rec!.body)).toMatchObject({
        type: 'erasure',
        actor: { key_id: null, name: 'operator' },
        reason: 'DSR-5',
        counts: { events: 3, feedback: 3 },
        details: { selector: 'user_id' },
        tombstones: { count: 6 },
      })
      // The record names the selector's kind, never the erased user's id.
      expect(rec!.body).not.toContain('u1')
    })

    it('erasing the newest rows never lets a later batch lose its rows from the feed', async () => {
      await post('/v1/events', [ev('x1', {}, 1), ev('x2', {}, 2)])
      await post('/v1/feedback', { id: 'fx2', event_id: 'x2', name: 'label', value: 'a' })
      const before = await store.commitHead()
      await post('/v1/erasure', { ids: ['x2'], reason: 'x' })
      await post('/v1/events', ev('x3', {}, 3))
      await post('/v1/feedback', { id: 'fx3', event_id: 'x3', name: 'label', value: 'a' })
      const after = await store.readBatches(before, { maxBatches: 100 })
      expect(after.flatMap((b) => b.events.map((e) => e.id))).toEqual(['x3'])
      expect(after.flatMap((b) => b.feedback.map((f) => f.id))).toEqual(['fx3'])
      const upToBefore: string[] = []
      for await (const rows of store.scanEvents('default', {}, { upTo: before })) upToBefore.push(...rows.map((e) => e.id))
      expect(upToBefore).toEqual(['x1'])
    })

    it('a collector publishing to a queue refuses erased ids before publishing', async () => {
      await seed()
      await post('/v1/erasure', { ids: ['b1'], reason: 'x' })
      const queue = new MemoryQueue()
      const collector = createApp({ store, logger: silentLogger(), writer: new QueueWriter(queue) })
      try {
        const r = await post('/v1/events', [ev('b1'), ev('q1'), ev('q2', { shadow_of: 'b1' })], collector)
        expect(r.json.accepted).toBe(1)
        expect(r.json.rejected.map((x: { index: number; code: string }) => [x.index, x.code])).toEqual([
          [0, 'erased'],
          [2, 'erased'],
        ])
        const f = await post('/v1/feedback', [{ event_id: 'b1', name: 'label', value: 'a' }], collector)
        expect(f.json.rejected[0].code).toBe('erased')
      } finally {
        await collector.close()
        await queue.close()
      }
    })
  })
}
