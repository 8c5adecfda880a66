import zlib from 'node:zlib'
import { minimalExampleEvent } from '@inferlog/schema'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApiKey } from '../auth/api-keys.js'
import { type AppHarness, openAppHarness } from './app-harness.test-suite.js'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
})
afterEach(async () => {
  await h.close()
})

const NDJSON = { 'content-type': 'application/x-ndjson' }
const JSON_TYPE = { 'content-type': 'application/json' }

describe('content types', () => {
  it('reads JSON, NDJSON, no type, curl -d and fetch string bodies; refuses anything else with 415', async () => {
    const ev = () => JSON.stringify(minimalExampleEvent())
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'application/x-www-form-urlencoded',
      'text/plain;charset=UTF-8',
      'application/vnd.api+json',
    ]) {
      expect((await h.post('/v1/events', ev(), { 'content-type': type })).status, type).toBe(200)
    }
    expect((await h.post('/v1/events', new TextEncoder().encode(ev()))).status).toBe(200)
    expect((await h.post('/v1/events', `${ev()}\n${ev()}\n`, NDJSON)).json.accepted).toBe(2)
    for (const type of ['image/png', 'multipart/form-data; boundary=x', 'application/xml', 'text/html']) {
      expect(await h.post('/v1/events', ev(), { 'content-type': type }), type).toMatchObject({
        status: 415,
        json: { error: { code: 'unsupported_media_type' } },
      })
    }
    expect((await h.post('/v1/keys', { scopes: ['read'] }, { 'content-type': 'application/x-ndjson' })).status).toBe(415)
  })
})

describe('query parameters', () => {
  it('takes a limit only as plain digits', async () => {
    for (const bad of ['1e2', '0x10', ' 7', '7.0', '-1', '+5', '1001', '']) {
      expect(await h.get(`/v1/events?limit=${encodeURIComponent(bad)}`), bad).toMatchObject({
        status: 400,
        json: { error: { code: 'invalid_parameter' } },
      })
    }
    expect((await h.get('/v1/events?limit=10')).status).toBe(200)
  })

  it('refuses times that are not RFC 3339 or epoch ms', async () => {
    for (const bad of ['Dec 1 2026', '2026-13-01T00:00:00Z', 'tomorrow', '1e12']) {
      expect((await h.get(`/v1/events?from=${encodeURIComponent(bad)}`)).status, bad).toBe(400)
    }
    for (const good of ['2026-12-01', '2026-12-01T10:00:00Z', '2026-12-01T10:00:00.123+01:00', '1764547200000']) {
      expect((await h.get(`/v1/events?from=${encodeURIComponent(good)}`)).status, good).toBe(200)
    }
  })

  it('binds a cursor to the query and endpoint that made it', async () => {
    await h.post(
      '/v1/events',
      Array.from({ length: 5 }, () => minimalExampleEvent({ model: { name: 'a', version: '1' } })),
    )
    await h.post(
      '/v1/feedback',
      Array.from({ length: 5 }, (_, i) => ({ event_id: `e${i}`, name: 'thumbs', value: 1 })),
    )
    const page = await h.get('/v1/events?model=a&limit=2')
    const cursor = page.json.next_cursor as string
    expect(cursor).toBeTruthy()
    expect((await h.get(`/v1/events?model=a&limit=2&cursor=${cursor}`)).json.items).toHaveLength(2)
    // Same filter, other page size: still the same query.
    expect((await h.get(`/v1/events?model=a&limit=3&cursor=${cursor}`)).status).toBe(200)
    expect(await h.get(`/v1/events?model=b&limit=2&cursor=${cursor}`)).toMatchObject({
      status: 400,
      json: { error: { code: 'invalid_parameter' } },
    })
    expect((await h.get(`/v1/events?limit=2&cursor=${cursor}`)).status).toBe(400)
    expect((await h.get(`/v1/feedback?limit=2&cursor=${cursor}`)).status).toBe(400)
  })
})

