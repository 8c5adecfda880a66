import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { minimalExampleEvent } from '@inferlog/schema'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defaultConsumers } from '../feed/default-consumers.js'
import { FeedRunner } from '../feed/feed-runner.js'
import { type AppHarness, openAppHarness } from '../http/app-harness.test-suite.js'

// Recent times: the metrics consumer keeps minute buckets of the last days only (real clock).
const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000
let now = T0
let h: AppHarness
let hook: http.Server
let received: { body: string; status: number }[]
let hookStatus = 200
let hookHang = false

beforeEach(async () => {
  now = T0
  received = []
  hookStatus = 200
  hookHang = false
  h = await openAppHarness({ now: () => now, alerts: { webhookTimeoutMs: 2_000 } }) // a loaded box can take 300 ms to answer a healthy webhook
  hook = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      received.push({ body, status: hookStatus })
      if (!hookHang) res.writeHead(hookStatus).end()
    })
  })
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()))
})
afterEach(async () => {
  hook.closeAllConnections()
  await new Promise((r) => hook.close(r))
  await h.close()
})

const url = () => `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`
const rule = (over: object = {}) => ({
  id: 'errors',
  condition: { type: 'metric', metric: 'error_rate', filter: { model: 'm' } },
  window: '1h',
  operator: '>',
  threshold: 0.2,
  min_samples: 50,
  webhook: url(),
  ...over,
})
async function ingest(n: number, errorShare: number) {
  const evs = Array.from({ length: n }, (_, i) => {
    const e = minimalExampleEvent({ model: { name: 'm', version: '1' }, ts: new Date(now - 60_000).toISOString() })
    return i < n * errorShare ? { ...e, status: 'error', error: { type: 'x', message: 'y' }, output: undefined } : e
  })
  expect((await h.post('/v1/events', evs)).json.accepted).toBe(n)
  await new FeedRunner(h.store, defaultConsumers(h.store)).catchUp()
}
const evaluate = async () => (await h.post('/v1/alerts/evaluate', {})).json.transitions

describe('alerts', () => {
  it('fires, announces, resolves, and never fires on fewer events than its minimum', async () => {
    expect((await h.req('PUT', '/v1/alerts/rules', { rules: [rule()] })).status).toBe(200)
    await ingest(20, 1)
    expect(await evaluate()).toEqual([]) // 20 errors out of 20, but under min_samples
    await ingest(40, 0.5)
    expect(await evaluate()).toEqual([{ project: 'default', id: 'errors', transition: 'fired' }])
    expect(await evaluate()).toEqual([]) // still firing: no new transition
    expect(received).toHaveLength(1)
    expect(JSON.parse(received[0]!.body)).toMatchObject({ rule_id: 'errors', transition: 'fired', n: 60, threshold: 0.2 })
    // Two hours later the window holds only healthy traffic.
    now += 2 * 3_600_000
    await ingest(100, 0)
    expect(await evaluate()).toEqual([{ project: 'default', id: 'errors', transition: 'resolved' }])
    const view = (await h.get('/v1/alerts')).json
    expect(view.rules[0]).toMatchObject({ state: 'ok', rule: { id: 'errors' } })
    const bad = await h.get('/v1/alerts?limit=5')
    expect([bad.status, bad.json.error.code, bad.json.error.message]).toEqual([
      400,
      'invalid_parameter',
      expect.stringContaining('"limit"'),
    ])
    expect(
      view.transitions.map((t: { transition: string; webhook: { delivered: boolean } }) => [t.transition, t.webhook.delivered]),
    ).toEqual([
      ['resolved', true],
      ['fired', true],
    ])
  })

  it('retries a failing webhook and gives up on a hanging one without slowing evaluation', async () => {
    await h.req('PUT', '/v1/alerts/rules', { rules: [rule()] })
    hookStatus = 500
    await ingest(60, 1)
    await evaluate()
    expect(received).toHaveLength(1)
    let view = (await h.get('/v1/alerts')).json
    expect(view.transitions[0].webhook).toMatchObject({ delivered: false, attempts: 1, last_error: 'HTTP 500' })
    hookStatus = 200
    now += 60_000
    await h.post('/v1/alerts/evaluate', {})
    view = (await h.get('/v1/alerts')).json
    expect(view.transitions[0].webhook).toMatchObject({ delivered: true, attempts: 2 })
    hookHang = true
    now += 2 * 3_600_000
    await ingest(60, 0)
    // A hanging receiver costs evaluation at most the webhook timeout (2 s), never the hang itself
    // (the receiver never answers: were evaluation to wait for it, the test would time out).
    expect(await evaluate()).toHaveLength(1)
    await vi.waitFor(
      async () => {
        view = (await h.get('/v1/alerts')).json
        expect(view.transitions[0]).toMatchObject({ transition: 'resolved', webhook: { delivered: false, attempts: 1 } })
      },
      { timeout: 15_000 },
    )
  })

  it('fires on data drift of the current window against a reference window', async () => {
    const evs = (n: number, shift: number, at: number) =>
      Array.from({ length: n }, (_, i) =>
        minimalExampleEvent({
          model: { name: 'm', version: '1' },
          ts: new Date(at + i * 1000).toISOString(),
          input: { age: (i % 50) + shift },
        }),
      )
    await h.post('/v1/events', evs(300, 0, now - 5 * 3_600_000))
    await h.post('/v1/events', evs(300, 30, now - 30 * 60_000))
    await h.req('PUT', '/v1/alerts/rules', {
      rules: [
        rule({
          id: 'age-drift',
          condition: {
            type: 'drift',
            fields: ['input.age'],
            filter: { model: 'm' },
            reference: { model: 'm', from: new Date(now - 6 * 3_600_000).toISOString(), to: new Date(now - 4 * 3_600_000).toISOString() },
          },
          operator: '>=',
          threshold: 0.5,
          min_samples: 100,
        }),
      ],
    })
    expect(await evaluate()).toEqual([{ project: 'default', id: 'age-drift', transition: 'fired' }])
    expect((await h.get('/v1/alerts')).json.rules[0].last).toMatchObject({ value: 1, n: 300 })
  })

  it('rejects malformed rules whole, with the path of each error', async () => {
    const bad = await h.req('PUT', '/v1/alerts/rules', {
      rules: [rule(), rule({ id: 'x y', operator: '=', window: 'forever', condition: { type: 'metric', metric: 'nope' } }), rule()],
    })
    expect(bad.status).toBe(400)
    expect(bad.json.error.code).toBe('validation_failed')
    const paths = bad.json.error.details.map((d: { path: string }) => d.path)
    expect(paths).toEqual(expect.arrayContaining(['/1/id', '/1/operator', '/1/window', '/1/condition/metric']))
    expect((await h.req('PUT', '/v1/alerts/rules', { rules: [rule(), rule()] })).json.error.details[0].path).toBe('/1/id')
    expect((await h.get('/v1/alerts')).json.rules).toEqual([])
    const badFilter = await h.req('PUT', '/v1/alerts/rules', {
      rules: [rule({ condition: { type: 'metric', metric: 'n', filter: { modle: 'm' } } })],
    })
    expect(badFilter.json.error.details[0].path).toBe('/0/condition/filter')
  })
})
