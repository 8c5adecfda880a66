import { describe, expect, it } from 'vitest'
import { mapSpan, nanosToTimestamp, otlpEventId, otlpFeedbackId } from './genai-span-mapping.js'
import type { Attributes, OtlpSpan, OtlpSpanEvent } from './otlp-span.js'

const T = '5b8efff798038103d269b633813fc60c'
const S = 'eee19b7ec3c1b174'

function span(attributes: Attributes, o: Partial<OtlpSpan> = {}): OtlpSpan {
  return {
    path: 'resourceSpans[0].scopeSpans[0].spans[0]',
    traceId: T,
    spanId: S,
    name: 'chat gpt-4o',
    kind: 3,
    startNs: 1700000000123456789n,
    endNs: 1700000001373456789n,
    attributes,
    events: [],
    status: { code: 0, message: '' },
    resource: { 'service.name': 'shop' },
    scope: { name: 'lib', version: '1' },
    ...o,
  }
}

const CURRENT: Attributes = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.response.model': 'gpt-4o-2024-08-06',
  'gen_ai.request.temperature': 0.2,
  'gen_ai.request.top_p': 0.9,
  'gen_ai.request.max_tokens': 200,
  'gen_ai.request.stop_sequences': ['\n\n'],
  'gen_ai.usage.input_tokens': 12,
  'gen_ai.usage.output_tokens': 34,
  'gen_ai.response.id': 'chatcmpl-1',
  'gen_ai.response.finish_reasons': ['stop'],
  'gen_ai.conversation.id': 'conv-9',
  'user.id': 'u-1',
  'gen_ai.system_instructions': '[{"type":"text","content":"Be brief."}]',
  'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]',
  'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"Hello"}],"finish_reason":"stop"}]',
}

