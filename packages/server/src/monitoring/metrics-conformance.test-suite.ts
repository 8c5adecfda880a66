/**
 * Metrics end to end on one store: events and feedback through the HTTP API, the commit feed's
 * metrics consumer, `GET /v1/metrics`; every figure checked against a recount of the raw records
 * computed here, independently of the aggregation code.
 */
import zlib from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FeedRunner } from '../feed/feed-runner.js'
import { defaultConsumers } from '../feed/default-consumers.js'
import { callApp } from '../http/app-harness.test-suite.js'
import { createApp, type InferlogApp } from '../http/create-app.js'
import { silentLogger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import { MetricsReader } from './metrics-query.js'

const H = 3_600_000
// Yesterday, UTC midnight: recent enough for minute buckets (kept a few days on the real clock).
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000

interface Ev {
  id: string
  ts: string
  model: { name: string; version: string; stage?: string; endpoint?: string }
  input: unknown
  output: { label: string; score: number }
  status?: 'error'
  error?: { type: string; message: string }
  sample_rate?: number
  latency_ms?: { total: number }
  context?: { experiment?: { name: string; arm: string }; entities?: Record<string, string> }
}
interface Fb {
  id: string
  event_id: string
  name: string
  value: unknown
  ts: string
  kind?: 'implicit'
}

function dataset() {
  const events: Ev[] = []
  const feedback: Fb[] = []
  let r = 7
  const rand = () => (r = (r * 1103515245 + 12345) % 2147483648) / 2147483648
  for (let i = 0; i < 240; i++) {
    const version = ['1.0', '2.0'][i % 2]!
    const label = rand() < 0.5 ? 'spam' : 'ham'
    const ev: Ev = {
      id: `ev${i}`,
      ts: new Date(T0 + Math.floor(i / 20) * H + (i % 20) * 60_000).toISOString(),
      model: { name: 'clf', version },
      input: { i },
      output: { label, score: 0.5 + rand() / 2 },
      latency_ms: { total: 10 + (i % 17) },
      context: { experiment: { name: 'x', arm: i % 3 === 0 ? 'B' : 'A' }, entities: { tier: ['gold', 'silver'][i % 2]! } },
    }
    if (i % 4 === 1) ev.sample_rate = 0.5
    if (i % 10 === 3) {
      ev.status = 'error'
      ev.error = { type: 'timeout', message: 'slow' }
    }
    events.push(ev)
    const truth = rand() < 0.8 ? label : label === 'spam' ? 'ham' : 'spam'
    if (i % 3 !== 2) {
      // A first label, and for some a correction that happened later (or earlier: ignored).
      feedback.push({
        id: `l${i}`,
        event_id: ev.id,
        name: 'label',
        value: { label: i % 7 === 0 ? 'wrong' : truth },
        ts: new Date(Date.parse(ev.ts) + 5_000).toISOString(),
      })
      if (i % 7 === 0)
        feedback.push({
          id: `l${i}b`,
          event_id: ev.id,
          name: 'label',
          value: { label: truth },
          ts: new Date(Date.parse(ev.ts) + 9_000).toISOString(),
        })
      if (i % 11 === 0)
        feedback.push({
          id: `l${i}c`,
          event_id: ev.id,
          name: 'label',
          value: { label: 'stale' },
          ts: new Date(Date.parse(ev.ts) + 1_000).toISOString(),
        })
    }
    if (i % 5 === 0)
      feedback.push({
        id: `p${i}`,
        event_id: ev.id,
        name: 'purchase',
        value: 1,
        kind: 'implicit',
        ts: new Date(Date.parse(ev.ts) + (i % 10 === 0 ? 2 * H : 30 * H)).toISOString(),
      })
  }
  return { events, feedback }
}

/** The independent recount: weighted counts, errors, and accuracy of the effective (latest) label. */
function recount(events: Ev[], feedback: Fb[], pick: (e: Ev) => boolean) {
  const w = (e: Ev) => 1 / (e.sample_rate ?? 1)
  const es = events.filter(pick)
  const latest = new Map<string, Fb>()
  for (const f of feedback.filter((x) => x.name === 'label')) {
    const cur = latest.get(f.event_id)
    if (!cur || Date.parse(f.ts) > Date.parse(cur.ts)) latest.set(f.event_id, f)
  }
  let correct = 0
  let labeledW = 0
  let labeledN = 0
  let conv = 0
  for (const e of es) {
    const f = latest.get(e.id)
    if (f) {
      labeledN++
      labeledW += w(e)
      if ((f.value as { label: string }).label === e.output.label) correct += w(e)
    }
    if (feedback.some((p) => p.event_id === e.id && p.name === 'purchase' && Date.parse(p.ts) - Date.parse(e.ts) <= 24 * H)) conv += w(e)
  }
  return {
    n: es.length,
    count: es.reduce((s, e) => s + w(e), 0),
    errors: es.filter((e) => e.status === 'error').reduce((s, e) => s + w(e), 0),
    labeledN,
    accuracy: labeledW > 0 ? correct / labeledW : null,
    conversion: es.length ? conv / es.reduce((s, e) => s + w(e), 0) : null,
  }
}

export function describeMetricsConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`metrics from the commit feed: ${name}`, () => {
    let store: Store
    let core: InferlogApp
    let runner: FeedRunner
    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
      core = createApp({ store, logger: silentLogger(), now: () => T0 + 2 * 24 * H })
      runner = new FeedRunner(store, defaultConsumers(store))
    })
    afterEach(async () => {
      await core.close()
      await store.close()
    })
    const get = async (q: string) => (await callApp(core, 'GET', `/v1/metrics?${q}`)).json
    const window = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 24 * H).toISOString()}`

    it('counts, errors, labels and conversions equal a recount, with feedback early, late and replaced', async () => {
      const { events, feedback } = dataset()
      expect(
        (
          await callApp(core, 'PUT', '/v1/models/clf', {
            labels: { label: { output: 'label', type: 'class' } },
            dimensions: ['entity.tier'],
          })
        ).status,
      ).toBe(200)
      // Some feedback arrives before its event, the rest after; corrections in later batches.
      await callApp(
        core,
        'POST',
        '/v1/feedback',
        feedback.filter((_, i) => i % 4 === 0),
      )
      await runner.catchUp()
      for (let i = 0; i < events.length; i += 60) {
        await callApp(core, 'POST', '/v1/events', events.slice(i, i + 60))
        await runner.catchUp()
      }
      await callApp(
        core,
        'POST',
        '/v1/feedback',
        feedback.filter((_, i) => i % 4 !== 0),
      )
      await runner.catchUp()
      // Re-sending everything changes nothing (duplicates are not in the feed).
      await callApp(core, 'POST', '/v1/events', events)
      await callApp(core, 'POST', '/v1/feedback', feedback)
      await runner.catchUp()

      const all = await get(`model=clf&bucket=all&${window}`)
      expect(all.series).toHaveLength(1)
      const p = all.series[0].points[0]
      const want = recount(events, feedback, () => true)
      expect(p.n).toBe(want.n)
      expect(p.count).toBeCloseTo(want.count, 9)
      expect(p.errors).toBeCloseTo(want.errors, 9)
      expect(p.quality.label.n_labeled).toBe(want.labeledN)
      expect(p.quality.label.accuracy.value).toBeCloseTo(want.accuracy!, 9)
      expect(p.quality.label.accuracy.ci_low).toBeLessThan(want.accuracy!)
      expect(p.quality.purchase.conversion_rate.value).toBeCloseTo(want.conversion!, 9)
      expect(p.n_eff).toBeLessThan(p.n)

      // Hourly, grouped by version: each point equals the recount of its hour and version.
      const byVersion = await get(`model=clf&bucket=hour&group_by=version&${window}`)
      expect(byVersion.series.map((s: { group: { version: string } }) => s.group.version).sort()).toEqual(['1.0', '2.0'])
      for (const s of byVersion.series) {
        expect(s.points).toHaveLength(12)
        for (const pt of s.points) {
          const start = Date.parse(pt.start)
          const r = recount(
            events,
            feedback,
            (e) => e.model.version === s.group.version && Date.parse(e.ts) >= start && Date.parse(e.ts) < start + H,
          )
          expect([pt.n, pt.count, pt.errors, pt.quality.label?.n_labeled ?? 0]).toEqual([r.n, r.count, r.errors, r.labeledN])
          if (r.accuracy !== null) expect(pt.quality.label.accuracy.value).toBeCloseTo(r.accuracy, 9)
        }
      }
      // A second read serves the cached points: same answer.
      expect(await get(`model=clf&bucket=hour&group_by=version&${window}`)).toEqual(byVersion)

      // Filters and other groupings, also from minute rows merged at query time.
      const armB = await get(`model=clf&bucket=all&arm=B&version=2.0&${window}`)
      const rb = recount(events, feedback, (e) => e.context?.experiment?.arm === 'B' && e.model.version === '2.0')
      expect(armB.series[0].points[0]).toMatchObject({ n: rb.n, count: rb.count })
      const minutes = await get(
        `model=clf&bucket=minute&group_by=arm&from=${new Date(T0).toISOString()}&to=${new Date(T0 + H).toISOString()}`,
      )
      const minuteN = minutes.series
        .flatMap((s: { points: { n: number }[] }) => s.points)
        .reduce((n: number, x: { n: number }) => n + x.n, 0)
      expect(minuteN).toBe(recount(events, feedback, (e) => Date.parse(e.ts) < T0 + H).n)
      const tiers = await get(`model=clf&bucket=all&group_by=entity.tier&${window}`)
      expect(
        Object.fromEntries(
          tiers.series.map((s: { group: Record<string, string>; points: { n: number }[] }) => [s.group['entity.tier'], s.points[0]!.n]),
        ),
      ).toEqual({
        gold: recount(events, feedback, (e) => e.context?.entities?.tier === 'gold').n,
        silver: recount(events, feedback, (e) => e.context?.entities?.tier === 'silver').n,
      })
      const models = (await callApp(core, 'GET', '/v1/models')).json.items
      expect(models).toEqual([expect.objectContaining({ name: 'clf', config: expect.objectContaining({ dimensions: ['entity.tier'] }) })])
      expect(models[0].versions.map((v: { events: number }) => v.events)).toEqual([120, 120])
    })

    it('serves one reply per query and aggregate revision: fields, ETag, br and gzip, refreshed when the consumer advances', async () => {
      const { events } = dataset()
      await callApp(core, 'PUT', '/v1/models/clf', { labels: { label: { output: 'label', type: 'class' } } })
      await callApp(core, 'POST', '/v1/events', events.slice(0, 200))
      await runner.catchUp()
      const q = `/v1/metrics?model=clf&bucket=hour&group_by=version&${window}`
      const first = await callApp(core, 'GET', q)
      expect(first.status).toBe(200)
      const etag = first.headers.get('etag')
      expect(etag).toMatch(/^W\//)
      // The same bytes as the reply built point by point (the contract's shape, unchanged).
      const reader = new MetricsReader(store.derived, () => T0 + 2 * 24 * H)
      const window0 = { model: 'clf', fromMs: T0, toMs: T0 + 24 * H, groupBy: ['version'] }
      expect(first.text).toBe(JSON.stringify(await reader.query('default', { ...window0, bucket: 'hour' }, undefined)))
      // A `to` inside the same last bucket reads the same rows: the same reply.
      const later = await callApp(core, 'GET', q.replace(new Date(T0 + 24 * H).toISOString(), new Date(T0 + 23.5 * H).toISOString()))
      expect(later.headers.get('etag')).toBe(etag)
      expect((await callApp(core, 'GET', q, undefined, { 'If-None-Match': etag! })).status).toBe(304)
      for (const [enc, unzip] of [
        ['gzip', zlib.gunzipSync],
        ['br', zlib.brotliDecompressSync],
      ] as const) {
        const res = await core.app.request(q, { headers: { 'Accept-Encoding': `${enc}, identity;q=0.5` } })
        expect(res.headers.get('content-encoding')).toBe(enc)
        expect(unzip(Buffer.from(await res.arrayBuffer())).toString()).toBe(first.text)
      }
      // Only the figures asked for, `start` always.
      const some = await callApp(core, 'GET', `${q}&fields=count,latency_ms.total.p99,quality.label.accuracy.value,nothing_here`)
      expect(some.status).toBe(400)
      expect(some.json.error.code).toBe('invalid_parameter')
      const few = await callApp(core, 'GET', `${q}&fields=count,latency_ms.total.p99,quality.label.accuracy.value`)
      expect(few.status).toBe(200)
      const full = first.json.series
      expect(few.json.series).toEqual(
        full.map((s: { group: unknown; points: Record<string, any>[] }) => ({
          group: s.group,
          points: s.points.map((p) => ({
            start: p.start,
            count: p.count,
            latency_ms: { total: { p99: p.latency_ms.total.p99 } },
            ...(p.quality.label?.accuracy ? { quality: { label: { accuracy: { value: p.quality.label.accuracy.value } } } } : {}),
          })),
        })),
      )
      // New events in the window: the consumer advances, the next reply is read again (from the rows
      // changed since, patched into the points already read: the same bytes as a whole read).
      const before = await reader.reply('default', { ...window0, bucket: 'hour' }, undefined)
      expect(before.body.toString()).toBe(first.text)
      await callApp(core, 'POST', '/v1/events', events.slice(200))
      await runner.catchUp()
      const patched = await reader.reply('default', { ...window0, bucket: 'hour' }, undefined)
      expect(reader.stats).toEqual({ built: 1, patched: 1 })
      expect(patched.body.toString()).toBe(JSON.stringify(await reader.query('default', { ...window0, bucket: 'hour' }, undefined)))
      const after = await callApp(core, 'GET', q)
      expect(after.headers.get('etag')).not.toBe(etag)
      const total = (r: { series: { points: { n: number }[] }[] }) => r.series.flatMap((s) => s.points).reduce((n, p) => n + p.n, 0)
      expect(total(after.json)).toBe(events.length)
      expect(after.text).toBe(JSON.stringify(await reader.query('default', { ...window0, bucket: 'hour' }, undefined)))
    })

    it('compares A/B from buckets, shadows from raw pairs, and slices by segment, each equal to a recount', async () => {
      const { events, feedback } = dataset()
      await callApp(core, 'PUT', '/v1/models/clf', { labels: { label: { output: 'label', type: 'class' } } })
      await callApp(core, 'POST', '/v1/events', events)
      await callApp(core, 'POST', '/v1/feedback', feedback)
      // A shadow model answered for every third primary; it agrees unless the index is even.
      const shadows = events
        .filter((_, i) => i % 3 === 0)
        .map((e, k) => ({
          id: `sh-${e.id}`,
          ts: e.ts,
          shadow_of: e.id,
          model: { name: 'clf-next', version: '3.0', stage: 'shadow' },
          input: e.input,
          output: { label: k % 2 === 0 ? (e.output.label === 'spam' ? 'ham' : 'spam') : e.output.label, score: 0.5 },
          latency_ms: { total: (e.latency_ms?.total ?? 0) + 5 },
        }))
      await callApp(core, 'POST', '/v1/events', shadows)
      await runner.catchUp()
      const a = { model: 'clf', version: '1.0', from: new Date(T0).toISOString(), to: new Date(T0 + 24 * H).toISOString() }
      const abr = await callApp(core, 'POST', '/v1/compare', { a, b: { ...a, version: '2.0' } })
      const ab = abr.json
      expect(Object.keys(ab.metrics ?? {}), abr.text.slice(0, 2000)).toContain('quality.label.accuracy')
      const r1 = recount(events, feedback, (e) => e.model.version === '1.0')
      const r2 = recount(events, feedback, (e) => e.model.version === '2.0')
      expect(ab.a.n).toBe(r1.n)
      expect(ab.b.n).toBe(r2.n)
      expect(ab.metrics['quality.label.accuracy'].a).toBeCloseTo(r1.accuracy!, 9)
      expect(ab.metrics['quality.label.accuracy'].b).toBeCloseTo(r2.accuracy!, 9)
      expect(ab.metrics['quality.label.accuracy'].diff).toBeCloseTo(r2.accuracy! - r1.accuracy!, 9)
      expect(ab.metrics.error_rate.p_value).toBeGreaterThan(0)
      expect(ab.srm.p_value).toBeGreaterThan(0)

      const sh = (await callApp(core, 'POST', '/v1/compare', { shadow: { model: 'clf', stage: 'primary' }, output: 'label' })).json
      expect(sh.candidates).toHaveLength(1)
      const cand = sh.candidates[0]
      expect(cand.model).toEqual({ name: 'clf-next', version: '3.0' })
      expect(cand.pairs).toBe(shadows.length)
      const weights = shadows.map((s) => 1 / (events.find((e) => e.id === s.shadow_of)!.sample_rate ?? 1))
      const agreeW = shadows.reduce((sum, s, k) => sum + (k % 2 === 1 ? weights[k]! : 0), 0)
      expect(cand.agreement.value).toBeCloseTo(agreeW / weights.reduce((x, y) => x + y, 0), 9)
      expect(cand.deltas.latency_ms.value).toBeCloseTo(5, 9)
      expect(cand.most_divergent.length).toBeGreaterThan(0)
      expect(cand.most_divergent.every((id: string) => shadows.some((s, k) => s.shadow_of === id && k % 2 === 0))).toBe(true)

      const sl = (await callApp(core, 'GET', `/v1/slices?model=clf&metric=error_rate&segment=arm&${window}`)).json
      const bySeg = Object.fromEntries(sl.segments.map((x: { segment: string; value: number; n: number }) => [x.segment, [x.n, x.value]]))
      for (const arm of ['A', 'B']) {
        const r = recount(events, feedback, (e) => e.context?.experiment?.arm === arm)
        expect(bySeg[arm][0]).toBe(r.n)
        expect(bySeg[arm][1]).toBeCloseTo(r.errors / r.count, 9)
      }
      for (const bad of [
        { a },
        { a, b: { ...a, session_id: 'x' } },
        { a, b: a, expected_split: 2 },
        { shadow: { model: 'clf' }, limit: 0 },
        { x: 1 },
      ]) {
        expect((await callApp(core, 'POST', '/v1/compare', bad)).status, JSON.stringify(bad)).toBe(400)
      }
      expect((await callApp(core, 'GET', '/v1/slices?segment=arm')).status).toBe(400)
    })

    it('refuses what buckets cannot answer with 400 naming it', async () => {
      for (const q of [
        'status=ok',
        'session_id=x',
        'group_by=nope',
        'bucket=week',
        'group_by=entity.tier',
        'model=clf&group_by=entity.tier',
        `bucket=minute&${window}&from=2020-01-01`,
        'bucket=minute&from=2026-01-01&to=2026-12-01',
        'from=2026-12-02&to=2026-12-01',
        'frm=1',
      ]) {
        const r = await callApp(core, 'GET', `/v1/metrics?${q}`)
        expect(r.status, q).toBe(400)
        expect(r.json.error.code, q).toBe('invalid_parameter')
      }
      const bad = await callApp(core, 'PUT', '/v1/models/clf', {
        labels: { label: { output: 1, type: 'nope' } },
        dimensions: ['tier'],
        extra: true,
      })
      expect(bad.status).toBe(400)
      expect(bad.json.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
        '/dimensions/0',
        '/extra',
        '/labels/label/output',
        '/labels/label/type',
      ])
      const none = await callApp(core, 'GET', `/v1/metrics?model=none&${window}`)
      expect(none.json, none.text).toEqual({ bucket: 'hour', series: [] })
    })
  })
}
