/** Retention policies and runs through the HTTP API on one store; partition drops where the store has partitions. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sealAll } from '../audit/audit-conformance.test-suite.js'
import { verifyChain } from '../audit/verify-chain.js'
import { callApp } from '../http/app-harness.test-suite.js'
import { createApp, type InferlogApp } from '../http/create-app.js'
import { silentLogger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import { RetentionScheduler } from './retention-scheduler.js'
import { storeRetention } from './store-erasure.js'

const DAY = 86_400_000

function ev(id: string, tsMs: number) {
  return { id, ts: new Date(tsMs).toISOString(), model: { name: 'm', version: '1' }, input: { id }, output: 1 }
}

export function describeRetentionConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`retention: ${name}`, () => {
    let store: Store
    let core: InferlogApp
    const now = Date.now()
    const req = (method: string, url: string, body?: unknown, project = 'default') =>
      callApp(core, method, url, body as object, { 'x-inferlog-project': project })

    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
      core = createApp({ store, logger: silentLogger() })
    })
    afterEach(async () => {
      await core.close()
      await store.close()
    })

    async function seed(project = 'default') {
      const r = await req(
        'POST',
        '/v1/events',
        [ev('old1', now - 100 * DAY), ev('old2', now - 40 * DAY), ev('new1', now - 10 * DAY)],
        project,
      )
      expect(r.json.accepted).toBe(3)
      const f = await req(
        'POST',
        '/v1/feedback',
        [
          { id: 'f-old', event_id: 'old1', name: 'label', value: 1, ts: new Date(now - 99 * DAY).toISOString() },
          { id: 'f-new', event_id: 'old2', name: 'label', value: 1, ts: new Date(now - 5 * DAY).toISOString() },
        ],
        project,
      )
      expect(f.json.accepted).toBe(2)
    }

    it('sets, shows and clears a policy, each change a chained record; refuses bad policies', async () => {
      expect((await req('GET', '/v1/retention')).json).toEqual({ project: 'default', policy: null })
      for (const bad of [
        {},
        { events_days: 0 },
        { events_days: 1.5 },
        { events_days: 40_000 },
        { events_days: '30' },
        { events_days: 30, feedback: 'no' },
        { events_days: 30, keep: 1 },
      ]) {
        const r = await req('PUT', '/v1/retention', bad)
        expect(r.status, JSON.stringify(bad)).toBe(400)
        expect(r.json.error.code).toBe('validation_failed')
      }
      const set = await req('PUT', '/v1/retention', { events_days: 30, reason: 'policy v2' })
      expect(set.status, set.text).toBe(200)
      expect(set.json.policy).toMatchObject({ events_days: 30, feedback: true })
      expect((await req('GET', '/v1/retention')).json.policy).toMatchObject({ events_days: 30, feedback: true })
      const cleared = await req('DELETE', '/v1/retention')
      expect(cleared.json).toMatchObject({ policy: null, record: expect.any(String) })
      expect((await req('GET', '/v1/retention')).json.policy).toBeNull()
      const records = (await store.auditRecords('default')).map((r) => JSON.parse(r.body))
      expect(records.map((b) => [b.type, b.details.events_days])).toEqual([
        ['retention_policy', null],
        ['retention_policy', 30],
      ])
      expect(records[1].reason).toBe('policy v2')
      expect((await req('POST', '/v1/retention/run')).status).toBe(404)
    })

    it('removes events and feedback older than the policy, keeps tombstones, and the chain still verifies', async () => {
      await seed()
      await sealAll(store)
      await req('PUT', '/v1/retention', { events_days: 30 })
      const dry = await req('POST', '/v1/retention/run', { dry_run: true })
      expect(dry.json).toMatchObject({ removed: { events: 2, feedback: 1 }, dry_run: true, records: [] })
      expect((await req('GET', '/v1/events/old1')).status).toBe(200)
      const run = await req('POST', '/v1/retention/run')
      expect(run.status, run.text).toBe(200)
      expect(run.json.removed).toEqual({ events: 2, feedback: 1 })
      expect(run.json.records.length).toBeGreaterThan(0)
      for (const id of ['old1', 'old2']) expect((await req('GET', `/v1/events/${id}`)).status).toBe(410)
      const kept = await req('GET', '/v1/events/new1')
      expect(kept.status).toBe(200)
      expect((await req('GET', '/v1/feedback?limit=10')).json.items.map((f: { id: string }) => f.id)).toEqual(['f-new'])
      // A re-send of an expired event is refused, not stored again.
      const again = await req('POST', '/v1/events', ev('old1', now - 100 * DAY))
      expect(again.json.rejected[0].code).toBe('erased')
      const second = await req('POST', '/v1/retention/run')
      expect(second.json.removed).toEqual({ events: 0, feedback: 0 })
      await sealAll(store)
      const v = await verifyChain(store)
      expect(v.errors).toEqual([])
      const recs = (await store.auditRecords('default')).map((r) => JSON.parse(r.body)).filter((b) => b.type === 'retention')
      // Row by row: a record for events, one for feedback; partition drops add a record each.
      expect(recs.length).toBeGreaterThanOrEqual(2)
      for (const rec of recs) expect(rec).toMatchObject({ actor: { key_id: null, name: 'operator' } })
      expect(recs.reduce((n, r) => n + r.counts.events, 0)).toBe(2)
      expect(recs.reduce((n, r) => n + r.counts.feedback, 0)).toBe(1)
    })

    it('keeps feedback when the policy says so; other projects are untouched', async () => {
      await seed()
      await seed('other')
      await req('PUT', '/v1/retention', { events_days: 30, feedback: false })
      const run = await req('POST', '/v1/retention/run')
      expect(run.json.removed).toEqual({ events: 2, feedback: 0 })
      expect((await req('GET', '/v1/feedback?limit=10')).json.items.map((f: { id: string }) => f.id).sort()).toEqual(['f-new', 'f-old'])
      expect((await req('GET', '/v1/events/old1', undefined, 'other')).status).toBe(200)
    })

    it('runs on a schedule in one process at a time', async () => {
      await seed()
      await req('PUT', '/v1/retention', { events_days: 30 })
      const a = new RetentionScheduler(store.derived, storeRetention(store).service, { holder: 'a', leaseMs: 60_000 })
      const b = new RetentionScheduler(store.derived, storeRetention(store).service, { holder: 'b', leaseMs: 60_000 })
      await a.tick()
      expect((await req('GET', '/v1/events/old1')).status).toBe(410)
      await req('POST', '/v1/events', ev('old3', now - 50 * DAY))
      await b.tick() // a holds the lease: b stands by
      expect((await req('GET', '/v1/events/old3')).status).toBe(200)
      await a.tick()
      expect((await req('GET', '/v1/events/old3')).status).toBe(410)
      await a.stop()
      await b.stop()
    })
  })
}
