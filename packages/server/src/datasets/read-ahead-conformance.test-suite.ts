/** Read-ahead builds on one store: the same bytes as a build reading on the compiler's thread. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildDataset, type DatasetManifest } from '@inferlog/datasets'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import type { Store } from '../store/store.js'
import { readAheadDatasetSource } from './read-ahead-source.js'
import { storeDatasetSource } from './store-dataset-source.js'

/** The compiled reader: the tests run from sources, a worker thread needs JavaScript. */
export const READ_WORKER_SCRIPT = new URL('../../dist/datasets/dataset-read-worker.js', import.meta.url)

const T0 = Date.UTC(2026, 10, 1)

/** Several committed batches of events; most events labelled in a later batch, some twice, some never. */
async function fill(store: Store): Promise<void> {
  for (let b = 0; b < 6; b++) {
    const events = Array.from({ length: 70 }, (_, k) => {
      const i = b * 70 + k
      return eventRecord(
        { id: `e${String(i).padStart(4, '0')}`, tsMs: T0 + i * 1000, model: i % 5 === 0 ? 'other' : 'm', sessionId: `s${i % 13}` },
        { input: { x: i, region: i % 3 === 0 ? 'eu' : 'us', text: `é ${'abc'.repeat(i % 7)}` }, trace: { session_id: `s${i % 13}` } },
      )
    })
    const feedback =
      b === 0
        ? []
        : Array.from({ length: 70 }, (_, k) => (b - 1) * 70 + k)
            .filter((i) => i % 10 !== 9)
            .flatMap((i) => {
              const id = `e${String(i).padStart(4, '0')}`
              const first = feedbackRecord({ id: `f${i}`, eventId: id, name: 'label', tsMs: T0 + i * 1000 + 60_000 }, i % 2 === 0)
              return i % 10 === 8
                ? [first, feedbackRecord({ id: `g${i}`, eventId: id, name: 'label', tsMs: T0 + i * 1000 + 120_000 }, i % 2 !== 0)]
                : [first]
            })
    await store.writeBatch({ events, feedback })
  }
}

const SPEC = {
  select: { model: 'm' },
  feedback: {
    label: { name: 'label', window: '1h', aggregate: 'latest', missing: 'drop' },
    n: { name: 'label', aggregate: 'count', missing: { default: 0 } },
  },
  label: { from: 'label' },
  split: { by: 'trace.session_id', ratios: { train: 0.7, test: 0.3 }, seed: 'r' },
  format: 'jsonl',
}

export function describeReadAheadConformance(name: string, makeStore: () => Promise<{ store: Store; url: string }>): void {
  describe(`read-ahead dataset builds: ${name}`, () => {
    let store: Store
    let url: string
    let dir: string
    beforeEach(async () => {
      ;({ store, url } = await makeStore())
      await store.migrate()
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-read-ahead-'))
    })
    afterEach(async () => {
      await store.close()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    const build = (
      spec: unknown,
      readAhead: boolean,
      out: string,
      o: { ahead?: number; storeUrl?: string } = {},
    ): Promise<DatasetManifest> => {
      const plain = storeDatasetSource(store)
      const source = readAhead
        ? readAheadDatasetSource(o.storeUrl ?? url, plain, { script: READ_WORKER_SCRIPT, ...(o.ahead ? { ahead: o.ahead } : {}) })
        : plain
      if (readAhead) expect(source.scanJoined).toBeTypeOf('function')
      return buildDataset({ source, project: 'p1', spec, outDir: path.join(dir, out), name: 'd', chunkSize: 32, clock: () => 0 })
    }
    const bytes = (m: DatasetManifest, out: string) => m.files.map((f) => fs.readFileSync(path.join(dir, out, f.name), 'utf8'))

    it('writes the same files, byte for byte, as reading on the compiler thread', async () => {
      await fill(store)
      const plain = await build(SPEC, false, 'plain')
      const ahead = await build(SPEC, true, 'ahead', { ahead: 1 })
      expect(plain.counts.rows).toBeGreaterThan(200)
      expect(ahead).toEqual(plain)
      expect(bytes(ahead, 'ahead')).toEqual(bytes(plain, 'plain'))
      // where + limit: the build stops early and the reader is stopped with it.
      const narrow = { ...SPEC, select: { model: 'm', where: { 'input.region': 'eu' }, limit: 40 }, format: 'parquet' }
      const p2 = await build(narrow, false, 'plain2')
      const a2 = await build(narrow, true, 'ahead2')
      expect(a2.counts.selected).toBe(40)
      expect(a2).toEqual(p2)
    })

    it("fails the build with the reader's error", async () => {
      await fill(store)
      const missing = `sqlite:${path.join(dir, 'missing.db')}`
      await expect(build(SPEC, true, 'bad', { storeUrl: missing })).rejects.toMatchObject({ name: 'InferlogError', code: 'not_found' })
      expect(fs.readdirSync(dir)).toEqual([])
    })
  })
}
