import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { LoggedEvent } from '../options.js'
import { startFakeOpenAI } from '../test-support/fake-openai-upstream.mjs'
import { eventIdOf, wrapOpenAI } from './wrap-openai.js'

let fake: Awaited<ReturnType<typeof startFakeOpenAI>>
let events: LoggedEvent[]
let client: OpenAI

/** A logger that keeps what it is given. */
const recorder = { log: (e: LoggedEvent) => (events.push(e), e.id ?? 'assigned') }

/** Resolves once `n` events were logged (streams are logged when they end, beside the caller). */
async function logged(n: number): Promise<LoggedEvent[]> {
  for (let i = 0; i < 2000 && events.length < n; i++) await new Promise((r) => setTimeout(r, 5))
  return events
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ chunkDelayMs: 20 })
})
afterAll(() => fake.close())
beforeEach(() => {
  events = []
  client = wrapOpenAI(new OpenAI({ baseURL: fake.baseURL, apiKey: 'sk-test-secret', maxRetries: 0 }), recorder)
})

describe('wrapOpenAI with the openai SDK', () => {
  it('logs a chat completion with params, messages, output, usage and latency; the result carries the event id', async () => {
    const messages = [{ role: 'user' as const, content: 'Hi' }]
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages, temperature: 0.2, max_tokens: 50, user: 'u-1' })
    expect(r.choices[0]!.message.content).toBe('Hello from the fake model.')
    const [e] = await logged(1)
    expect(e).toMatchObject({
      model: { name: 'gpt-4o', version: 'gpt-4o-2024-08-06', params: { temperature: 0.2, max_tokens: 50 } },
      input: { messages },
      output: { role: 'assistant', content: 'Hello from the fake model.' },
      usage: { input_tokens: 11, output_tokens: 6 },
      trace: { user_id: 'u-1' },
      context: {
        tags: { 'gen_ai.provider.name': 'openai', 'gen_ai.response.id': 'chatcmpl-fake', 'gen_ai.response.finish_reasons': 'stop' },
      },
    })
    expect(e!.latency_ms!.total).toBeGreaterThan(0)
    expect(eventIdOf(r)).toBe(e!.id)
    expect(JSON.stringify(e)).not.toContain('sk-test-secret')
    expect(Object.keys(r)).not.toContain('inferlog')
  })

  it('logs a stream once it ends, with ttft, usage and token logprobs; the caller gets every chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'slow-stream',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
      logprobs: true,
      top_logprobs: 2,
    })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toBe('Hello from the fake model.')
    const [e] = await logged(1)
    expect(e!.output).toEqual({ role: 'assistant', content: 'Hello from the fake model.' })
    expect(e!.usage).toEqual({ input_tokens: 11, output_tokens: 6 })
    expect(e!.latency_ms!.ttft).toBeGreaterThan(0)
    expect(e!.latency_ms!.total).toBeGreaterThan(e!.latency_ms!.ttft!)
    expect(e!.model!.params).toMatchObject({ logprobs: true, top_logprobs: 2 })
    const lp = e!.internals!.token_logprobs as {
      tokens: string[]
      logprobs: { dtype: string; shape: number[]; data: number[] }
      top: unknown[][]
    }
    expect(lp.tokens).toEqual(['Hello', ' from', ' the', ' fake', ' model', '.'])
    expect(lp.logprobs).toMatchObject({ dtype: 'float32', shape: [6] })
    expect(lp.logprobs.data[0]).toBeCloseTo(-0.1)
    expect(lp.top[0]).toHaveLength(2)
    expect(eventIdOf(stream)).toBe(e!.id)
  })

  it('assembles streamed tool calls, and keeps tee() working', async () => {
    const stream = await client.chat.completions.create({ model: 'tools', messages: [{ role: 'user', content: 'weather?' }], stream: true })
    const [a, b] = stream.tee()
    const read = async (s: AsyncIterable<unknown>) => {
      let n = 0
      for await (const _ of s) n++
      return n
    }
    const [na, nb] = await Promise.all([read(a), read(b)])
    expect(na).toBe(nb)
    const [e] = await logged(1)
    expect(events).toHaveLength(1)
    expect(e!.output).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    })
  })

  it('logs a stream the caller stops reading as aborted, with the output so far', async () => {
    const stream = await client.chat.completions.create({ model: 'slow-stream', messages: [{ role: 'user', content: 'Hi' }], stream: true })
    let n = 0
    for await (const _ of stream) if (++n === 3) break
    const [e] = await logged(1)
    expect(e).toMatchObject({ status: 'error', error: { type: 'aborted' }, output: { role: 'assistant', content: 'Hello from' } })
  })

  it('logs responses, streamed and not, and legacy completions', async () => {
    const r = await client.responses.create({ model: 'gpt-4.1', input: 'Hi', instructions: 'Be brief.' })
    expect(r.output_text).toBe('Hello from the fake model.')
    const s = await client.responses.create({ model: 'slow-stream', input: 'Hi', stream: true })
    for await (const _ of s) {
    }
    const c = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi', max_tokens: 5 })
    expect(c.choices[0]!.text).toBe('Hello from the fake model.')
    const [er, es, ec] = await logged(3)
    expect(er).toMatchObject({
      model: { name: 'gpt-4.1', version: 'gpt-4.1-2024-08-06' },
      input: { input: 'Hi', instructions: 'Be brief.' },
      output: { role: 'assistant', content: 'Hello from the fake model.' },
      usage: { input_tokens: 11, output_tokens: 6 },
    })
    expect(es).toMatchObject({
      output: { content: 'Hello from the fake model.' },
      context: { tags: { 'gen_ai.response.finish_reasons': 'completed' } },
    })
    expect(es!.latency_ms!.ttft).toBeGreaterThan(0)
    expect(ec).toMatchObject({ input: { prompt: 'Say hi' }, output: 'Hello from the fake model.', model: { params: { max_tokens: 5 } } })
  })

  it('logs embeddings with the vectors as internals.embedding', async () => {
    const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] })
    expect(r.data[1]!.embedding[0]).toBeCloseTo(0.2)
    const [e] = await logged(1)
    expect(e).toMatchObject({ output: { embeddings: 2, dimensions: 4 }, usage: { input_tokens: 8 } })
    // The SDK asks for base64 and decodes it; the wrapper sees (and logs) the decoded floats.
    const t = e!.internals!.embedding as { dtype: string; shape: number[]; data: number[] }
    expect(t).toMatchObject({ dtype: 'float32', shape: [2, 4] })
    expect(t.data).toHaveLength(8)
    expect(t.data[4]).toBeCloseTo(0.2)
  })

  it('logs API errors and rethrows them unchanged', async () => {
    const err = await client.chat.completions.create({ model: 'fail-429', messages: [{ role: 'user', content: 'Hi' }] }).catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect(err.status).toBe(429)
    const [e] = await logged(1)
    expect(e).toMatchObject({
      status: 'error',
      error: { type: 'rate_limit_exceeded', message: expect.stringMatching(/429/) },
      context: { tags: { 'http.response.status_code': 429 } },
    })
  })

  it('keeps withResponse() and is idempotent', async () => {
    wrapOpenAI(client, recorder)
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse()
    expect(response.headers.get('x-request-id')).toBe('req_fake')
    expect(data.choices).toHaveLength(1)
    await logged(1)
    await new Promise((r) => setTimeout(r, 20))
    expect(events).toHaveLength(1)
  })

  it('records n > 1 choices as candidates', async () => {
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], n: 2 })
    const [e] = await logged(1)
    expect(e!.candidates).toHaveLength(2)
    expect(e!.output).toEqual(e!.candidates![0]!.output)
  })
})
