import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import canonicalize from 'canonicalize'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { decodeTensor, exampleFeedback, fullExampleEvent, minimalExampleEvent, type IngestReply, type Tensor } from '@inferlog/schema'
import { createApiKey } from '../auth/api-keys.js'
import { silentLogger } from '../logging/logger.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import type { Store, WriteBatch, WriteResult } from '../store/store.js'
import { type Body, callApp } from './app-harness.test-suite.js'
import { type AppOptions, createApp, type InferlogApp } from './create-app.js'

const quiet = silentLogger()
let dir: string
let store: SqliteStore
let core: InferlogApp

function make(o: Partial<AppOptions> = {}, s: Store = store): InferlogApp {
  return createApp({ store: s, logger: quiet, ...o })
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-app-'))
  store = new SqliteStore({ filename: path.join(dir, 'inferlog.db') })
  await store.migrate()
  core = make()
})
afterEach(async () => {
  await core.close()
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const req = (method: string, url: string, body?: Body, headers: Record<string, string> = {}, app = core) =>
  callApp(app, method, url, body, headers)
const post = (url: string, body: Body, headers: Record<string, string> = {}, app = core) => req('POST', url, body, headers, app)
const get = (url: string, headers: Record<string, string> = {}, app = core) => req('GET', url, undefined, headers, app)
const ndjson = (lines: (string | object)[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n'
const NDJSON = { 'content-type': 'application/x-ndjson' }

describe('ingest and read back', () => {
  it('round-trips a fully populated event byte for byte (canonical order), tensors included', async () => {
    const sent = fullExampleEvent()
    const r = await post('/v1/events', sent)
    expect(r.status).toBe(200)
    expect(r.json).toEqual({ accepted: 1, duplicates: 0, ids: [sent.id], rejected: [] })
    const got = await get(`/v1/events/${sent.id}`)
    expect(got.status).toBe(200)
    expect(canonicalize(got.json.event)).toBe(canonicalize(sent))
    const emb = got.json.event.internals.embedding as Tensor
    expect(emb).toMatchObject({ dtype: 'float32', shape: [6] })
    expect(decodeTensor(emb)).toEqual(Array.from(new Float32Array([0.25, -1.5, 3.125, 1e-7, -0, 65504])))
    expect(got.json.event.internals.logits_q).toEqual({ dtype: 'int8', shape: [2, 3], data: [-128, -1, 0, 1, 64, 127] })
    expect(got.json.feedback).toEqual([])
    expect(got.json.shadows).toEqual([])
  })

  it('accepts an array, NDJSON and gzip; assigns time-ordered UUIDv7 ids in input order', async () => {
    const a = await post('/v1/events', [minimalExampleEvent(), minimalExampleEvent({ id: 'given' })])
    expect(a.status).toBe(200)
    expect(a.json.ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(a.json.ids[1]).toBe('given')
    const lines = Array.from({ length: 50 }, () => minimalExampleEvent())
    const n = await post('/v1/events', ndjson(lines), NDJSON)
    expect(n.json.accepted).toBe(50)
    const sorted = [...n.json.ids].sort()
    expect(n.json.ids).toEqual(sorted)
    const gz = zlib.gzipSync(ndjson([minimalExampleEvent({ id: 'gz1' }), minimalExampleEvent({ id: 'gz2' })]))
    const g = await post('/v1/events', gz, { ...NDJSON, 'content-encoding': 'gzip' })
    expect(g.json).toMatchObject({ accepted: 2, ids: ['gz1', 'gz2'] })
    // An event without ts reads back with its receipt time.
    const read = await get('/v1/events/gz1')
    expect(Date.parse(read.json.event.ts)).toBeGreaterThan(Date.now() - 60_000)
  })

  it('counts a re-send as a duplicate and reports a changed re-send as a conflict, leaving the stored event unchanged', async () => {
    const e = minimalExampleEvent({ id: 'e1', ts: '2026-11-26T10:00:00.000Z' })
    await post('/v1/events', e)
    // Same content, different key order and number spelling: still a duplicate.
    const reordered = `{"output":{"churn":2.7e-1},"input":{"tenure":12.0},"ts":"2026-11-26T10:00:00.000Z","model":{"version":"1.0.0","name":"churn-clf"},"id":"e1"}`
    const dup = await post('/v1/events', reordered)
    expect(dup.status).toBe(200)
    expect(dup.json).toEqual({ accepted: 0, duplicates: 1, ids: ['e1'], rejected: [] })
    const conflict = await post('/v1/events', { ...e, output: { churn: 0.99 } })
    expect(conflict.status).toBe(207)
    expect(conflict.json.ids).toEqual([null])
    expect(conflict.json.rejected).toEqual([{ index: 0, id: 'e1', code: 'conflict', message: expect.any(String) }])
    expect((await get('/v1/events/e1')).json.event.output).toEqual({ churn: 0.27 })
  })
})

describe('feedback in any order', () => {
  it('joins feedback sent before the event, after it, and ignores a duplicated one', async () => {
    const early = await post('/v1/feedback', exampleFeedback('ev1', { id: 'fb-early', ts: '2026-11-26T10:00:00.000Z' }))
    expect(early.status).toBe(200)
    expect((await get('/v1/events/ev1')).status).toBe(404)
    await post('/v1/events', minimalExampleEvent({ id: 'ev1' }))
    await post('/v1/feedback', [
      { event_id: 'ev1', name: 'label', value: 'churned', id: 'fb-label', ts: '2026-11-26T10:00:01.000Z' },
      { event_id: 'ev1', name: 'purchase', value: { amount: 12.5 }, kind: 'implicit', ts: '2026-11-26T10:00:02.000Z' },
    ])
    const again = await post('/v1/feedback', exampleFeedback('ev1', { id: 'fb-early', ts: '2026-11-26T10:00:00.000Z' }))
    expect(again.json).toMatchObject({ accepted: 0, duplicates: 1 })
    const d = await get('/v1/events/ev1')
    expect(d.json.feedback.map((f: { name: string }) => f.name)).toEqual(['thumbs', 'label', 'purchase'])
    expect(d.json.feedback[0]).toMatchObject({ id: 'fb-early', value: -1, kind: 'explicit', source: { type: 'user' } })
    expect(d.json.feedback[2].kind).toBe('implicit')
    const list = await get('/v1/feedback?event_id=ev1&name=label')
    expect(list.json.items.map((f: { id: string }) => f.id)).toEqual(['fb-label'])
  })

  it('shows shadow events on their primary', async () => {
    await post('/v1/events', [
      minimalExampleEvent({ id: 'prim' }),
      minimalExampleEvent({ id: 'sh', shadow_of: 'prim', model: { name: 'churn-clf', version: '2.0.0', stage: 'shadow' } }),
    ])
    const d = await get('/v1/events/prim')
    expect(d.json.shadows.map((e: { id: string }) => e.id)).toEqual(['sh'])
    expect((await get('/v1/events?stage=shadow')).json.items.map((e: { id: string }) => e.id)).toEqual(['sh'])
  })
})

describe('bad input', () => {
  function deep(n: number): string {
    return '['.repeat(n) + ']'.repeat(n)
  }

  it('rejects each bad item with its code and stores the valid ones of the same batch', async () => {
    const small = make({ limits: { maxEventBytes: 4096 } })
    await post('/v1/events', minimalExampleEvent({ id: 'taken' }), {}, small)
    const good1 = minimalExampleEvent({ id: 'good1' })
    const good2 = minimalExampleEvent({ id: 'good2' })
    const { version: _v, ...noVersion } = good1.model
    const invalidUtf8 = Buffer.concat([Buffer.from('{"model":{"name":"\xff'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')])
    const parts: (string | Buffer)[] = [
      JSON.stringify(good1),
      '{"model": {"name": "x", "version": "1"}, "input": ', // 1 invalid JSON
      JSON.stringify({ ...good1, id: 'nv', model: noVersion }), // 2 missing model.version
      JSON.stringify({ ...good1, id: 'wt', latency_ms: { total: 'fast' } }), // 3 wrong type
      `{"id":"deep","model":{"name":"m","version":"1"},"output":1,"input":${deep(100)}}`, // 4 too deep
      invalidUtf8, // 5 invalid UTF-8
      JSON.stringify({ ...good1, id: 'dt', internals: { x: { dtype: 'float64', shape: [1], data: [1] } } }), // 6 unknown dtype
      JSON.stringify({ ...good1, id: 'sm', internals: { x: { dtype: 'float32', shape: [2, 3], data: [1, 2, 3] } } }), // 7 shape/data mismatch
      JSON.stringify({ ...minimalExampleEvent({ id: 'taken' }), output: 'other' }), // 8 conflict
      JSON.stringify({ ...good1, id: 'big', input: 'x'.repeat(5000) }), // 9 over the item limit
      '"just a string"', // 10 not an object
      JSON.stringify(good2),
    ]
    const body = Buffer.concat(parts.flatMap((p) => [typeof p === 'string' ? Buffer.from(p) : p, Buffer.from('\n')]))
    const r = await post('/v1/events', body, NDJSON, small)
    expect(r.status).toBe(207)
    const byIndex = Object.fromEntries((r.json as IngestReply).rejected.map((x) => [x.index, x]))
    expect(byIndex[1]).toMatchObject({ code: 'invalid_json' })
    expect(byIndex[2]).toMatchObject({ code: 'validation_failed', path: '/model/version', id: 'nv' })
    expect(byIndex[3]).toMatchObject({ code: 'validation_failed', path: '/latency_ms/total' })
    expect(byIndex[4]).toMatchObject({ code: 'depth_exceeded' })
    expect(byIndex[5]).toMatchObject({ code: 'invalid_utf8' })
    expect(byIndex[6]).toMatchObject({ code: 'invalid_tensor', path: '/internals/x/dtype' })
    expect(byIndex[7]).toMatchObject({ code: 'invalid_tensor', path: '/internals/x/data' })
    expect(byIndex[8]).toMatchObject({ code: 'conflict', id: 'taken' })
    expect(byIndex[9]).toMatchObject({ code: 'item_too_large' })
    expect(byIndex[10]).toMatchObject({ code: 'validation_failed' })
    expect(Object.keys(byIndex)).toHaveLength(10)
    expect(r.json.accepted).toBe(2)
    expect(r.json.ids[0]).toBe('good1')
    expect(r.json.ids[11]).toBe('good2')
    expect(r.json.ids.filter((x: string | null) => x === null)).toHaveLength(10)
    expect((await get('/v1/events/good2', {}, small)).status).toBe(200)
    expect((await get('/v1/events/taken', {}, small)).json.event.output).toEqual({ churn: 0.27 })
    await small.close()
  })

  it('answers unreadable or oversized requests as a whole, with stable codes', async () => {
    const small = make({ limits: { maxBodyBytes: 10_000, maxBatchItems: 5 } })
    const bad = await post('/v1/events', '{"model": ', {}, small)
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'invalid_json' } } })
    const empty = await post('/v1/events', '', {}, small)
    expect(empty).toMatchObject({ status: 400, json: { error: { code: 'bad_request' } } })
    const utf = await post('/v1/events', Buffer.from([0x7b, 0xff, 0x7d]), {}, small)
    expect(utf).toMatchObject({ status: 400, json: { error: { code: 'invalid_utf8' } } })
    const big = await post('/v1/events', JSON.stringify(minimalExampleEvent({ input: 'x'.repeat(20_000) })), {}, small)
    expect(big).toMatchObject({ status: 413, json: { error: { code: 'payload_too_large' } } })
    // A gzip bomb: tiny on the wire, over the limit once inflated.
    const bomb = zlib.gzipSync(Buffer.alloc(1_000_000, 0x20))
    expect(bomb.length).toBeLessThan(10_000)
    const b = await post('/v1/events', bomb, { 'content-encoding': 'gzip' }, small)
    expect(b).toMatchObject({ status: 413, json: { error: { code: 'payload_too_large' } } })
    const notGzip = await post('/v1/events', 'plain', { 'content-encoding': 'gzip' }, small)
    expect(notGzip).toMatchObject({ status: 400, json: { error: { code: 'bad_request' } } })
    const br = await post('/v1/events', '{}', { 'content-encoding': 'br' }, small)
    expect(br).toMatchObject({ status: 415, json: { error: { code: 'unsupported_media_type' } } })
    const many = await post(
      '/v1/events',
      Array.from({ length: 6 }, () => minimalExampleEvent()),
      {},
      small,
    )
    expect(many).toMatchObject({ status: 413, json: { error: { code: 'too_many_items' } } })
    expect((await get('/v1/events', {}, small)).json.items).toEqual([])
    await small.close()
  })

  it('refuses malformed query parameters and unknown ids with codes', async () => {
    expect(await get('/v1/events?limit=0')).toMatchObject({ status: 400, json: { error: { code: 'invalid_parameter' } } })
    expect(await get('/v1/events?limit=abc')).toMatchObject({ status: 400 })
    expect(await get('/v1/events?from=yesterday')).toMatchObject({ status: 400, json: { error: { code: 'invalid_parameter' } } })
    expect(await get('/v1/events?has_feedback=maybe')).toMatchObject({ status: 400 })
    expect(await get('/v1/events?cursor=%%%')).toMatchObject({ status: 400, json: { error: { code: 'invalid_parameter' } } })
    expect(await get('/v1/events?modle=x')).toMatchObject({ status: 400, json: { error: { code: 'invalid_parameter' } } })
    expect(await get('/v1/events/unknown')).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } })
    expect(await get('/v1/nothing')).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } })
  })
})