describe('ids and times', () => {
  it('refuses ids that no URL can fetch or no one can read', async () => {
    const bad = ['   ', '\t', 'a\u0000b', 'line\nbreak', 'lone\ud800surrogate', '\udc00', 'del\u007f', 'sep\u2028', 'x'.repeat(129)]
    const r = await h.post(
      '/v1/events',
      bad.map((id) => minimalExampleEvent({ id })),
    )
    expect(r.status).toBe(207)
    expect(r.json.accepted).toBe(0)
    expect(r.json.rejected.map((x: { index: number; code: string; path: string }) => [x.index, x.code, x.path])).toEqual(
      bad.map((_, i) => [i, 'validation_failed', '/id']),
    )
    const fb = await h.post('/v1/feedback', [
      { event_id: ' ', name: 'thumbs', value: 1 },
      { id: '\ud83d', event_id: 'e', name: 'thumbs', value: 1 },
    ])
    expect(fb.json.rejected.map((x: { path: string }) => x.path)).toEqual(['/event_id', '/id'])
    // Printable Unicode, emoji included, is fine and can be fetched back.
    const ok = await h.post('/v1/events', minimalExampleEvent({ id: 'commande n° 1234 📦' }))
    expect(ok.json.accepted).toBe(1)
    expect((await h.get(`/v1/events/${encodeURIComponent('commande n° 1234 📦')}`)).status).toBe(200)
  })

  it('refuses a ts further in the future than the allowed skew (default 1 day), for events and feedback', async () => {
    const now = Date.now()
    const at = (ms: number) => new Date(ms).toISOString()
    const r = await h.post('/v1/events', [
      minimalExampleEvent({ id: 'y9999', ts: '9999-12-31T23:59:59Z' }),
      minimalExampleEvent({ id: 'in2d', ts: at(now + 2 * 86_400_000) }),
      minimalExampleEvent({ id: 'in1h', ts: at(now + 3_600_000) }),
      minimalExampleEvent({ id: 'past', ts: '2001-01-01T00:00:00Z' }),
    ])
    expect(r.json.rejected.map((x: { id: string; code: string; path: string }) => [x.id, x.code, x.path])).toEqual([
      ['y9999', 'ts_out_of_range', '/ts'],
      ['in2d', 'ts_out_of_range', '/ts'],
    ])
    expect(r.json.accepted).toBe(2)
    const f = await h.post('/v1/feedback', { event_id: 'past', name: 'label', value: 1, ts: '9999-01-01T00:00:00Z' })
    expect(f.json.rejected[0]).toMatchObject({ code: 'ts_out_of_range' })
    const strict = h.make({ limits: { maxFutureSkewMs: 60_000 } })
    const s = await h.post('/v1/events', minimalExampleEvent({ ts: at(Date.now() + 3_600_000) }), {}, strict)
    expect(s.json.rejected[0]).toMatchObject({ code: 'ts_out_of_range' })
  })
})

