import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApiKey } from '../auth/api-keys.js'
import { type AppHarness, openAppHarness } from './app-harness.test-suite.js'

let h: AppHarness
const HOST = { host: 'localhost' }

beforeEach(async () => {
  h = await openAppHarness({ auth: { requireKeys: true } })
})
afterEach(async () => {
  await h.close()
})

async function key(project: string, scopes: ('ingest' | 'read' | 'admin')[], expiresMs: number | null = null) {
  return (await createApiKey(h.store, { project, scopes, expiresMs, nowMs: Date.now() })).key
}

/** The cookie a reply sets, as `name=value` for the next request. */
function cookieOf(r: { headers: Headers }): string {
  const set = r.headers.get('set-cookie') ?? ''
  return set.split(';')[0]!
}

const event = (id: string) => ({ id, model: { name: 'm', version: '1' }, input: { x: 1 }, output: 1 })

describe('browser sessions', () => {
  it('signs in with a key: an HttpOnly SameSite=Strict cookie carrying only its project and scopes', async () => {
    const k = await key('shop', ['ingest', 'read'])
    await h.post('/v1/events', event('a'), { authorization: `Bearer ${k}` })
    const other = await key('other', ['ingest'])
    await h.post('/v1/events', event('b'), { authorization: `Bearer ${other}` })

    const r = await h.post('/v1/session', { key: k }, HOST)
    expect(r.status).toBe(201)
    expect(r.json).toMatchObject({ via: 'session', project: 'shop', scopes: ['ingest', 'read'], open: false })
    expect(r.json.csrf).toMatch(/^[\w-]{20,}$/)
    expect(JSON.stringify(r.json)).not.toContain(k)
    const set = r.headers.get('set-cookie')!
    expect(set).toMatch(/^inferlog_session=[\w-]{40,};/)
    expect(set).toMatch(/HttpOnly/)
    expect(set).toMatch(/SameSite=Strict/)
    expect(set).toMatch(/Path=\//)
    expect(set).not.toContain(k)

    const cookie = cookieOf(r)
    const me = await h.get('/v1/session', { cookie })
    expect(me.json).toMatchObject({ via: 'session', project: 'shop', csrf: r.json.csrf })
    const list = await h.get('/v1/events', { cookie })
    expect(list.status).toBe(200)
    expect(list.json.items.map((e: { id: string }) => e.id)).toEqual(['a'])
    expect((await h.get('/v1/events/b', { cookie })).status).toBe(404)
    // The session's project only, whatever the page names.
    expect((await h.get('/v1/events', { cookie, 'x-inferlog-project': 'other' })).status).toBe(403)
  })

  it('makes writes CSRF-safe: the token is required, and cross-site writes are refused', async () => {
    const k = await key('shop', ['ingest', 'read'])
    const r = await h.post('/v1/session', { key: k }, HOST)
    const cookie = cookieOf(r)
    const fb = { event_id: 'a', name: 'thumbs', value: 1 }
    expect((await h.post('/v1/feedback', fb, { cookie })).status).toBe(403)
    expect((await h.post('/v1/feedback', fb, { cookie, 'x-inferlog-csrf': 'wrong' })).status).toBe(403)
    const cross = await h.post('/v1/feedback', fb, { cookie, 'x-inferlog-csrf': r.json.csrf, origin: 'https://evil.example', ...HOST })
    expect(cross.status).toBe(403)
    const site = await h.post('/v1/feedback', fb, { cookie, 'x-inferlog-csrf': r.json.csrf, 'sec-fetch-site': 'cross-site' })
    expect(site.status).toBe(403)
    const ok = await h.post('/v1/feedback', fb, { cookie, 'x-inferlog-csrf': r.json.csrf, origin: 'http://localhost', ...HOST })
    expect(ok.status).toBe(200)
    expect(ok.json.accepted).toBe(1)
    // Reads need no token.
    expect((await h.get('/v1/feedback', { cookie })).json.items).toHaveLength(1)
  })

  it('checks the key on sign-in and on every request: unknown, read-less, revoked, expired', async () => {
    expect((await h.post('/v1/session', { key: 'il_nope_nope' }, HOST)).status).toBe(401)
    expect((await h.post('/v1/session', { key: await key('shop', ['ingest']) }, HOST)).status).toBe(403)
    expect((await h.post('/v1/session', { key: 42 }, HOST)).status).toBe(400)
    expect((await h.post('/v1/session', { key: 'x', extra: 1 }, HOST)).status).toBe(400)
    expect((await h.post('/v1/session', 'not json', HOST)).status).toBe(400)
    expect((await h.post('/v1/session', { key: await key('shop', ['read']) }, { origin: 'https://evil.example', ...HOST })).status).toBe(
      403,
    )

    const k = await key('shop', ['read', 'admin'])
    const cookie = cookieOf(await h.post('/v1/session', { key: k }, HOST))
    expect((await h.get('/v1/events', { cookie })).status).toBe(200)
    const keys = await h.get('/v1/keys', { cookie })
    const id = keys.json.items.find((x: { scopes: string[] }) => x.scopes.includes('admin')).id
    await h.store.revokeApiKey(id, Date.now())
    h.app.auth.invalidate()
    expect((await h.get('/v1/events', { cookie })).status).toBe(401)

    const soon = await key('shop', ['read'], Date.now() + 150)
    const r = await h.post('/v1/session', { key: soon }, HOST)
    expect(new Date(r.json.expires_at).getTime()).toBeLessThanOrEqual(Date.now() + 150)
    await new Promise((res) => setTimeout(res, 200))
    expect((await h.get('/v1/events', { cookie: cookieOf(r) })).status).toBe(401)
  })

  it('signs out: the session is deleted server-side and the cookie cleared', async () => {
    const k = await key('shop', ['read'])
    const r = await h.post('/v1/session', { key: k }, HOST)
    const cookie = cookieOf(r)
    expect((await h.req('DELETE', '/v1/session', undefined, { cookie })).status).toBe(403)
    const out = await h.req('DELETE', '/v1/session', undefined, { cookie, 'x-inferlog-csrf': r.json.csrf })
    expect(out.status).toBe(204)
    expect(out.headers.get('set-cookie')).toMatch(/inferlog_session=;.*Max-Age=0/)
    expect((await h.get('/v1/events', { cookie })).status).toBe(401)
    expect((await h.get('/v1/session', { cookie })).status).toBe(401)
    // Another collector over the same store sees the sign-out too.
    const other = h.make({ auth: { requireKeys: true, keyCacheMs: 0 } })
    expect((await h.get('/v1/events', { cookie }, other)).status).toBe(401)
  })

  it('shares sessions between collectors of one store and across a restart', async () => {
    const k = await key('shop', ['read'])
    const cookie = cookieOf(await h.post('/v1/session', { key: k }, HOST))
    const other = h.make({ auth: { requireKeys: true } })
    expect((await h.get('/v1/session', { cookie }, other)).json.project).toBe('shop')
  })
})

describe('open mode and the dashboard', () => {
  it('serves keyless callers as the operator and says so; refuses keyless cross-site writes', async () => {
    const open = h.make({ auth: { requireKeys: false } })
    const me = await h.get('/v1/session', {}, open)
    expect(me.json).toEqual({ via: 'open', project: 'default', scopes: ['ingest', 'read', 'admin'], key_id: null, open: true })
    const cross = await h.post('/v1/events', event('x'), { origin: 'https://evil.example', ...HOST }, open)
    expect(cross.status).toBe(403)
    expect((await h.post('/v1/events', event('x'), { 'sec-fetch-site': 'cross-site' }, open)).status).toBe(403)
    expect((await h.post('/v1/events', event('x'), { origin: 'http://localhost', ...HOST }, open)).status).toBe(200)
    expect((await h.post('/v1/events', event('y'), {}, open)).status).toBe(200)
    // Without keys required, GET /v1/session with nothing is a 401 when keys are required.
    expect((await h.get('/v1/session')).status).toBe(401)
  })

  it('serves index.html for page paths a browser opens, assets with caching, JSON 404 elsewhere', async () => {
    const dir = path.join(h.dir, 'dash')
    fs.mkdirSync(path.join(dir, 'assets'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>inferlog</title>')
    fs.writeFileSync(path.join(dir, 'assets', 'app-ABC.js'), 'console.log(1)')
    fs.writeFileSync(path.join(dir, 'assets', 'app-ABC.js.gz'), 'gz')
    const app = h.make({ dashboard: { dir } })
    const html = { accept: 'text/html,application/xhtml+xml' }
    for (const p of ['/', '/events', '/events/abc', '/datasets/x@1']) {
      const r = await h.get(p, html, app)
      expect(r.status, p).toBe(200)
      expect(r.text).toContain('<title>inferlog</title>')
      expect(r.headers.get('content-security-policy')).toContain("default-src 'self'")
    }
    expect((await h.get('/', {}, app)).status).toBe(200)
    expect((await h.get('/events', {}, app)).status).toBe(404)
    expect((await h.get('/v1/nope', html, app)).status).toBe(404)
    const js = await h.get('/assets/app-ABC.js', {}, app)
    expect(js.text).toBe('console.log(1)')
    expect(js.headers.get('cache-control')).toContain('immutable')
    expect(js.headers.get('content-type')).toContain('javascript')
    expect((await h.get('/assets/app-ABC.js', { 'accept-encoding': 'gzip' }, app)).headers.get('content-encoding')).toBe('gzip')
    expect((await h.get('/assets/..%2Findex.html', {}, app)).status).toBe(404)
    expect((await h.get('/assets/missing.js', {}, app)).status).toBe(404)
    // Health and Prometheus keep their routes.
    expect((await h.get('/healthz', html, app)).json).toEqual({ status: 'ok' })
    const none = h.make({ dashboard: { dir: path.join(h.dir, 'nothing') } })
    const r = await h.get('/', html, none)
    expect(r.status).toBe(503)
    expect(r.text).toContain('npm run build')
  })
})
