import { describe, expect, it } from 'vitest'
import { ApiClient, ApiError } from './api-client.js'

type Call = { url: string; init: RequestInit }

function client(reply: (c: Call) => Promise<Response>, o: { timeoutMs?: number; onUnauthorized?: () => void } = {}) {
  const calls: Call[] = []
  const api = new ApiClient({
    ...o,
    fetch: (async (url: string, init: RequestInit) => {
      const c = { url, init }
      calls.push(c)
      return reply(c)
    }) as typeof fetch,
  })
  return { api, calls }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })

describe('ApiClient', () => {
  it('builds URLs without empty values, repeating array keys', () => {
    const { api } = client(async () => json(200, {}))
    expect(api.url('/v1/events', { model: 'm', version: '', cursor: undefined, limit: 20, has_feedback: false })).toBe(
      '/v1/events?model=m&limit=20&has_feedback=false',
    )
    expect(api.url('/v1/metrics', { version: ['a', 'b'] })).toBe('/v1/metrics?version=a&version=b')
  })

  it('sends the CSRF token on writes only, and the open-mode project on every call', async () => {
    const { api, calls } = client(async () => json(200, { ok: 1 }))
    api.csrf = 'tok'
    api.project = 'shop'
    await api.get('/v1/events')
    await api.post('/v1/feedback', { a: 1 })
    await api.del('/v1/session')
    const h = calls.map((c) => c.init.headers as Record<string, string>)
    expect(h[0]!['x-inferlog-csrf']).toBeUndefined()
    expect(h[1]!['x-inferlog-csrf']).toBe('tok')
    expect(h[1]!['content-type']).toBe('application/json')
    expect(h[2]!['x-inferlog-csrf']).toBe('tok')
    expect(h.every((x) => x['x-inferlog-project'] === 'shop')).toBe(true)
    expect(calls[1]!.init.body).toBe('{"a":1}')
    expect(calls.every((c) => c.init.credentials === 'same-origin')).toBe(true)
  })

  it('turns error replies into typed errors with code, message, details and Retry-After', async () => {
    let unauthorized = 0
    const replies = [
      json(410, { error: { code: 'erased', message: 'gone' } }),
      json(400, { error: { code: 'validation_failed', message: 'bad', details: [{ path: '/a', message: 'x' }] } }),
      json(503, { error: { code: 'overloaded', message: 'busy' } }, { 'retry-after': '3' }),
      new Response('<html>proxy error</html>', { status: 502, statusText: 'Bad Gateway' }),
      json(401, { error: { code: 'unauthorized', message: 'who?' } }),
    ]
    const { api } = client(async () => replies.shift()!, { onUnauthorized: () => unauthorized++ })
    const errs: ApiError[] = []
    for (let i = 0; i < 5; i++) errs.push(await api.get('/x').catch((e) => e))
    expect(errs.map((e) => [e.status, e.code])).toEqual([
      [410, 'erased'],
      [400, 'validation_failed'],
      [503, 'overloaded'],
      [502, 'http_502'],
      [401, 'unauthorized'],
    ])
    expect(errs[1]!.details).toEqual([{ path: '/a', message: 'x' }])
    expect(errs[2]!.retryAfter).toBe(3)
    expect(errs[3]!.message).toBe('Bad Gateway')
    expect(unauthorized).toBe(1)
    expect(errs.every((e) => e instanceof ApiError)).toBe(true)
  })

  it('reports a server that is down as network, and one that does not answer as timeout', async () => {
    const down = client(async () => {
      throw new TypeError('fetch failed')
    })
    await expect(down.api.get('/x')).rejects.toMatchObject({ status: 0, code: 'network' })
    const slow = client((c) => new Promise((_, reject) => c.init.signal!.addEventListener('abort', () => reject(new Error('aborted')))), {
      timeoutMs: 50,
    })
    await expect(slow.api.get('/x')).rejects.toMatchObject({ status: 0, code: 'timeout' })
  })

  it('passes a caller abort through as is (not as a server fault)', async () => {
    const { api } = client(
      (c) => new Promise((_, reject) => c.init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))),
    )
    const ctl = new AbortController()
    const p = api.get('/x', undefined, ctl.signal)
    ctl.abort()
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('reads 204 as nothing', async () => {
    const { api } = client(async () => new Response(null, { status: 204 }))
    await expect(api.del('/v1/session')).resolves.toBeUndefined()
  })
})
