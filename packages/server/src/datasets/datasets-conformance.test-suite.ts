/** Dataset builds through the HTTP API on one store: rows checked against the events and feedback sent. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { callApp } from '../http/app-harness.test-suite.js'
import { createApp, type InferlogApp } from '../http/create-app.js'
import { silentLogger } from '../logging/logger.js'
import type { Store } from '../store/store.js'

export function describeDatasetsConformance(name: string, makeStore: () => Promise<{ store: Store; dir: string }>): void {
  describe(`datasets from the log: ${name}`, () => {
    let store: Store
    let core: InferlogApp
    beforeEach(async () => {
      const made = await makeStore()
      store = made.store
      await store.migrate()
      core = createApp({ store, logger: silentLogger(), datasets: { dir: made.dir } })
    })
    afterEach(async () => {
      await core.close()
      await store.close()
    })

    it('builds versioned JSONL from events and their labels, reproducibly, and serves the files', async () => {
      const t = Date.UTC(2026, 10, 1)
      const events = Array.from({ length: 40 }, (_, i) => ({
        id: `d${i}`,
        ts: new Date(t + i * 60_000).toISOString(),
        model: { name: 'clf', version: i < 20 ? '1' : '2' },
        input: { x: i, dup: i % 10 },
        output: { label: i % 2 ? 'a' : 'b' },
        trace: { session_id: `s${i % 7}` },
        ...(i === 3 ? { status: 'error', error: { type: 'x', message: 'y' }, output: undefined } : {}),
      }))
      const feedback = events
        .filter((_, i) => i % 3 !== 0)
        .map((e, k) => ({
          id: `f${k}`,
          event_id: e.id,
          name: 'label',
          value: k % 2 ? 'a' : 'b',
          ts: new Date(Date.parse(e.ts) + 1000).toISOString(),
        }))
      await callApp(core, 'POST', '/v1/events', events)
      await callApp(core, 'POST', '/v1/feedback', feedback)
      const spec = {
        select: { model: 'clf', version: ['1', '2'] },
        feedback: { label: { name: 'label', window: '1h', aggregate: 'latest', missing: 'drop' } },
        label: { from: 'label' },
        split: { by: 'trace.session_id', ratios: { train: 0.8, test: 0.2 }, seed: 's1' },
        format: 'jsonl',
      }
      const first = await callApp(core, 'POST', '/v1/datasets', { name: 'churn', spec })
      expect(first.status, first.text).toBe(201)
      expect(first.json).toMatchObject({ id: 'churn@1', name: 'churn', version: 1 })
      const m = first.json.manifest
      const labeled = events.filter((e, i) => i % 3 !== 0 && e.status !== 'error')
      expect(m.counts.rows).toBe(labeled.length)
      const rows: { id: string; label: string; split: string; feedback: { label: string } }[] = []
      for (const f of m.files) {
        const res = await callApp(core, 'GET', `/v1/datasets/churn@1/files/${f.name}`)
        expect(res.status).toBe(200)
        rows.push(
          ...res.text
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        )
      }
      expect(rows.map((r) => r.id).sort()).toEqual(labeled.map((e) => e.id).sort())
      for (const r of rows) expect(r.label).toBe(feedback.find((f) => f.event_id === r.id)!.value)
      // One session never straddles two splits.
      const splitOf = new Map<string, string>()
      for (const r of rows) {
        const s = events.find((e) => e.id === r.id)!.trace.session_id
        expect(splitOf.get(s) ?? r.split).toBe(r.split)
        splitOf.set(s, r.split)
      }
      // A second build of the same data is a new version with byte-identical files.
      const second = await callApp(core, 'POST', '/v1/datasets', { name: 'churn', spec })
      expect(second.json.version).toBe(2)
      expect(second.json.manifest.files.map((f: { sha256: string }) => f.sha256)).toEqual(m.files.map((f: { sha256: string }) => f.sha256))
      const list = (await callApp(core, 'GET', '/v1/datasets')).json.items
      expect(list).toEqual([
        expect.objectContaining({
          name: 'churn',
          versions: [expect.objectContaining({ id: 'churn@1' }), expect.objectContaining({ id: 'churn@2' })],
        }),
      ])
      expect((await callApp(core, 'GET', '/v1/datasets/churn@2')).json.watermark).toBe(m.watermark)
      expect((await callApp(core, 'GET', '/v1/datasets/churn@9')).status).toBe(404)
      expect((await callApp(core, 'GET', '/v1/datasets/churn@1/files/..%2Fx')).status).toBe(404)
    })

    it('rejects an invalid spec before building, with every problem and its path', async () => {
      const r = await callApp(core, 'POST', '/v1/datasets', {
        name: 'bad',
        spec: { select: { model: 1 }, format: 'xlsx', split: { ratios: { train: 2 } } },
      })
      expect(r.status).toBe(400)
      expect(r.json.error.details.length).toBeGreaterThanOrEqual(2)
      expect((await callApp(core, 'GET', '/v1/datasets')).json.items).toEqual([])
    })
  })
}
