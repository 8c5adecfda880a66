/** Retraining triggers on one store: schedule, alerts, since-last versions, a real webhook receiver, the lease. */
import { createHmac } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { callApp } from '../http/app-harness.test-suite.js'
import { createApp, type InferlogApp } from '../http/create-app.js'
import { silentLogger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import { DatasetBuilds } from './dataset-builds.js'
import { DatasetTriggers } from './dataset-triggers.js'

interface Received {
  headers: http.IncomingHttpHeaders
  body: string
}

const SECRET = 'a-shared-secret-of-32-characters'
const HOUR = 3_600_000

export function describeTriggerConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`dataset triggers: ${name}`, () => {
    // A fixed clock: schedules, alert windows and ingest's future-skew check all read it.
    const T0 = Date.UTC(2025, 5, 1, 12, 0, 0)
    let now = T0
    let store: Store
    let dir: string
    let core: InferlogApp
    let hook: http.Server
    let received: Received[]
    let respond: (n: number) => number | 'hang'

    beforeEach(async () => {
      now = T0
      received = []
      respond = () => 200
      store = await makeStore()
      await store.migrate()
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-trig-'))
      core = createApp({ store, logger: silentLogger(), now: () => now, datasets: { dir }, triggers: { retryBaseMs: 1_000 } })
      hook = http.createServer((req, res) => {
        let body = ''
        req.on('data', (d) => (body += d))
        req.on('end', () => {
          received.push({ headers: req.headers, body })
          const r = respond(received.length)
          if (r !== 'hang') res.writeHead(r).end()
        })
      })
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()))
    })
    afterEach(async () => {
      hook.closeAllConnections()
      await new Promise((r) => hook.close(r))
      await core.close()
      await store.close()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    const hookUrl = () => `http://127.0.0.1:${(hook.address() as AddressInfo).port}/train`
    const spec = {
      select: { model: 'clf' },
      feedback: { label: { name: 'label', aggregate: 'latest', missing: 'drop' } },
      label: { from: 'label' },
      format: 'jsonl',
    }
    let seq = 0
    async function ingest(n: number, o: { at?: number; x?: number } = {}) {
      const at = o.at ?? now - 60_000
      const events = Array.from({ length: n }, (_, i) => ({
        id: `e${seq + i}`,
        ts: new Date(at + i).toISOString(),
        model: { name: 'clf', version: '1' },
        input: { x: (o.x ?? 0) + (i % 40) },
        output: { label: i % 2 ? 'a' : 'b' },
      }))
      seq += n
      expect((await callApp(core, 'POST', '/v1/events', events)).json.accepted).toBe(n)
      const fb = events.map((e, i) => ({ id: `f-${e.id}`, event_id: e.id, name: 'label', value: i % 3 ? 'a' : 'b', ts: e.ts }))
      expect((await callApp(core, 'POST', '/v1/feedback', fb)).json.accepted).toBe(n)
    }
    const tick = () => core.triggers!.tick()
    const show = async () => (await callApp(core, 'GET', '/v1/datasets/churn/trigger')).json
    const versions = async () =>
      ((await callApp(core, 'GET', '/v1/datasets')).json.items.find((d: { name: string }) => d.name === 'churn')?.versions ?? []) as {
        id: string
      }[]

    it('builds on schedule as since-last versions, skips when nothing new arrived, and POSTs a signed manifest', async () => {
      await ingest(20)
      const set = await callApp(core, 'PUT', '/v1/datasets/churn/trigger', {
        spec,
        schedule: { every: '1h' },
        webhook: { url: hookUrl(), secret: SECRET },
      })
      expect(set.status, set.text).toBe(200)
      expect(set.json.next_run_at).toBe(new Date(T0 + HOUR).toISOString())
      expect(set.json.trigger.webhook).toEqual({ url: hookUrl(), has_secret: true })
      expect(JSON.stringify(set.json)).not.toContain(SECRET)

      expect(await tick()).toBe(true)
      expect(await versions()).toEqual([]) // not due yet
      now = T0 + HOUR + 1
      await tick()
      expect((await versions()).map((v) => v.id)).toEqual(['churn@1'])
      expect(received).toHaveLength(1)
      const first = received[0]!
      const ts = first.headers['x-inferlog-timestamp'] as string
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${first.body}`).digest('hex')}`
      expect(first.headers['x-inferlog-signature']).toBe(expected)
      const payload = JSON.parse(first.body)
      expect(payload).toMatchObject({
        type: 'dataset.version',
        id: 'churn@1',
        name: 'churn',
        version: 1,
        trigger: { name: 'churn', reason: 'schedule' },
      })
      expect(payload.manifest.counts.written).toBe(20)
      expect(payload.manifest.parent).toBeNull()

      // Due again, nothing committed since: no version, no delivery, a skipped run.
      now = T0 + 2 * HOUR + 1
      await tick()
      expect(await versions()).toHaveLength(1)
      expect(received).toHaveLength(1)
      let runs = (await show()).runs
      expect(runs[0]).toMatchObject({ reason: 'schedule', state: 'skipped', webhook: { state: 'none' } })
      expect(runs[1]).toMatchObject({ state: 'built', dataset_id: 'churn@1', rows: 20, webhook: { state: 'delivered', attempts: 1 } })

      // Events outside the selection committed: built, but no row to write: still no version.
      await callApp(core, 'POST', '/v1/events', [
        { id: 'other', ts: new Date(now).toISOString(), model: { name: 'zzz', version: '1' }, input: 1, output: 2 },
      ])
      now = T0 + 3 * HOUR + 1
      await tick()
      expect(await versions()).toHaveLength(1)
      expect((await show()).runs[0]).toMatchObject({ state: 'skipped' })

      // New labelled events: the next version holds only them and names its parent.
      await ingest(7)
      now = T0 + 4 * HOUR + 1
      await tick()
      expect((await versions()).map((v) => v.id)).toEqual(['churn@1', 'churn@2'])
      const second = JSON.parse(received[1]!.body)
      expect(second.manifest.counts.written).toBe(7)
      expect(second.manifest.parent).toMatchObject({ id: 'churn@1', watermark: payload.manifest.watermark })
      expect(second.manifest.after_batch).toBe(payload.manifest.watermark)
      runs = (await show()).runs
      expect(runs[0]).toMatchObject({ state: 'built', dataset_id: 'churn@2', rows: 7, webhook: { state: 'delivered' } })
      expect((await show()).next_run_at).toBe(new Date(T0 + 5 * HOUR).toISOString())
    })

    it('keeps the built version when the webhook fails, retrying with back-off until it answers or attempts run out', async () => {
      await ingest(10)
      respond = (n) => (n <= 2 ? 500 : 200)
      await callApp(core, 'PUT', '/v1/datasets/churn/trigger', {
        spec,
        schedule: { every: '1d' },
        webhook: { url: hookUrl(), secret: SECRET, max_attempts: 5 },
      })
      expect((await callApp(core, 'POST', '/v1/datasets/churn/trigger/run', {})).status).toBe(202)
      await tick()
      expect((await versions()).map((v) => v.id)).toEqual(['churn@1'])
      let run = (await show()).runs[0]
      expect(run).toMatchObject({
        reason: 'manual',
        state: 'built',
        webhook: { state: 'pending', attempts: 1, last_status: 500, last_error: 'HTTP 500' },
      })
      expect(run.webhook.next_attempt_at).toBe(new Date(now + 1_000).toISOString())
      await tick() // too early for the retry
      expect(received).toHaveLength(1)
      now += 1_000
      await tick()
      run = (await show()).runs[0]
      expect(run.webhook).toMatchObject({ state: 'pending', attempts: 2 })
      expect(run.webhook.next_attempt_at).toBe(new Date(now + 2_000).toISOString())
      now += 2_000
      await tick()
      expect((await show()).runs[0].webhook).toMatchObject({ state: 'delivered', attempts: 3, last_status: 200, last_error: null })
      // Every attempt of one version carries the same delivery id (receivers dedupe on it).
      expect(new Set(received.map((r) => r.headers['x-inferlog-delivery'])).size).toBe(1)

      // A receiver that hangs: each attempt times out; after max_attempts the delivery is failed, the version stays.
      await ingest(5)
      respond = () => 'hang'
      await callApp(core, 'PUT', '/v1/datasets/churn/trigger', {
        spec,
        schedule: { every: '1d' },
        webhook: { url: hookUrl(), timeout_ms: 200, max_attempts: 2 },
      })
      await callApp(core, 'POST', '/v1/datasets/churn/trigger/run', {})
      await tick()
      now += 60_000
      await tick()
      run = (await show()).runs[0]
      expect(run).toMatchObject({
        state: 'built',
        dataset_id: 'churn@2',
        webhook: { state: 'failed', attempts: 2, last_error: 'timeout after 200 ms' },
      })
      expect((await versions()).map((v) => v.id)).toEqual(['churn@1', 'churn@2'])
      expect(received.at(-1)!.headers['x-inferlog-signature']).toBeUndefined()
    })

    it('builds when a drift alert rule fires, once per firing', async () => {
      await ingest(150, { at: now - 5 * HOUR, x: 0 })
      await callApp(core, 'PUT', '/v1/alerts/rules', {
        rules: [
          {
            id: 'x-drift',
            condition: {
              type: 'drift',
              fields: ['input.x'],
              filter: { model: 'clf' },
              reference: { model: 'clf', from: new Date(now - 6 * HOUR).toISOString(), to: new Date(now - 4 * HOUR).toISOString() },
            },
            window: '1h',
            operator: '>=',
            threshold: 0.5,
            min_samples: 50,
          },
        ],
      })
      const set = await callApp(core, 'PUT', '/v1/datasets/churn/trigger', { spec, on_alert: ['x-drift'], webhook: { url: hookUrl() } })
      expect(set.json.next_run_at).toBeNull()
      await tick()
      expect(await versions()).toEqual([])
      now += 60_000
      await ingest(100, { at: now - 30 * 60_000, x: 500 })
      expect((await callApp(core, 'POST', '/v1/alerts/evaluate', {})).json.transitions).toEqual([
        { project: 'default', id: 'x-drift', transition: 'fired' },
      ])
      await tick()
      expect((await versions()).map((v) => v.id)).toEqual(['churn@1'])
      expect((await show()).runs[0]).toMatchObject({ reason: 'alert', alerts: ['x-drift'], state: 'built', rows: 250 })
      expect(JSON.parse(received[0]!.body).trigger).toMatchObject({ reason: 'alert', alerts: ['x-drift'] })
      // Still firing: no new transition, so no new build.
      now += 60_000
      await callApp(core, 'POST', '/v1/alerts/evaluate', {})
      await tick()
      expect(await versions()).toHaveLength(1)
      expect((await show()).runs).toHaveLength(1)
    })

    it('runs on one process at a time, and another takes over when the holder stops', async () => {
      await ingest(12)
      await callApp(core, 'PUT', '/v1/datasets/churn/trigger', { spec, schedule: { every: '1h' }, webhook: { url: hookUrl() } })
      const builds = new DatasetBuilds(store, { dir })
      const opts = { now: () => now, leaseMs: 3_000, logger: silentLogger() }
      const a = new DatasetTriggers(store.derived, builds, { ...opts, holder: 'a' })
      const b = new DatasetTriggers(store.derived, builds, { ...opts, holder: 'b' })
      now = T0 + HOUR + 1
      const [ra, rb] = await Promise.all([a.tick(), b.tick()])
      expect([ra, rb].filter(Boolean)).toHaveLength(1)
      expect(await b.tick()).toBe(ra ? false : true)
      expect((await versions()).map((v) => v.id)).toEqual(['churn@1'])
      expect(received).toHaveLength(1)
      const holder = ra ? a : b
      const other = ra ? b : a
      await ingest(3)
      now = T0 + 2 * HOUR + 1
      expect(await other.tick()).toBe(false)
      // The holder stops renewing; once its lease runs out the other takes over.
      await new Promise((r) => setTimeout(r, 3_200))
      expect(await other.tick()).toBe(true)
      expect(await holder.tick()).toBe(false)
      expect((await versions()).map((v) => v.id)).toEqual(['churn@1', 'churn@2'])
      expect(received).toHaveLength(2)
    })

    it('rejects a bad trigger whole with the path of every problem, and 404s what does not exist', async () => {
      const bad = await callApp(core, 'PUT', '/v1/datasets/churn/trigger', {
        spec: { select: { model: 1 }, format: 'xlsx' },
        schedule: { every: '5s' },
        webhook: { url: 'ftp://x', secret: 'short' },
        colour: 'red',
      })
      expect(bad.status).toBe(400)
      expect(bad.json.error.code).toBe('validation_failed')
      const paths = bad.json.error.details.map((d: { path: string }) => d.path)
      expect(paths).toEqual(expect.arrayContaining(['/colour', '/webhook/url', '/webhook/secret', '/spec/select/model', '/spec/format']))
      const cron = await callApp(core, 'PUT', '/v1/datasets/churn/trigger', { spec, schedule: { cron: '61 * * * *' } })
      expect(cron.json.error.details).toEqual([expect.objectContaining({ path: '/schedule/cron' })])
      const none = await callApp(core, 'PUT', '/v1/datasets/churn/trigger', { spec })
      expect(none.json.error.details[0].message).toMatch(/schedule, on_alert, or both/)
      const tz = await callApp(core, 'PUT', '/v1/datasets/churn/trigger', { spec, schedule: { cron: '0 3 * * *', timezone: 'Mars/Base' } })
      expect(tz.json.error.details).toEqual([expect.objectContaining({ path: '/schedule/timezone' })])
      expect((await callApp(core, 'PUT', '/v1/datasets/bad%20name/trigger', { spec, schedule: { every: '1h' } })).status).toBe(400)
      expect((await callApp(core, 'GET', '/v1/datasets/churn/trigger')).status).toBe(404)
      expect((await callApp(core, 'DELETE', '/v1/datasets/churn/trigger')).status).toBe(404)
      expect((await callApp(core, 'POST', '/v1/datasets/churn/trigger/run', {})).status).toBe(404)
      const ok = await callApp(core, 'PUT', '/v1/datasets/churn/trigger', {
        spec,
        schedule: { cron: '30 3 * * 1', timezone: 'Europe/Paris' },
      })
      expect(ok.status).toBe(200)
      // Monday 2 June 2025 03:30 in Paris (CEST, UTC+2).
      expect(ok.json.next_run_at).toBe('2025-06-02T01:30:00.000Z')
      expect((await callApp(core, 'DELETE', '/v1/datasets/churn/trigger')).status).toBe(204)
      expect((await callApp(core, 'GET', '/v1/datasets/churn/trigger')).status).toBe(404)
    })

    it('attaches a version built by a process that died before recording it, and announces it', async () => {
      await ingest(4)
      await callApp(core, 'PUT', '/v1/datasets/churn/trigger', { spec, schedule: { every: '1d' }, webhook: { url: hookUrl() } })
      const db = store.derived.db
      // A run left `running` by a dead holder, whose version did get published.
      await store.derived.write([
        db
          .insertInto('dataset_trigger_runs')
          .values({
            project: 'default',
            name: 'churn',
            id: 'dead-run',
            at_ms: Date.now() - 5_000,
            reason: 'schedule',
            alerts: null,
            state: 'running',
            heartbeat_ms: now - HOUR,
            dataset_id: null,
            result: null,
            webhook_state: 'none',
            attempts: 0,
            next_attempt_ms: null,
            last_status: null,
            last_error: null,
            delivered_ms: null,
          })
          .compile(),
      ])
      await new DatasetBuilds(store, { dir }).build('default', 'churn', spec, false)
      await tick()
      const run = (await show()).runs.find((r: { id: string }) => r.id === 'dead-run')
      expect(run).toMatchObject({ state: 'built', dataset_id: 'churn@1', recovered: true, webhook: { state: 'delivered' } })
      expect(JSON.parse(received[0]!.body).id).toBe('churn@1')
    })
  })
}
