import { describe, expect, it } from 'vitest'
import { InferlogError } from '../errors.js'
import { readExportRequest } from './read-export-request.js'

const TRACE = '5b8efff798038103d269b633813fc60c'
const SPAN = 'eee19b7ec3c1b174'

function span(extra: Record<string, unknown> = {}) {
  return {
    traceId: TRACE,
    spanId: SPAN,
    name: 'chat gpt-4o',
    kind: 3,
    startTimeUnixNano: '1700000000123456789',
    endTimeUnixNano: '1700000001123456789',
    attributes: [
      { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
      { key: 'gen_ai.request.max_tokens', value: { intValue: '100' } },
      { key: 'gen_ai.request.temperature', value: { doubleValue: 0.2 } },
      { key: 'flag', value: { boolValue: true } },
      { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }] } } },
      { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } } },
      { key: 'big', value: { intValue: '9007199254740993' } },
      { key: 'raw', value: { bytesValue: 'AQI=' } },
      { key: 'empty', value: {} },
    ],
    status: { code: 1 },
    ...extra,
  }
}

function request(spans: unknown[], resource: unknown = { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }) {
  return { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'lib', version: '1' }, spans }] }] }
}

describe('readExportRequest', () => {
  it('reads OTLP/JSON spans: hex ids, nanosecond times, every AnyValue kind', () => {
    const d = readExportRequest(request([span({ parentSpanId: 'AAAAAAAAAAAAAAAA' })]))
    expect(d.problems).toEqual([])
    expect(d.warnings).toEqual([])
    const s = d.spans[0]!
    expect(s.traceId).toBe(TRACE)
    expect(s.parentSpanId).toBe('aaaaaaaaaaaaaaaa')
    expect(s.startNs).toBe(1700000000123456789n)
    expect(s.kind).toBe(3)
    expect(s.status.code).toBe(1)
    expect(s.resource).toEqual({ 'service.name': 'svc' })
    expect(s.scope).toEqual({ name: 'lib', version: '1' })
    expect(s.attributes).toEqual({
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.max_tokens': 100,
      'gen_ai.request.temperature': 0.2,
      flag: true,
      list: ['a', 2],
      map: { k: 'v' },
      big: '9007199254740993',
      raw: 'AQI=',
      empty: null,
    })
  })

  it('takes snake_case field names and enum names as proto3 JSON readers do', () => {
    const d = readExportRequest({
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                {
                  trace_id: TRACE,
                  span_id: SPAN,
                  kind: 'SPAN_KIND_CLIENT',
                  start_time_unix_nano: 1700000000000000000 / 1e9,
                  status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
                  attributes: [{ key: 'x', value: { string_value: 'y' } }],
                },
              ],
            },
          ],
        },
      ],
    })
    expect(d.problems).toEqual([])
    expect(d.spans[0]!.kind).toBe(3)
    expect(d.spans[0]!.status).toEqual({ code: 2, message: 'boom' })
    expect(d.spans[0]!.attributes).toEqual({ x: 'y' })
  })

  it('reads protobuf-decoded objects: ids as bytes', () => {
    const d = readExportRequest(
      request([span({ traceId: Buffer.from(TRACE, 'hex'), spanId: new Uint8Array(Buffer.from(SPAN, 'hex')), parentSpanId: undefined })]),
    )
    expect(d.problems).toEqual([])
    expect(d.spans[0]!.traceId).toBe(TRACE)
    expect(d.spans[0]!.spanId).toBe(SPAN)
    expect(d.spans[0]!.parentSpanId).toBeUndefined()
  })

  it('refuses a span with a bad id, a wrong type or no start, and keeps its neighbours', () => {
    const d = readExportRequest(
      request([
        span({ traceId: 'xyz' }),
        span({ spanId: '00000000000000000' }),
        span({ spanId: '0000000000000000' }),
        span({ startTimeUnixNano: 'soon' }),
        span({ name: 42 }),
        span({ attributes: [{ key: 'n', value: { intValue: 'ten' } }] }),
        span({ attributes: [{ key: 'n', value: { stringValue: 'a', intValue: 1 } }] }),
        span({ startTimeUnixNano: undefined }),
        span({ endTimeUnixNano: '1' }),
        span(),
      ]),
    )
    expect(d.spans).toHaveLength(1)
    expect(d.problems.map((p) => p.spans)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1])
    const messages = d.problems.map((p) => p.message)
    expect(messages[0]).toMatch(/spans\[0\]\.traceId: expected 32 hex digits/)
    expect(messages[1]).toMatch(/spans\[1\]\.spanId: expected 8 bytes/)
    expect(messages[2]).toMatch(/all zeros/)
    expect(messages[3]).toMatch(/startTimeUnixNano: expected unsigned nanoseconds/)
    expect(messages[4]).toMatch(/spans\[4\]\.name: expected a string, got number 42/)
    expect(messages[5]).toMatch(/intValue: expected an integer/)
    expect(messages[6]).toMatch(/more than one value/)
    expect(messages[7]).toMatch(/startTimeUnixNano: missing/)
    expect(messages[8]).toMatch(/ends before it starts/)
  })

  it('refuses every span under an unreadable resource or scope, counting them', () => {
    const d = readExportRequest({
      resourceSpans: [
        { resource: { attributes: 'nope' }, scopeSpans: [{ spans: [span(), span()] }] },
        { scopeSpans: [{ scope: 7, spans: [span(), span(), span()] }, { spans: [span()] }] },
      ],
    })
    expect(d.spans).toHaveLength(1)
    expect(d.problems).toEqual([
      { path: 'resourceSpans[0]', message: expect.stringMatching(/resource\.attributes: expected an array/), spans: 2 },
      { path: 'resourceSpans[1].scopeSpans[0]', message: expect.stringMatching(/scope: expected an object/), spans: 3 },
    ])
  })

  it('ignores unknown fields with a warning', () => {
    const d = readExportRequest({ ...request([span({ futureField: 1 })]), extra: true })
    expect(d.spans).toHaveLength(1)
    expect(d.warnings).toEqual([
      'request: unknown field "extra" ignored',
      'resourceSpans[0].scopeSpans[0].spans[0]: unknown field "futureField" ignored',
    ])
  })

  it('refuses a body that is no export request at all', () => {
    expect(() => readExportRequest([])).toThrow(InferlogError)
    expect(() => readExportRequest({ resourceSpans: {} })).toThrow(/resourceSpans: expected an array/)
    expect(readExportRequest({})).toEqual({ spans: [], problems: [], warnings: [] })
  })
})
