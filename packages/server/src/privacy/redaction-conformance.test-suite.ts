/** Server-side redaction through the HTTP API on one store: what is stored, what counts as a re-send, what is refused. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sealAll } from '../audit/audit-conformance.test-suite.js'
import { verifyChain } from '../audit/verify-chain.js'
import { callApp } from '../http/app-harness.test-suite.js'
import { createApp, type InferlogApp } from '../http/create-app.js'
import { silentLogger } from '../logging/logger.js'
import type { Store } from '../store/store.js'

const T0 = Date.UTC(2026, 10, 5)

function ev(id: string, ssn: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    ts: new Date(T0).toISOString(),
    model: { name: 'm', version: '1' },
    input: { ssn, text: 'write to jane.doe@example.com today', age: 41 },
    output: { ok: true },
    trace: { user_id: 'u-1', session_id: 's-1' },
    ...extra,
  }
}

export function describeRedactionConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`server-side redaction: ${name}`, () => {
    let store: Store
    let core: InferlogApp
    const req = (method: string, url: string, body?: unknown) => callApp(core, method, url, body as object)

    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
      core = createApp({ store, logger: silentLogger() })
    })
    afterEach(async () => {
      await core.close()
      await store.close()
    })

    it('refuses rules that are malformed or would drop what identifies a record', async () => {
      const cases: [unknown, RegExp][] = [
        [{ paths: 'input.ssn' }, /paths must be a list/],
        [{ paths: [''] }, /paths\[0\]/],
        [{ paths: ['input..ssn'] }, /empty segment/],
        [{ paths: ['id'] }, /identifies the record/],
        [{ paths: ['model.name'] }, /identifies the record/],
        [{ paths: ['*.x'] }, /identifies the record/],
        [{ paths: ['input'] }, /required field/],
        [{ paths: Array.from({ length: 101 }, (_, i) => `input.f${i}`) }, /at most 100 paths/],
        [{ detectors: ['ssn'] }, /detectors\[0\] must be one of email, phone, card/],
        [{ detectors: 'email' }, /detectors must be a list/],
        [{ paths: [7] }, /paths\[0\]/],
        [{ mask: true }, /unknown field "mask"/],
      ]
      for (const [body, message] of cases) {
        const r = await req('PUT', '/v1/redaction', body)
        expect(r.status, JSON.stringify(body)).toBe(400)
        expect(r.json.error.message).toMatch(message)
      }
      expect((await req('GET', '/v1/redaction')).json).toEqual({ project: 'default', rules: null })
    })

    it('redacts before storing, keeps duplicate detection on what the client sent, and the chain covers what is stored', async () => {
      const set = await req('PUT', '/v1/redaction', { paths: ['input.ssn', 'trace.user_id'], detectors: ['email'], reason: 'DPA 4.2' })
      expect(set.status, set.text).toBe(200)
      expect(set.json.rules).toMatchObject({ paths: ['input.ssn', 'trace.user_id'], detectors: ['email'] })
      expect((await req('GET', '/v1/redaction')).json.rules).toMatchObject({ detectors: ['email'] })

      expect((await req('POST', '/v1/events', ev('r1', '123-45-6789'))).json.accepted).toBe(1)
      const stored = (await req('GET', '/v1/events/r1')).json.event
      expect(stored.input).toEqual({ text: 'write to [REDACTED:email] today', age: 41 })
      expect(stored.trace).toEqual({ session_id: 's-1' })
      expect((await req('GET', '/v1/events?user_id=u-1')).json.items).toEqual([])
      expect((await req('GET', '/v1/events?session_id=s-1')).json.items.map((e: { id: string }) => e.id)).toEqual(['r1'])

      // A re-send of what the client sent is a duplicate; other content that redacts the same is a conflict.
      const again = await req('POST', '/v1/events', [ev('r1', '123-45-6789'), ev('r1', '999-99-9999')])
      expect(again.json).toMatchObject({ accepted: 0, duplicates: 1 })
      expect(again.json.rejected).toEqual([expect.objectContaining({ index: 1, code: 'conflict' })])

      // Feedback is redacted too.
      await req('POST', '/v1/feedback', { id: 'fb1', event_id: 'r1', name: 'note', value: 'call me', comment: 'mail: a.b@example.org' })
      expect((await req('GET', '/v1/feedback?event_id=r1')).json.items[0].comment).toBe('mail: [REDACTED:email]')

      // Rules removed: new items are stored as sent, and the earlier one is still a duplicate of what was sent then.
      const cleared = await req('DELETE', '/v1/redaction')
      expect(cleared.json).toMatchObject({ rules: null, record: expect.any(String) })
      expect((await req('POST', '/v1/events', ev('r1', '123-45-6789'))).json.duplicates).toBe(1)
      await req('POST', '/v1/events', ev('r2', '111-22-3333'))
      expect((await req('GET', '/v1/events/r2')).json.event.input.ssn).toBe('111-22-3333')

      const records = (await store.auditRecords('default')).map((r) => JSON.parse(r.body)).filter((b) => b.type === 'redaction_rules')
      expect(records.map((r) => r.details)).toEqual([
        { paths: [], detectors: [] },
        { paths: ['input.ssn', 'trace.user_id'], detectors: ['email'] },
      ])
      expect(records[1].reason).toBe('DPA 4.2')
      await sealAll(store)
      expect((await verifyChain(store)).errors).toEqual([])
    })

    it('detectors default to all three, as in the SDK', async () => {
      await req('PUT', '/v1/redaction', { paths: [] })
      await req('POST', '/v1/events', ev('d1', 'x', { input: { text: 'card 4111 1111 1111 1111, phone +1 415 555 0100' } }))
      expect((await req('GET', '/v1/events/d1')).json.event.input.text).toBe('card [REDACTED:card], phone [REDACTED:phone]')
    })
  })
}
