import { createOpenAI } from '@ai-sdk/openai'
import { generateText, streamText, wrapLanguageModel } from 'ai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { LoggedEvent } from '../options.js'
import { startFakeOpenAI } from '../test-support/fake-openai-upstream.mjs'
import { inferlogMiddleware } from './inferlog-middleware.js'

let fake: Awaited<ReturnType<typeof startFakeOpenAI>>
let events: LoggedEvent[]
const recorder = { log: (e: LoggedEvent) => (events.push(e), e.id ?? 'assigned') }

beforeAll(async () => {
  fake = await startFakeOpenAI({ chunkDelayMs: 20 })
})
afterAll(() => fake.close())
beforeEach(() => {
  events = []
})

function model(id: string) {
  const provider = createOpenAI({ baseURL: fake.baseURL, apiKey: 'sk-test-secret' })
  return wrapLanguageModel({ model: provider.chat(id), middleware: inferlogMiddleware(recorder) })
}

describe('inferlogMiddleware with the AI SDK', () => {
  it('logs generateText with messages, settings, output, usage; the event id comes back in providerMetadata', async () => {
    const r = await generateText({
      model: model('gpt-4o'),
      system: 'Be brief.',
      prompt: 'Hi',
      temperature: 0.3,
      maxOutputTokens: 40,
      maxRetries: 0,
    })
    expect(r.text).toBe('Hello from the fake model.')
    expect(events).toHaveLength(1)
    const e = events[0]!
    expect(e).toMatchObject({
      model: { name: 'gpt-4o', version: 'gpt-4o-2024-08-06', params: { temperature: 0.3, max_tokens: 40 } },
      input: {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        ],
      },
      output: { role: 'assistant', content: 'Hello from the fake model.' },
      usage: { input_tokens: 11, output_tokens: 6 },
      context: {
        tags: { 'gen_ai.provider.name': 'openai.chat', 'gen_ai.response.id': 'chatcmpl-fake', 'gen_ai.response.finish_reasons': 'stop' },
      },
    })
    expect(r.providerMetadata?.inferlog?.eventId).toBe(e.id)
    expect(JSON.stringify(e)).not.toContain('sk-test-secret')
  })

  it('logs streamText when the stream ends, with time to first token', async () => {
    const r = streamText({ model: model('slow-stream'), prompt: 'Hi', maxRetries: 0 })
    let text = ''
    for await (const t of r.textStream) text += t
    expect(text).toBe('Hello from the fake model.')
    expect(events).toHaveLength(1)
    const e = events[0]!
    expect(e.output).toEqual({ role: 'assistant', content: 'Hello from the fake model.' })
    expect(e.latency_ms!.ttft).toBeGreaterThan(0)
    expect(e.latency_ms!.total).toBeGreaterThan(e.latency_ms!.ttft!)
    expect((await r.providerMetadata)?.inferlog?.eventId).toBe(e.id)
  })

  it('logs tool calls', async () => {
    await generateText({ model: model('tools'), prompt: 'weather in Paris?', maxRetries: 0 })
    expect(events[0]!.output).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    })
  })

  it('logs a failed call and lets the error through', async () => {
    await expect(generateText({ model: model('fail-500'), prompt: 'Hi', maxRetries: 0 })).rejects.toThrow()
    expect(events[0]).toMatchObject({ status: 'error', error: { type: 'AI_APICallError' } })
  })
})
