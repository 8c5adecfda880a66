import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { CollectorApi } from './collector-api.js'
import { DemoError } from './demo-error.js'

let server: Server | undefined
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())))

/** A loopback server answering with `replies` in turn (the last one repeats). */
async function serve(replies: { status: number; body: string }[]): Promise<{ url: string; calls: () => number }> {
  let n = 0
  server = createServer((_req, res) => {
    const r = replies[Math.min(n++, replies.length - 1)]!
    res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body)
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => n }
}

describe('CollectorApi', () => {
  it('retries a 5xx and returns the reply that succeeds', async () => {
    const s = await serve([
      { status: 500, body: '{"error":{"code":"internal","message":"internal error"}}' },
      { status: 200, body: '{"ok":true}' },
    ])
    expect(await new CollectorApi(s.url, { retryDelayMs: 1 }).put('/v1/models/m', {})).toEqual({ ok: true })
    expect(s.calls()).toBe(2)
  })

  it('gives up after its attempts with api_failed naming the server code', async () => {
    const s = await serve([{ status: 503, body: '{"error":{"code":"overloaded","message":"busy"}}' }])
    const err = await new CollectorApi(s.url, { retryDelayMs: 1, attempts: 3 }).get('/v1/alerts').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DemoError)
    expect((err as DemoError).code).toBe('api_failed')
    expect((err as DemoError).message).toBe('GET /v1/alerts: overloaded: busy')
    expect(s.calls()).toBe(3)
  })

  it('does not retry a 4xx; a body that is not JSON is named by its status', async () => {
    const s = await serve([{ status: 400, body: 'nope' }])
    await expect(new CollectorApi(s.url, { retryDelayMs: 1 }).post('/v1/compare', {})).rejects.toThrow('POST /v1/compare: HTTP 400')
    expect(s.calls()).toBe(1)
  })

  it('retries a refused connection, then reports it', async () => {
    const s = await serve([{ status: 200, body: '{}' }])
    await new Promise<void>((r) => server!.close(() => r()))
    server = undefined
    await expect(new CollectorApi(s.url, { retryDelayMs: 1, attempts: 2 }).get('/healthz')).rejects.toThrow(/GET \/healthz: fetch failed/)
  })
})