describe('one idempotency rule for every encoding', () => {
  const item = (id: string) => ({
    id,
    model: { name: 'm', version: '1' },
    input: { x: 1.5, big: 12345678901234567890, tags: ['a'] },
    output: 2,
  })

  it('the same item sent as JSON and as NDJSON (either first, any spelling) is a duplicate', async () => {
    const a = item('enc-a')
    expect((await h.post('/v1/events', a, JSON_TYPE)).json.accepted).toBe(1)
    expect((await h.post('/v1/events', `${JSON.stringify(a)}\n`, NDJSON)).json).toMatchObject({ accepted: 0, duplicates: 1, rejected: [] })
    const b = item('enc-b')
    // Another spelling of the same content: key order, white space, number forms.
    const spelled =
      '{ "output" : 2.0, "input": {"tags":["a"], "big": 1.2345678901234567890e19, "x": 15e-1}, "model": {"version":"1","name":"m"}, "id":"enc-b" }'
    expect((await h.post('/v1/events', `${spelled}\n`, NDJSON)).json.accepted).toBe(1)
    expect((await h.post('/v1/events', [b], JSON_TYPE)).json).toMatchObject({ accepted: 0, duplicates: 1, rejected: [] })
    expect((await h.post('/v1/events', { ...b, output: 3 }, JSON_TYPE)).json.rejected[0]).toMatchObject({ code: 'conflict', id: 'enc-b' })
  })

  it('refuses non-finite numbers with number_out_of_range in both encodings', async () => {
    const text = '{"id":"inf","model":{"name":"m","version":"1"},"input":{"a":[1,1e999]},"output":1}'
    const viaJson = await h.post('/v1/events', text, JSON_TYPE)
    const viaNd = await h.post('/v1/events', `${text}\n`, NDJSON)
    for (const r of [viaJson, viaNd]) {
      expect(r.status).toBe(207)
      expect(r.json.rejected).toEqual([expect.objectContaining({ index: 0, code: 'number_out_of_range', path: '/input/a/1' })])
    }
    expect((await h.get('/v1/events/inf')).status).toBe(404)
    const neg = await h.post('/v1/events', '[{"model":{"name":"m","version":"1"},"input":1,"output":-1e400}]', JSON_TYPE)
    expect(neg.json.rejected[0]).toMatchObject({ code: 'number_out_of_range', path: '/output' })
  })

  it('refuses repeated keys with duplicate_key in both encodings, only for the items that have them', async () => {
    const good = JSON.stringify(item('dk-good'))
    const dup = '{"id":"dk-bad","model":{"name":"m","version":"1"},"input":{"a":1,"a":2},"output":1}'
    const spaced = '{"id":"dk-sp","model":{"name":"m","version":"1"},"input":{"a" :1,"b":{"c":1, "c" : 2}},"output":1}'
    const escaped = '{"id":"dk-esc","model":{"name":"m","version":"1"},"input":{"a\\"":1,"a":"\\":","b":":"},"output":1}'
    const viaJson = await h.post('/v1/events', `[${good},${dup},${spaced},${escaped}]`, JSON_TYPE)
    expect(viaJson.json.ids).toEqual(['dk-good', null, null, 'dk-esc'])
    expect(viaJson.json.rejected.map((x: { index: number; code: string; path: string }) => [x.index, x.code, x.path])).toEqual([
      [1, 'duplicate_key', '/input/a'],
      [2, 'duplicate_key', '/input/b/c'],
    ])
    const viaNd = await h.post('/v1/events', [good, dup, spaced, escaped].join('\n'), NDJSON)
    expect(viaNd.json).toMatchObject({ accepted: 0, duplicates: 2 })
    expect(viaNd.json.rejected.map((x: { index: number; code: string; path: string }) => [x.index, x.code, x.path])).toEqual([
      [1, 'duplicate_key', '/input/a'],
      [2, 'duplicate_key', '/input/b/c'],
    ])
    expect((await h.post('/v1/feedback', '{"event_id":"e","name":"t","value":1,"value":2}', JSON_TYPE)).json.rejected[0]).toMatchObject({
      code: 'duplicate_key',
      path: '/value',
    })
  })
})