describe('queries', () => {
  it('filters and pages through events newest first', async () => {
    const events = Array.from({ length: 30 }, (_, i) =>
      minimalExampleEvent({
        id: `q${String(i).padStart(2, '0')}`,
        ts: new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString(),
        model: { name: i % 2 ? 'a' : 'b', version: String(i % 3) },
        trace: { session_id: `s${i % 4}`, user_id: `u${i % 5}` },
        context: { experiment: { name: 'exp', arm: i < 15 ? 'control' : 'treatment' } },
        ...(i % 10 === 0 ? { status: 'error' as const, error: { type: 'Boom' } } : {}),
      }),
    )
    await post('/v1/events', events)
    await post('/v1/feedback', [
      { event_id: 'q03', name: 'label', value: 1 },
      { event_id: 'q04', name: 'thumbs', value: 1 },
    ])
    const ids = async (qs: string) => (await get(`/v1/events?${qs}`)).json.items.map((e: { id: string }) => e.id)
    expect(await ids('limit=3')).toEqual(['q29', 'q28', 'q27'])
    expect(await ids('model=a&version=0&limit=100')).toEqual(['q27', 'q21', 'q15', 'q09', 'q03'])
    expect(await ids('status=error')).toEqual(['q20', 'q10', 'q00'])
    expect(await ids('session_id=s1&user_id=u1')).toEqual(['q21', 'q01'])
    expect(await ids('arm=treatment&limit=100')).toHaveLength(15)
    expect(await ids('from=2026-11-01T00:00:05Z&to=2026-11-01T00:00:08Z')).toEqual(['q07', 'q06', 'q05'])
    expect(await ids('has_feedback=true')).toEqual(['q04', 'q03'])
    expect(await ids('feedback=label')).toEqual(['q03'])
    expect(await ids('has_feedback=false&limit=100')).toHaveLength(28)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: { json: { items: { id: string }[]; next_cursor: string | null } } = await get(
        `/v1/events?limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      )
      seen.push(...page.json.items.map((e) => e.id))
      cursor = page.json.next_cursor
    } while (cursor)
    expect(seen).toEqual(events.map((e) => e.id).reverse())
  })
})

describe('tenant isolation', () => {
  it('keeps projects apart and enforces scopes', async () => {
    const k1 = (await createApiKey(store, { project: 'alpha', scopes: ['ingest', 'read'] })).key
    const k2 = (await createApiKey(store, { project: 'beta', scopes: ['ingest', 'read'] })).key
    const ingestOnly = (await createApiKey(store, { project: 'alpha', scopes: ['ingest'] })).key
    const admin = (await createApiKey(store, { project: 'alpha', scopes: ['admin'] })).key
    await core.close()
    core = make({ auth: { requireKeys: true } })
    const as = (k: string) => ({ authorization: `Bearer ${k}` })

    expect(await post('/v1/events', minimalExampleEvent())).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } })
    expect(await get('/v1/events', as('il_nope_nope'))).toMatchObject({ status: 401 })
    expect((await post('/v1/events', minimalExampleEvent({ id: 'shared', output: 'alpha' }), as(k1))).json.accepted).toBe(1)
    // Same id in another project is a different record, not a conflict.
    expect((await post('/v1/events', minimalExampleEvent({ id: 'shared', output: 'beta' }), as(k2))).json.accepted).toBe(1)
    expect((await post('/v1/events', minimalExampleEvent({ id: 'only-alpha' }), { 'x-api-key': ingestOnly })).json.accepted).toBe(1)
    await post('/v1/feedback', { event_id: 'only-alpha', name: 'thumbs', value: 1 }, as(k2))

    expect((await get('/v1/events/shared', as(k1))).json.event.output).toBe('alpha')
    expect((await get('/v1/events/shared', as(k2))).json.event.output).toBe('beta')
    expect((await get('/v1/events/only-alpha', as(k2))).status).toBe(404)
    expect((await get('/v1/events/only-alpha', as(k1))).json.feedback).toEqual([])
    expect((await get('/v1/events', as(k2))).json.items.map((e: { id: string }) => e.id)).toEqual(['shared'])
    expect((await get('/v1/feedback', as(k1))).json.items).toEqual([])
    expect(await get('/v1/events', as(ingestOnly))).toMatchObject({ status: 403, json: { error: { code: 'forbidden' } } })
    expect(await get('/v1/events', { ...as(k1), 'x-inferlog-project': 'beta' })).toMatchObject({ status: 403 })
    expect(await post('/v1/keys', { scopes: ['read'] }, as(k1))).toMatchObject({ status: 403 })

    // Admin creates a key for its own project only; keys are returned once and stored hashed.
    const created = await post('/v1/keys', { scopes: ['read'], name: 'dash' }, as(admin))
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({ project: 'alpha', scopes: ['read'] })
    expect(created.json.hash).toBeUndefined()
    expect((await get('/v1/events', as(created.json.key))).status).toBe(200)
    expect(await post('/v1/keys', { project: 'beta', scopes: ['read'] }, as(admin))).toMatchObject({ status: 403 })
    const listed = await get('/v1/keys', as(admin))
    expect(listed.json.items.every((k: { project: string; hash?: string }) => k.project === 'alpha' && k.hash === undefined)).toBe(true)

    // Revoking through the API takes effect at once on this collector; another project's key is unknown here.
    const k1Id = (await store.listApiKeys('alpha'))[0]!.id
    const k2Id = (await store.listApiKeys('beta'))[0]!.id
    expect((await req('DELETE', `/v1/keys/${k2Id}`, undefined, as(admin))).status).toBe(404)
    expect((await req('DELETE', `/v1/keys/${k1Id}`, undefined, as(k1))).status).toBe(403)
    expect((await get('/v1/events', as(k1))).status).toBe(200)
    expect((await req('DELETE', `/v1/keys/${k1Id}`, undefined, as(admin))).status).toBe(204)
    expect(await get('/v1/events', as(k1))).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } })
    expect((await get('/v1/events', as(k2))).status).toBe(200)
    const afterRevoke = await get('/v1/keys', as(admin))
    expect(afterRevoke.json.items.find((k: { id: string }) => k.id === k1Id).revoked_at).toMatch(/^\d{4}-/)
  })
})

/** A real store whose commits wait until {@link release} is called: the write queue fills meanwhile. */
class SlowStore extends SqliteStore {
  commits = 0
  release: () => void = () => {}
  private readonly gate = new Promise<void>((r) => (this.release = r))
  override async writeBatch(b: WriteBatch): Promise<WriteResult> {
    this.commits++
    await this.gate
    return super.writeBatch(b)
  }
}

describe('group commit and back-pressure', () => {
  it('commits concurrent requests together and answers 503 + Retry-After when the queue is full', async () => {
    const slow = new SlowStore({ filename: path.join(dir, 'slow.db') })
    await slow.migrate()
    const app = make({ writeQueue: { maxPendingItems: 300, retryAfterSeconds: 2 } }, slow)
    // The first commit is held until the queue refuses a request; then everything commits.
    const requests = Array.from({ length: 20 }, (_, i) =>
      post(
        '/v1/events',
        Array.from({ length: 50 }, (_, j) => minimalExampleEvent({ id: `g${i}-${j}` })),
        {},
        app,
      ).then((r) => {
        if (r.status === 503) slow.release()
        return r
      }),
    )
    const replies = await Promise.all(requests)
    const ok = replies.filter((r) => r.status === 200)
    const busy = replies.filter((r) => r.status === 503)
    expect(ok.length + busy.length).toBe(20)
    expect(busy.length).toBeGreaterThan(0)
    expect(busy[0]!.headers.get('retry-after')).toBe('2')
    expect(busy[0]!.json.error.code).toBe('overloaded')
    expect(slow.commits).toBeLessThan(ok.length)
    // Every acknowledged event is stored; none of the refused ones is.
    const stored = new Set<string>()
    let cursor: string | null = null
    do {
      const p: { json: { items: { id: string }[]; next_cursor: string | null } } = await get(
        `/v1/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        {},
        app,
      )
      p.json.items.forEach((e) => stored.add(e.id))
      cursor = p.json.next_cursor
    } while (cursor)
    expect(stored.size).toBe(ok.length * 50)
    for (const r of ok) for (const id of r.json.ids) expect(stored.has(id)).toBe(true)
    const metrics = (await get('/metrics', {}, app)).text
    expect(metrics).toMatch(new RegExp(`inferlog_ingest_items_total\\{kind="event",outcome="inserted"\\} ${ok.length * 50}`))
    expect(metrics).toMatch(/inferlog_write_queue_depth 0/)
    expect(metrics).toMatch(/inferlog_commit_duration_seconds_count \d+/)
    await app.close()
    await slow.close()
  })

  it('answers 503 and acknowledges nothing when the store cannot commit', async () => {
    const broken = new SqliteStore({ filename: path.join(dir, 'broken.db') })
    await broken.migrate()
    const app = make({}, broken)
    await broken.close()
    const r = await post('/v1/events', minimalExampleEvent(), {}, app)
    expect(r.status).toBe(503)
    expect(r.json.error.code).toBe('unavailable')
    expect(r.headers.get('retry-after')).toBe('1')
    expect((await get('/readyz', {}, app)).status).toBe(503)
    await app.close()
  })

  it('serves health, readiness and metrics', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } })
    expect(await get('/readyz')).toMatchObject({ status: 200, json: { status: 'ready', store: 'sqlite' } })
    await post('/v1/events', '{', NDJSON)
    const m = (await get('/metrics')).text
    expect(m).toMatch(/inferlog_ingest_items_total\{kind="event",outcome="invalid_json"\} 1/)
    expect(m).toMatch(/inferlog_http_requests_total\{route="\/v1\/events",status="207"\} 1/)
  })
})
