/** Read-ahead builds on one store: the same bytes as a build reading on the compiler's thread. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildDataset, type DatasetManifest } from '@inferlog/datasets'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../store/store.js'
import { writeLabelledLog } from './labelled-log.test-suite.js'
import { readAheadDatasetSource } from './read-ahead-source.js'
import { storeDatasetSource } from './store-dataset-source.js'

/** The compiled reader: the tests run from sources, a worker thread needs JavaScript. */
export const READ_WORKER_SCRIPT = new URL('../../dist/datasets/dataset-read-worker.js', import.meta.url)

/** Six committed batches of 70 events; most labelled in the next batch, some twice, some never. */
function fill(store: Store): Promise<void> {
  return writeLabelledLog(store, { batches: 6, perBatch: 70, x: (i) => i, firstLabel: (i) => i % 2 === 0, trailingFeedback: false })
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
      // Parquet with its column types inferred (a counting pass over the log first, then the
      // rows): how a parquet build on a SQLite file runs by default (DatasetBuilds reads ahead).
      const inferred = { ...SPEC, format: 'parquet' }
      const p3 = await build(inferred, false, 'plain3')
      const a3 = await build(inferred, true, 'ahead3', { ahead: 2 })
      expect(p3.counts.rows).toBeGreaterThan(200)
      expect(a3).toEqual(p3)
      const files = (m: DatasetManifest, out: string) => m.files.map((f) => fs.readFileSync(path.join(dir, out, f.name)))
      expect(files(a3, 'ahead3')).toEqual(files(p3, 'plain3'))
    })

    it("fails the build with the reader's error", async () => {
      await fill(store)
      const missing = `sqlite:${path.join(dir, 'missing.db')}`
      await expect(build(SPEC, true, 'bad', { storeUrl: missing })).rejects.toMatchObject({ name: 'InferlogError', code: 'not_found' })
      expect(fs.readdirSync(dir)).toEqual([])
    })
  })
}
