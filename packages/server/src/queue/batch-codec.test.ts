import { describe, expect, it } from 'vitest'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import { batchId, decodeBatch, encodeBatch, encodeInParts } from './batch-codec.js'

describe('batch codec', () => {
  it('round-trips every field and body byte for byte', () => {
    const batch = {
      events: [
        eventRecord(
          { id: 'e1', sessionId: 's', userId: 'u', arm: 'a', shadowOf: 'x', stage: 'shadow', status: 'error' },
          { input: 'héllo 📦 "q" \\ \n' },
        ),
        eventRecord({ id: 'e2', project: 'p2' }),
      ],
      feedback: [feedbackRecord({ id: 'f1', eventId: 'e1' }, { deep: [1, '😀'] })],
    }
    const bytes = encodeBatch(batch)
    expect(decodeBatch(bytes)).toEqual(batch)
    expect(batchId(bytes)).toBe(batchId(encodeBatch(batch)))
    expect(batchId(bytes)).not.toBe(batchId(encodeBatch({ ...batch, feedback: [] })))
  })

  it('carries the sent digest of redacted records, and encodes records without one as before', () => {
    const plain = { events: [eventRecord({ id: 'p' })], feedback: [feedbackRecord({ id: 'q', eventId: 'p' })] }
    const digest = 'ab'.repeat(32)
    const redacted = {
      events: [{ ...plain.events[0]!, sentDigest: digest }],
      feedback: [{ ...plain.feedback[0]!, sentDigest: digest }],
    }
    expect(decodeBatch(encodeBatch(redacted))).toEqual(redacted)
    const bytes = encodeBatch(plain)
    expect(decodeBatch(bytes)).toEqual(plain)
    expect(bytes.toString('utf8')).not.toContain('sentDigest')
    expect(encodeBatch(redacted).length - bytes.length).toBe(2 * (digest.length + 3))
  })

  it('refuses what is not its format and truncated messages', () => {
    expect(() => decodeBatch(Buffer.from('hello\n{}'))).toThrow(/not an/)
    const bytes = encodeBatch({ events: [eventRecord({ id: 'e' })], feedback: [] })
    expect(() => decodeBatch(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/)
    expect(() => decodeBatch(Buffer.concat([bytes, Buffer.from('x')]))).toThrow(/trailing/)
  })

  it('refuses a lone surrogate instead of altering it', () => {
    const e = eventRecord({ id: 'e' })
    expect(() => encodeBatch({ events: [{ ...e, body: e.body.replace('"output":1', '"output":"\ud800"') }], feedback: [] })).toThrow(
      /surrogate/,
    )
  })

  it('splits a large group into parts under the size limit, in order and deterministically', () => {
    const events = Array.from({ length: 500 }, (_, i) => eventRecord({ id: `e${i}` }, { input: 'x'.repeat(1000) }))
    const feedback = Array.from({ length: 300 }, (_, i) => feedbackRecord({ id: `f${i}`, eventId: `e${i}` }))
    const parts = encodeInParts({ events, feedback }, 100_000)
    expect(parts.length).toBeGreaterThan(5)
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(100_000)
    const back = parts.map(decodeBatch)
    expect(back.flatMap((b) => b.events)).toEqual(events)
    expect(back.flatMap((b) => b.feedback)).toEqual(feedback)
    expect(encodeInParts({ events, feedback }, 100_000).map(batchId)).toEqual(parts.map(batchId))
  })
})
