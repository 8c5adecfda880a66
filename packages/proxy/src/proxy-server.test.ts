import net from 'node:net'
import type { LoggedEvent } from '@inferlog/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeOpenAI } from '../../sdk/src/test-support/fake-openai-upstream.mjs'
import { type RunningProxy, startProxy } from './proxy-server.js'

let fake: Awaited<ReturnType<typeof startFakeOpenAI>>
let proxy: RunningProxy
let events: LoggedEvent[]
const recorder = { log: (e: LoggedEvent) => (events.push(e), e.id ?? 'assigned') }

async function logged(n: number): Promise<LoggedEvent[]> {
  for (let i = 0; i < 2000 && events.length < n; i++) await new Promise((r) => setTimeout(r, 5))
  return events
}

const viaProxy = () => new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-client-secret', maxRetries: 0 })

beforeAll(async () => {
  fake = await startFakeOpenAI({ chunkDelayMs: 10 })
  proxy = await startProxy({ upstream: fake.baseURL, logger: recorder, port: 0 })
})
afterAll(async () => {
  await proxy.close()
  await fake.close()
})
beforeEach(() => {
  events = []
  fake.requests.length = 0
})

describe('the proxy with the openai SDK', () => {
  it('forwards a chat completion unchanged, with the client key, and logs it with the event id in a header', async () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Hi' }], temperature: 0.1 }
    const direct = await new OpenAI({ baseURL: fake.baseURL, apiKey: 'x', maxRetries: 0 }).chat.completions.create(body)
    const { data, response } = await viaProxy().chat.completions.create(body).withResponse()
    expect(data).toEqual(direct)
    const id = response.headers.get('x-inferlog-event-id')
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(response.headers.get('x-request-id')).toBe('req_fake')
    expect(fake.requests.at(-1)!.headers.authorization).toBe('Bearer sk-client-secret')
    const [e] = await logged(1)
    expect(e).toMatchObject({
      id,
      model: { name: 'gpt-4o', version: 'gpt-4o-2024-08-06', params: { temperature: 0.1 } },
      input: { messages: body.messages },
      output: { role: 'assistant', content: 'Hello from the fake model.' },
      usage: { input_tokens: 11, output_tokens: 6 },
    })
    expect(JSON.stringify(e)).not.toContain('sk-client-secret')
  })

  it('passes a stream through chunk by chunk: the first chunks arrive while the upstream still holds the rest', async () => {
    const stream = await viaProxy().chat.completions.create({
      model: 'gated-stream',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    const it = stream[Symbol.asyncIterator]()
    const first = await it.next()
    const second = await it.next()
    expect(first.done).toBe(false)
    expect((second.value as { choices: { delta: { content?: string } }[] }).choices[0]!.delta.content).toBe('Hello')
    expect(events).toHaveLength(0)
    fake.release()
    let text = 'Hello'
    for (let r = await it.next(); !r.done; r = await it.next())
      text += (r.value as { choices: { delta: { content?: string } }[] }).choices[0]?.delta?.content ?? ''
    expect(text).toBe('Hello from the fake model.')
    const [e] = await logged(1)
    expect(e!.output).toEqual({ role: 'assistant', content: 'Hello from the fake model.' })
    expect(e!.usage).toEqual({ input_tokens: 11, output_tokens: 6 })
    expect(e!.latency_ms!.ttft).toBeGreaterThan(0)
    expect(e!.latency_ms!.total).toBeGreaterThanOrEqual(e!.latency_ms!.ttft!)
  })

  it('passes 4xx and 5xx replies through unchanged and logs them as errors', async () => {
    for (const status of [400, 429, 500, 503]) {
      const req = {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: `fail-${status}`, messages: [] }),
      }
      const direct = await fetch(`${fake.baseURL}/chat/completions`, req)
      const proxied = await fetch(`${proxy.url}/v1/chat/completions`, req)
      expect(proxied.status).toBe(status)
      expect(await proxied.text()).toBe(await direct.text())
      expect(proxied.headers.get('x-request-id')).toBe('req_fake')
      expect(proxied.headers.get('x-inferlog-event-id')).toBeTruthy()
    }
    const err = await viaProxy()
      .chat.completions.create({ model: 'fail-429', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect(err.error).toMatchObject({ type: 'rate_limit_exceeded', message: 'fake upstream answered 429' })
    const all = await logged(5)
    expect(all.map((e) => e.error)).toEqual([
      { type: 'invalid_request_error', message: 'fake upstream answered 400' },
      { type: 'rate_limit_exceeded', message: 'fake upstream answered 429' },
      { type: 'server_error', message: 'fake upstream answered 500' },
      { type: 'server_error', message: 'fake upstream answered 503' },
      { type: 'rate_limit_exceeded', message: 'fake upstream answered 429' },
    ])
    expect(all.every((e) => e.status === 'error')).toBe(true)
  })

  it('stops the upstream call when the client aborts mid-stream and logs what arrived', async () => {
    const ac = new AbortController()
    const abortedBefore = fake.aborted()
    const stream = await viaProxy().chat.completions.create(
      { model: 'gated-stream', messages: [{ role: 'user', content: 'Hi' }], stream: true },
      { signal: ac.signal },
    )
    const it = stream[Symbol.asyncIterator]()
    await it.next()
    await it.next()
    ac.abort()
    const [e] = await logged(1)
    expect(e).toMatchObject({ status: 'error', error: { type: 'aborted' }, output: { role: 'assistant', content: 'Hello' } })
    fake.release()
    for (let i = 0; i < 2000 && fake.aborted() === abortedBefore; i++) await new Promise((r) => setTimeout(r, 5))
    expect(fake.aborted()).toBe(abortedBefore + 1)
  })

  it('answers 504 in OpenAI error shape when the upstream is silent, 502 when it is down', async () => {
    // A proxy of its own with a short timeout, so slow machines cannot trip the other tests.
    const silent = await startProxy({ upstream: fake.baseURL, logger: recorder, port: 0, timeoutMs: 500 })
    const err = await new OpenAI({ baseURL: `${silent.url}/v1`, apiKey: 'k', maxRetries: 0 }).chat.completions
      .create({ model: 'hang', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e) => e)
    await silent.close()
    expect(err.status).toBe(504)
    expect(err.error).toEqual({
      message: expect.stringMatching(/sent nothing for 500 ms/),
      type: 'api_error',
      param: null,
      code: 'upstream_timeout',
    })

    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port
        s.close(() => resolve(port))
      })
    })
    const down = await startProxy({ upstream: `http://127.0.0.1:${closed}/v1`, logger: recorder, port: 0 })
    try {
      const res = await fetch(`${down.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [] }) })
      expect(res.status).toBe(502)
      expect(await res.json()).toEqual({
        error: {
          message: expect.stringMatching(/cannot reach upstream .*ECONNREFUSED/),
          type: 'api_error',
          param: null,
          code: 'upstream_unreachable',
        },
      })
    } finally {
      await down.close()
    }
    const all = await logged(2)
    expect(all.map((e) => e.error?.type)).toEqual(['upstream_timeout', 'upstream_unreachable'])
  })

  it('passes other paths through and logs only the model calls; responses and embeddings are logged', async () => {
    const res = await fetch(`${proxy.url}/v1/models?limit=1`)
    expect(res.headers.get('x-fake')).toBe('models')
    expect(res.headers.get('x-inferlog-event-id')).toBeNull()
    expect(fake.requests.at(-1)!.path).toBe('/v1/models?limit=1')
    const client = viaProxy()
    const r = await client.responses.create({ model: 'gpt-4.1', input: 'Hi' })
    expect(r.output_text).toBe('Hello from the fake model.')
    const s = await client.responses.create({ model: 'gpt-4.1', input: 'Hi', stream: true })
    for await (const _ of s) {
    }
    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'a' })
    expect(emb.data[0]!.embedding).toHaveLength(4)
    const all = await logged(3)
    expect(all.map((e) => e.output)).toEqual([
      { role: 'assistant', content: 'Hello from the fake model.' },
      { role: 'assistant', content: 'Hello from the fake model.' },
      { embeddings: 1, dimensions: 4 },
    ])
    expect((all[2]!.internals!.embedding as { shape: number[] }).shape).toEqual([1, 4])
  })

  it('takes session and user from x-inferlog headers and does not forward them', async () => {
    await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-inferlog-session-id': 's-1', 'x-inferlog-user-id': 'u-1' },
      body: JSON.stringify({ model: 'm', messages: [] }),
    })
    const [e] = await logged(1)
    expect(e!.trace).toEqual({ session_id: 's-1', user_id: 'u-1' })
    expect(Object.keys(fake.requests.at(-1)!.headers).filter((h) => h.startsWith('x-inferlog'))).toEqual([])
  })
})
