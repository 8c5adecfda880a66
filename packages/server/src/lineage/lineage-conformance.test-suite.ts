/** Lineage of events and dataset versions through the HTTP API, on one store; dataset purge on erasure. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { callApp } from '../http/app-harness.test-suite.js'
import { createApp, type InferlogApp } from '../http/create-app.js'
import { silentLogger } from '../logging/logger.js'
import type { Store } from '../store/store.js'

const T0 = Date.UTC(2026, 10, 3)

function ev(id: string, i: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    ts: new Date(T0 + i * 1000).toISOString(),
    model: { name: 'clf', version: '3.2.0', digest: 'sha256:abc', params: { threshold: 0.5 } },
    input: { x: i },
    output: { label: i % 2 ? 'a' : 'b' },
    ...extra,
  }
}

export function describeLineageConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`lineage: ${name}`, () => {
    let store: Store
    let core: InferlogApp
    let dir: string
    const post = (url: string, body: unknown) => callApp(core, 'POST', url, body as object)
    const get = (url: string) => callApp(core, 'GET', url)

    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-lineage-'))
      core = createApp({ store, logger: silentLogger(), datasets: { dir } })
    })
    afterEach(async () => {
      await core.close()
      await store.close()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    async function seed() {
      await post('/v1/events', [
        ev('e1', 1),
        ev('e2', 2),
        ev('other', 3, { model: { name: 'ranker', version: '1' } }),
        ev('e1-shadow', 4, { shadow_of: 'e1', model: { name: 'clf', version: '4.0.0', stage: 'shadow', digest: 'sha256:def' } }),
        ev('replay-0123abcd', 5, { shadow_of: 'e1', model: { name: 'clf', version: '5.0.0-rc', stage: 'shadow' } }),
      ])
      await post('/v1/feedback', [
        { id: 'f1', event_id: 'e1', name: 'label', value: 'a' },
        { id: 'f2', event_id: 'e1', name: 'thumbs', value: -1 },
      ])
      const spec = { select: { model: 'clf', version: '3.2.0' }, format: 'jsonl' }
      expect((await post('/v1/datasets', { name: 'clf-all', spec })).status).toBe(201)
      expect((await post('/v1/datasets', { name: 'ranker', spec: { select: { model: 'ranker' }, format: 'jsonl' } })).status).toBe(201)
      await post('/v1/events', ev('e3', 6))
      // A later version built only from what came after the first: it holds e3, not e1.
      expect((await post('/v1/datasets', { name: 'clf-all', spec, since_last: true })).status).toBe(201)
    }

    it('answers where an event came from and where it went: model, feedback, shadows, replays, datasets', async () => {
      await seed()
      const r = await get('/v1/events/e1/lineage')
      expect(r.status, r.text).toBe(200)
      const l = r.json
      expect(l.event).toMatchObject({ id: 'e1', status: 'ok', batch: expect.any(Number) })
      expect(l.model).toEqual({
        name: 'clf',
        version: '3.2.0',
        digest: 'sha256:abc',
        params: { threshold: 0.5 },
        endpoint: null,
        stage: 'primary',
      })
      expect(l.shadow_of).toBeNull()
      expect(l.feedback.map((f: { id: string }) => f.id).sort()).toEqual(['f1', 'f2'])
      expect(l.shadows).toEqual([
        expect.objectContaining({
          id: 'e1-shadow',
          origin: 'shadow',
          model: { name: 'clf', version: '4.0.0', stage: 'shadow', digest: 'sha256:def' },
        }),
        expect.objectContaining({ id: 'replay-0123abcd', origin: 'replay' }),
      ])
      expect(l.datasets).toEqual([
        expect.objectContaining({ id: 'clf-all@1', name: 'clf-all', version: 1, split: expect.stringMatching(/^(train|test)$/) }),
      ])
      const e3 = (await get('/v1/events/e3/lineage')).json
      expect(e3.datasets.map((d: { id: string }) => d.id)).toEqual(['clf-all@2'])
      const shadow = (await get('/v1/events/e1-shadow/lineage')).json
      expect(shadow.shadow_of).toEqual({ id: 'e1' })
      expect(shadow.datasets).toEqual([])
      expect((await get('/v1/events/nope/lineage')).status).toBe(404)
    })

    it('answers what a dataset version was built from: model versions, log range, watermark', async () => {
      await seed()
      const head = await store.commitHead()
      const r = await get('/v1/datasets/clf-all@2/lineage')
      expect(r.status, r.text).toBe(200)
      expect(r.json).toMatchObject({
        id: 'clf-all@2',
        name: 'clf-all',
        version: 2,
        watermark: head,
        models: [{ name: 'clf', version: '3.2.0', rows: 1 }],
        rows: 1,
        select: { model: 'clf', version: '3.2.0' },
        parent: { id: 'clf-all@1', version: 1 },
      })
      const first = (await get('/v1/datasets/clf-all@1/lineage')).json
      expect(r.json.log_range).toMatchObject({ after_batch: first.watermark, up_to_batch: head })
      expect(first.log_range.after_batch).toBeNull()
      expect(first.log_range.min_batch).toBeLessThanOrEqual(first.log_range.max_batch)
      expect(first.models).toEqual([{ name: 'clf', version: '3.2.0', rows: 2 }])
      for (const bad of ['nope@1', 'clf-all@9', 'no-version', '%20']) {
        const x = await get(`/v1/datasets/${bad}/lineage`)
        expect(x.status, bad).toBe(404)
        expect(x.json.error.code).toBe('not_found')
      }
    })

    it('an erasure deletes the files of every dataset version holding an erased event, and says so', async () => {
      await seed()
      const m = (await get('/v1/datasets/clf-all@1')).json
      const file = m.files[0].name
      expect((await get(`/v1/datasets/clf-all@1/files/${file}`)).status).toBe(200)
      const r = await post('/v1/erasure', { ids: ['e2'], reason: 'DSR-9' })
      expect(r.json.erased.events).toBe(1)
      const gone = await get(`/v1/datasets/clf-all@1/files/${file}`)
      expect(gone.status).toBe(410)
      expect(gone.json.error.code).toBe('erased')
      expect((await get('/v1/datasets/clf-all@1')).json.purged).toMatchObject({ events: 1, record: r.json.record.id })
      expect((await get('/v1/datasets/clf-all@1/lineage')).json.purged).toMatchObject({ events: 1 })
      // Versions without the event keep their files.
      const other = (await get('/v1/datasets/clf-all@2')).json
      expect((await get(`/v1/datasets/clf-all@2/files/${other.files[0].name}`)).status).toBe(200)
      expect((await get('/v1/events/e2/lineage')).status).toBe(410)
      // e1 was in the purged version: lineage still names it, marked purged.
      expect((await get('/v1/events/e1/lineage')).json.datasets).toEqual([expect.objectContaining({ id: 'clf-all@1', purged: true })])
    })
  })
}