describe('API keys', () => {
  it('validates scopes, name, expiry and fields strictly', async () => {
    const bad: unknown[] = [
      { scopes: 'read' },
      { scopes: [] },
      { scopes: ['read', 1] },
      { scopes: ['root'] },
      { scopes: ['read'], name: 'x'.repeat(129) },
      { scopes: ['read'], name: 'bell\u0007' },
      { scopes: ['read'], name: 42 },
      { scopes: ['read'], expires_at: '2001-01-01T00:00:00Z' },
      { scopes: ['read'], expires_at: 'soon' },
      { scopes: ['read'], project: 'no spaces' },
      { scopes: ['read'], admin: true },
    ]
    for (const body of bad) {
      expect(await h.post('/v1/keys', body), JSON.stringify(body)).toMatchObject({
        status: 400,
        json: { error: { code: 'invalid_parameter' } },
      })
    }
    expect((await h.post('/v1/keys', '[1]')).json.error.code).toBe('invalid_json')
    expect((await h.post('/v1/keys', 'nope')).json.error.code).toBe('invalid_json')
    const huge = await h.post('/v1/keys', { scopes: ['read'], pad: 'x'.repeat(2 * 1024 * 1024) })
    expect(huge).toMatchObject({ status: 413, json: { error: { code: 'payload_too_large' } } })
    const created = await h.post('/v1/keys', { scopes: ['read'], name: 'dash', expires_at: new Date(Date.now() + 3_600_000).toISOString() })
    expect(created.status).toBe(201)
    expect(Object.keys(created.json).sort()).toEqual(['created_at', 'expires_at', 'id', 'key', 'name', 'project', 'revoked_at', 'scopes'])
    expect(created.json).toMatchObject({ project: 'default', scopes: ['read'], name: 'dash', revoked_at: null })
  })

  it('an expired key is refused; DELETE of an unknown key is a 404; revoking twice is fine', async () => {
    let now = Date.now()
    const app = h.make({ now: () => now, auth: { keyCacheMs: 0 } })
    const key = await createApiKey(h.store, { project: 'p', scopes: ['read'], expiresMs: now + 1_000 })
    const as = { authorization: `Bearer ${key.key}` }
    expect((await h.get('/v1/events', as, app)).status).toBe(200)
    now += 1_000
    expect(await h.get('/v1/events', as, app)).toMatchObject({
      status: 401,
      json: { error: { message: expect.stringContaining('expired') } },
    })
    expect((await h.req('DELETE', '/v1/keys/nope', undefined, {}, app)).status).toBe(404)
    expect((await h.req('DELETE', `/v1/keys/${key.record.id}`, undefined, {}, app)).status).toBe(204)
    expect((await h.req('DELETE', `/v1/keys/${key.record.id}`, undefined, {}, app)).status).toBe(204)
  })

  it('open mode stays on after keys exist, and still checks a presented key', async () => {
    await createApiKey(h.store, { project: 'p', scopes: ['ingest'] })
    expect((await h.post('/v1/events', minimalExampleEvent())).status).toBe(200)
    expect((await h.get('/v1/events', { authorization: 'Bearer il_bogus_key' })).status).toBe(401)
    const closed = h.make({ auth: { requireKeys: true } })
    expect((await h.post('/v1/events', minimalExampleEvent(), {}, closed)).status).toBe(401)
  })
})

describe('memory budget', () => {
  it('answers 503 + Retry-After past the budget, before inflating, and gives every byte back', async () => {
    const app = h.make({ memoryBudgetBytes: 16 * 1024 * 1024 })
    // Highly compressible NDJSON: about 1 MB inflated from a few KB on the wire, about 4 MB once parsed.
    const line = JSON.stringify(minimalExampleEvent({ input: { pad: 'z'.repeat(900) } }))
    const body = zlib.gzipSync(Buffer.from(Array.from({ length: 1000 }, () => line).join('\n')))
    expect(body.length).toBeLessThan(20_000)
    const replies = await Promise.all(
      Array.from({ length: 16 }, () => h.post('/v1/events', body, { ...NDJSON, 'content-encoding': 'gzip' }, app)),
    )
    const statuses = replies.map((r) => r.status)
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0)
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true)
    for (const r of replies.filter((x) => x.status === 503)) {
      expect(r.json.error.code).toBe('overloaded')
      expect(r.headers.get('retry-after')).toBe('1')
    }
    expect(app.budget.inUse).toBe(0)
    expect(app.budget.highWater).toBeLessThanOrEqual(16 * 1024 * 1024 + 64 * 1024)
    // Alone, a request larger than the whole budget still goes through.
    const tiny = h.make({ memoryBudgetBytes: 1024 })
    expect((await h.post('/v1/events', body, { ...NDJSON, 'content-encoding': 'gzip' }, tiny)).status).toBe(200)
    expect(tiny.budget.inUse).toBe(0)
  })
})
