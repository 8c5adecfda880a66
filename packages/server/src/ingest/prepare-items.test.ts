import { createRedactor } from '@inferlog/schema'
import { createValidator } from '@inferlog/schema/validate'
import { describe, expect, it } from 'vitest'
import { PARSED_BODY } from '../store/ports/parsed-body.js'
import { parseJsonBody, parseNdjson } from './parse-items.js'
import { type PrepareContext, prepareEvents, prepareFeedback } from './prepare-items.js'

const ctx = (extra: Partial<PrepareContext> = {}): PrepareContext => ({
  project: 'p',
  receivedMs: Date.parse('2026-12-02T10:00:00Z'),
  maxItemBytes: 1 << 20,
  maxFutureSkewMs: 60_000,
  validator: createValidator({ maxDepth: 32 }),
  ...extra,
})

const event = (extra: Record<string, unknown> = {}) => ({
  ts: '2026-12-02T09:59:00Z',
  model: { name: 'm', version: '1' },
  input: { text: 'write to me at ada@example.com', n: 3, nested: [1, { x: -0 }] },
  output: { label: 'yes', score: 0.75 },
  ...extra,
})

describe('prepared records carry the item their body is the JSON of', () => {
  it('NDJSON with ids: the client text is stored and its parse is carried', () => {
    const line = JSON.stringify(event({ id: 'e1' }))
    const out = prepareEvents(parseNdjson(Buffer.from(`${line}\n`), 1 << 20), ctx())
    const r = out.records[0]!.record
    expect(r.body).toBe(line)
    expect(r[PARSED_BODY]).toStrictEqual(JSON.parse(r.body))
  })

  it('a JSON array without ids: the re-serialized body with the assigned id, and the same item', () => {
    const out = prepareEvents(parseJsonBody(Buffer.from(JSON.stringify([event(), event()]))), ctx())
    expect(out.records).toHaveLength(2)
    for (const { record } of out.records) {
      expect(record.body).toContain(`"id":"${record.id}"`)
      expect(record[PARSED_BODY]).toStrictEqual(JSON.parse(record.body))
    }
  })

  it('a redacted item: the carried form is the redacted one that was stored, not what was sent', () => {
    const out = prepareEvents(parseJsonBody(Buffer.from(JSON.stringify(event({ id: 'e2' })))), ctx({ redactor: createRedactor(true) }))
    const r = out.records[0]!.record
    expect(r.body).not.toContain('ada@example.com')
    expect(r[PARSED_BODY]).toStrictEqual(JSON.parse(r.body))
  })

  it('feedback too, and a rejected item carries nothing anywhere', () => {
    const lines = [JSON.stringify({ event_id: 'e1', name: 'label', value: 'yes' }), JSON.stringify({ event_id: 'e1', name: 42 })]
    const out = prepareFeedback(parseNdjson(Buffer.from(lines.join('\n')), 1 << 20), ctx())
    expect(out.records).toHaveLength(1)
    expect(out.rejected.map((x) => x.index)).toEqual([1])
    const r = out.records[0]!.record
    expect(r[PARSED_BODY]).toStrictEqual(JSON.parse(r.body))
  })
})