describe('mapSpan', () => {
  it('maps a GenAI span with the current message attributes to an event', () => {
    const r = mapSpan(span(CURRENT, { parentSpanId: '1111111111111111' }))
    expect(r.kind).toBe('genai')
    expect(r.event).toEqual({
      id: `otel-${T}-${S}`,
      ts: '2023-11-14T22:13:20.123456Z',
      model: {
        name: 'gpt-4o',
        version: 'gpt-4o-2024-08-06',
        params: { temperature: 0.2, top_p: 0.9, max_tokens: 200, stop_sequences: ['\n\n'] },
      },
      input: [
        { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
        { role: 'user', parts: [{ type: 'text', content: 'Hi' }] },
      ],
      output: [{ role: 'assistant', parts: [{ type: 'text', content: 'Hello' }], finish_reason: 'stop' }],
      latency_ms: { total: 1250 },
      usage: { input_tokens: 12, output_tokens: 34 },
      trace: { trace_id: T, span_id: S, parent_span_id: '1111111111111111', session_id: 'conv-9', user_id: 'u-1' },
      context: {
        tags: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.response.id': 'chatcmpl-1',
          'gen_ai.response.finish_reasons': 'stop',
          'service.name': 'shop',
          'otel.span.name': 'chat gpt-4o',
        },
      },
    })
    expect(r.feedback).toEqual([])
  })

  it('defaults the version to unversioned and input/output to null', () => {
    const r = mapSpan(span({ 'gen_ai.request.model': 'm', 'gen_ai.usage.prompt_tokens': '5', 'gen_ai.usage.completion_tokens': 1.5 }))
    expect(r.event?.model).toEqual({ name: 'm', version: 'unversioned' })
    expect(r.event?.input).toBeNull()
    expect(r.event?.output).toBeNull()
    expect(r.event?.usage).toEqual({ input_tokens: 5 })
  })

  it('reads the older prompt/completion events', () => {
    const ev = (name: string, attributes: Attributes): OtlpSpanEvent => ({ name, timeNs: 0n, attributes })
    const r = mapSpan(
      span(
        { 'gen_ai.request.model': 'm', 'gen_ai.system': 'openai' },
        {
          events: [
            ev('gen_ai.content.prompt', { 'gen_ai.prompt': '[{"role":"user","content":"Hi"}]' }),
            ev('gen_ai.content.completion', { 'gen_ai.completion': '[{"role":"assistant","content":"Yo"}]' }),
          ],
        },
      ),
    )
    expect(r.event?.input).toEqual([{ role: 'user', content: 'Hi' }])
    expect(r.event?.output).toEqual([{ role: 'assistant', content: 'Yo' }])
    expect((r.event?.context as { tags: object }).tags).toMatchObject({ 'gen_ai.provider.name': 'openai' })
  })

  it('reads per-message events and gen_ai.choice', () => {
    const ev = (name: string, attributes: Attributes): OtlpSpanEvent => ({ name, timeNs: 0n, attributes })
    const r = mapSpan(
      span(
        { 'gen_ai.request.model': 'm' },
        {
          events: [
            ev('gen_ai.system.message', { content: 'Be brief.' }),
            ev('gen_ai.user.message', { content: 'Hi' }),
            ev('gen_ai.choice', { index: 0, finish_reason: 'stop', message: '{"role":"assistant","content":"Yo"}' }),
          ],
        },
      ),
    )
    expect(r.event?.input).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ])
    expect(r.event?.output).toEqual([{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Yo' } }])
  })

  it('reads indexed prompt/completion attributes', () => {
    const r = mapSpan(
      span({
        'gen_ai.request.model': 'm',
        'gen_ai.prompt.1.role': 'user',
        'gen_ai.prompt.1.content': 'Hi',
        'gen_ai.prompt.0.role': 'system',
        'gen_ai.prompt.0.content': 'Be brief.',
        'gen_ai.completion.0.role': 'assistant',
        'gen_ai.completion.0.content': 'Yo',
      }),
    )
    expect(r.event?.input).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ])
    expect(r.event?.output).toEqual([{ role: 'assistant', content: 'Yo' }])
  })

  it('maps an error status', () => {
    const r = mapSpan(
      span({ 'gen_ai.request.model': 'm', 'error.type': 'rate_limit' }, { status: { code: 2, message: '429 from upstream' } }),
    )
    expect(r.event).toMatchObject({ status: 'error', error: { type: 'rate_limit', message: '429 from upstream' } })
    const r2 = mapSpan(span({ 'gen_ai.request.model': 'm' }, { status: { code: 2, message: '' } }))
    expect(r2.event).toMatchObject({ status: 'error', error: { type: 'error' } })
  })

  it('turns gen_ai.evaluation.result events into feedback with derived ids', () => {
    const at = 1700000002000000000n
    const r = mapSpan(
      span(
        { 'gen_ai.request.model': 'm' },
        {
          events: [
            {
              name: 'gen_ai.evaluation.result',
              timeNs: at,
              attributes: {
                'gen_ai.evaluation.name': 'relevance',
                'gen_ai.evaluation.score.value': 0.8,
                'gen_ai.evaluation.score.label': 'relevant',
                'gen_ai.evaluation.explanation': 'on topic',
              },
            },
            {
              name: 'gen_ai.evaluation.result',
              timeNs: at,
              attributes: { 'gen_ai.evaluation.name': 'toxicity', 'gen_ai.evaluation.score.label': 'pass' },
            },
            { name: 'gen_ai.evaluation.result', timeNs: at, attributes: { 'gen_ai.evaluation.name': 'broken', 'error.type': 'timeout' } },
            { name: 'gen_ai.evaluation.result', timeNs: at, attributes: {} },
          ],
        },
      ),
    )
    expect(r.feedback).toEqual([
      {
        id: otlpFeedbackId(T, S, 'relevance'),
        event_id: otlpEventId(T, S),
        name: 'relevance',
        value: 0.8,
        ts: nanosToTimestamp(at),
        comment: 'on topic',
        metadata: { label: 'relevant' },
      },
      { id: otlpFeedbackId(T, S, 'toxicity'), event_id: otlpEventId(T, S), name: 'toxicity', value: 'pass', ts: nanosToTimestamp(at) },
    ])
    expect(r.warnings).toEqual([
      expect.stringMatching(/events\[2\]: evaluation "broken" has no score or label \(error.type timeout\)/),
      expect.stringMatching(/events\[3\]: .* without gen_ai.evaluation.name/),
    ])
    expect(otlpFeedbackId(T, S, 'relevance')).not.toBe(otlpFeedbackId(T, S, 'toxicity'))
    expect(otlpFeedbackId(T, S, 'relevance').length).toBeLessThanOrEqual(128)
  })

  it('turns an evaluator span into feedback on its parent span', () => {
    const r = mapSpan(
      span(
        { 'gen_ai.evaluation.name': 'thumbs', 'gen_ai.evaluation.score.value': 1 },
        { name: 'gen_ai.evaluation.result', spanId: 'abababababababab', parentSpanId: S },
      ),
    )
    expect(r.kind).toBe('evaluation')
    expect(r.feedback[0]).toMatchObject({ id: otlpFeedbackId(T, S, 'thumbs'), event_id: otlpEventId(T, S), value: 1 })
  })

  it('leaves other spans alone', () => {
    expect(mapSpan(span({ 'http.method': 'GET' }, { name: 'GET /' }))).toEqual({ kind: 'other', feedback: [], warnings: [] })
    expect(mapSpan(span({ 'gen_ai.operation.name': 'execute_tool' })).kind).toBe('other')
  })
})
