import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { type DiagLogger, DiagLogLevel, diag, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { OTLPTraceExporter as HttpExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base'
import protobuf from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveServerConfig } from '../config.js'
import { silentLogger } from '../logging/logger.js'
import { type RunningServer, startServer } from '../server.js'
import { otlpEventId, otlpFeedbackId } from './genai-span-mapping.js'
import { OTLP_PROTO_DIR } from './otlp-protobuf.js'

const warnings: string[] = []
const diagLogger: DiagLogger = {
  error: (m, ...a) => warnings.push(`${m} ${a.join(' ')}`),
  warn: (m, ...a) => warnings.push(`${m} ${a.join(' ')}`),
  info: () => {},
  debug: () => {},
  verbose: () => {},
}

let server: RunningServer
let dir: string

beforeAll(async () => {
  diag.setLogger(diagLogger, DiagLogLevel.WARN)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-otlp-'))
  server = await startServer(resolveServerConfig({ port: 0, data: dir }, {}), silentLogger())
})

afterAll(async () => {
  diag.disable()
  await server?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Records GenAI spans as an instrumented app would, and returns them as the SDK hands them to exporters. */
async function recordSpans(model: string): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop-assistant' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  })
  const tracer = provider.getTracer('genai-test', '1.0.0')
  const chat = tracer.startSpan(`chat ${model}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': model,
      'gen_ai.response.model': `${model}-2024-08-06`,
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.max_tokens': 256,
      'gen_ai.usage.input_tokens': 21,
      'gen_ai.usage.output_tokens': 7,
      'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Where is my order?' }] }]),
      'gen_ai.output.messages': JSON.stringify([
        { role: 'assistant', parts: [{ type: 'text', content: 'It ships today.' }], finish_reason: 'stop' },
      ]),
    },
  })
  chat.addEvent('gen_ai.evaluation.result', {
    'gen_ai.evaluation.name': 'helpfulness',
    'gen_ai.evaluation.score.value': 0.9,
    'gen_ai.evaluation.explanation': 'answers the question',
  })
  chat.end()
  const failed = tracer.startSpan(`chat ${model}`, { attributes: { 'gen_ai.request.model': model, 'error.type': 'timeout' } })
  failed.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timed out' })
  failed.end()
  tracer.startSpan('GET /orders', { attributes: { 'http.request.method': 'GET' } }).end()
  await provider.forceFlush()
  const spans = memory.getFinishedSpans()
  await provider.shutdown()
  return spans
}

function exportWith(exporter: SpanExporter, spans: ReadableSpan[]): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(spans, (r) => resolve(r)))
}

async function getEvent(id: string) {
  const res = await fetch(`${server.url}/v1/events/${id}`)
  return { status: res.status, body: (await res.json()) as { event: Record<string, any>; feedback: Record<string, any>[] } }
}

async function counts() {
  const m = await server.core.metrics.ingestItems.get()
  const of = (kind: string, outcome: string) => m.values.find((v) => v.labels.kind === kind && v.labels.outcome === outcome)?.value ?? 0
  return { events: of('event', 'inserted'), eventDuplicates: of('event', 'duplicate'), feedbackDuplicates: of('feedback', 'duplicate') }
}

describe.each([
  ['OTLP/HTTP JSON', (url: string) => new HttpExporter({ url }), 'gpt-4o'],
  ['OTLP/HTTP protobuf, gzip', (url: string) => new ProtoExporter({ url, compression: 'gzip' as never }), 'gpt-4o-mini'],
])('the official %s exporter', (_name, makeExporter, model) => {
  it('stores GenAI spans as events and evaluations as feedback; a re-export is all duplicates', async () => {
    const spans = await recordSpans(model)
    const exporter = makeExporter(`${server.url}/v1/traces`)
    warnings.length = 0
    const before = await counts()
    expect((await exportWith(exporter, spans)).code).toBe(0)
    const [chat, failed] = spans
    const id = otlpEventId(chat!.spanContext().traceId, chat!.spanContext().spanId)
    const { status, body } = await getEvent(id)
    expect(status).toBe(200)
    expect(body.event).toMatchObject({
      id,
      model: { name: model, version: `${model}-2024-08-06`, params: { temperature: 0.3, max_tokens: 256 } },
      input: [{ role: 'user', parts: [{ type: 'text', content: 'Where is my order?' }] }],
      output: [{ role: 'assistant', parts: [{ type: 'text', content: 'It ships today.' }], finish_reason: 'stop' }],
      usage: { input_tokens: 21, output_tokens: 7 },
      trace: { trace_id: chat!.spanContext().traceId, span_id: chat!.spanContext().spanId },
      context: { tags: { 'service.name': 'shop-assistant', 'gen_ai.provider.name': 'openai' } },
    })
    expect(body.event.latency_ms.total).toBeGreaterThanOrEqual(0)
    expect(body.feedback).toEqual([
      expect.objectContaining({
        id: otlpFeedbackId(chat!.spanContext().traceId, chat!.spanContext().spanId, 'helpfulness'),
        name: 'helpfulness',
        value: 0.9,
        comment: 'answers the question',
      }),
    ])
    const err = await getEvent(otlpEventId(failed!.spanContext().traceId, failed!.spanContext().spanId))
    expect(err.body.event).toMatchObject({ status: 'error', error: { type: 'timeout', message: 'upstream timed out' }, output: null })
    // The HTTP span is counted and not stored; the exporter is told so as a partial success warning.
    expect(warnings.join('\n')).toMatch(/Partial Success.*1 span\(s\) without gen_ai.request.model/)
    const after = await counts()
    expect(after.events - before.events).toBe(2)

    expect((await exportWith(exporter, spans)).code).toBe(0)
    const again = await counts()
    expect(again.events).toBe(after.events)
    expect(again.eventDuplicates - after.eventDuplicates).toBe(2)
    expect(again.feedbackDuplicates - after.feedbackDuplicates).toBe(1)
    await exporter.shutdown()
  })
})

const TRACE = '0af7651916cd43dd8448eb211c80319c'
const okSpan = (spanId: string) => ({
  traceId: TRACE,
  spanId,
  name: 'chat',
  startTimeUnixNano: '1700000000000000000',
  endTimeUnixNano: '1700000000500000000',
  attributes: [{ key: 'gen_ai.request.model', value: { stringValue: 'm' } }],
})

async function post(body: BodyInit, contentType: string, extra: Record<string, string> = {}) {
  return fetch(`${server.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': contentType, ...extra } })
}

describe('malformed OTLP', () => {
  it('gets partial_success with counts and messages, and the good spans are stored', async () => {
    const body = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                okSpan('1000000000000001'),
                { ...okSpan('1000000000000002'), traceId: 'not-hex' },
                { ...okSpan('1000000000000003'), spanId: 'abcd' },
                { ...okSpan('1000000000000004'), attributes: [{ key: 'gen_ai.request.model', value: { intValue: 'x' } }] },
                { ...okSpan('1000000000000005'), kind: 'sideways' },
                { ...okSpan('1000000000000006'), shinyNewField: { a: 1 } },
                {
                  ...okSpan('1000000000000007'),
                  startTimeUnixNano: `${Date.now() + 7 * 86_400_000}000000`,
                  endTimeUnixNano: `${Date.now() + 7 * 86_400_000 + 1}000000`,
                },
              ],
            },
          ],
        },
      ],
    }
    const res = await post(JSON.stringify(body), 'application/json')
    expect(res.status).toBe(200)
    const reply = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } }
    expect(reply.partialSuccess.rejectedSpans).toBe('5')
    const msg = reply.partialSuccess.errorMessage
    expect(msg).toMatch(/5 of 7 spans rejected/)
    expect(msg).toMatch(/spans\[1\]\.traceId: expected 32 hex digits/)
    expect(msg).toMatch(/spans\[2\]\.spanId: expected 8 bytes/)
    expect(msg).toMatch(/spans\[3\]\.attributes\[0\]\.value\.intValue: expected an integer/)
    expect(msg).toMatch(/spans\[4\]\.kind/)
    expect(msg).toMatch(/spans\[6\]: event .*ts_out_of_range/)
    expect(msg).toMatch(/unknown field "shinyNewField" ignored/)
    expect(res.headers.get('x-inferlog-otlp')).toBe('spans=7; events=2; feedback=0; ignored=0; rejected=5')
    expect((await getEvent(otlpEventId(TRACE, '1000000000000001'))).status).toBe(200)
    expect((await getEvent(otlpEventId(TRACE, '1000000000000006'))).status).toBe(200)
  })

  it('answers protobuf with a protobuf ExportTraceServiceResponse', async () => {
    const root = new protobuf.Root()
    root.resolvePath = (_o, t) => path.join(OTLP_PROTO_DIR, t)
    root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto')
    const Req = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
    const Res = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse')
    const span = (id: string) => ({
      traceId: Buffer.from(TRACE, 'hex'),
      spanId: Buffer.from(id, 'hex'),
      name: 'chat',
      startTimeUnixNano: '1700000000000000000',
      attributes: [{ key: 'gen_ai.request.model', value: { stringValue: 'proto-model' } }],
    })
    const bytes = Req.encode(
      Req.fromObject({
        resourceSpans: [{ scopeSpans: [{ spans: [span('2000000000000001'), { ...span('20'), spanId: Buffer.from([1, 2]) }] }] }],
      }),
    ).finish()
    const res = await post(zlib.gzipSync(bytes), 'application/x-protobuf', { 'content-encoding': 'gzip' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/x-protobuf')
    const reply = Res.toObject(Res.decode(new Uint8Array(await res.arrayBuffer())), { longs: Number }) as {
      partialSuccess: { rejectedSpans: number; errorMessage: string }
    }
    expect(reply.partialSuccess.rejectedSpans).toBe(1)
    expect(reply.partialSuccess.errorMessage).toMatch(/spanId: expected 8 bytes \(16 hex digits\), got 2/)
    expect((await getEvent(otlpEventId(TRACE, '2000000000000001'))).body.event.model).toEqual({
      name: 'proto-model',
      version: 'unversioned',
    })
  })

  it('refuses what is not an export request with a 4xx, never a 500', async () => {
    expect((await post('{"resourceSpans": ', 'application/json')).status).toBe(400)
    expect((await post('[1,2]', 'application/json')).status).toBe(400)
    expect((await post('{"resourceSpans": {"a": 1}}', 'application/json')).status).toBe(400)
    expect((await post(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'application/x-protobuf')).status).toBe(400)
    expect((await post(new Uint8Array([0xff, 0xff]), 'application/x-protobuf')).status).toBe(400)
    expect((await post('x', 'text/csv')).status).toBe(415)
    expect((await post('not gzip', 'application/json', { 'content-encoding': 'gzip' })).status).toBe(400)
    const empty = await post('{}', 'application/json')
    expect(empty.status).toBe(200)
    expect(await empty.json()).toEqual({})
  })

  it('needs the ingest scope', async () => {
    const res = await post('{}', 'application/json', { authorization: 'Bearer nope' })
    expect(res.status).toBe(401)
  })
})
