/** Builds whose ranges are compiled on threads, on one store: the same bytes as a build on one thread. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildDataset, type DatasetManifest } from '@inferlog/datasets'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../store/store.js'
import { writeLabelledLog } from './labelled-log.test-suite.js'
import { storeDatasetSource } from './store-dataset-source.js'
import { threadRangeCompiler } from './thread-range-compiler.js'

/** The compiled thread script: the tests run from sources, a worker thread needs JavaScript. */
export const RANGE_WORKER_SCRIPT = new URL('../../dist/datasets/dataset-range-worker.js', import.meta.url)

/** Eight batches of 50 events, labelled in the next batch (some twice, some never); inputs repeat. */
function fill(store: Store): Promise<void> {
  return writeLabelledLog(store, { batches: 8, perBatch: 50, x: (i) => i % 71, firstLabel: (i) => i % 3 === 0, trailingFeedback: true })
}

const split = { by: 'trace.session_id', ratios: { train: 0.6, validation: 0.25, test: 0.15 }, seed: 'r' }
const label = { label: { name: 'label', window: '1h', aggregate: 'latest', missing: 'drop' } }
const SPECS: Record<string, unknown> = {
  'jsonl, dedupe, where, balanced': {
    select: { model: 'm', where: { 'input.region': 'us' } },
    feedback: { ...label, n: { name: 'label', aggregate: 'count', missing: { default: 0 } } },
    label: { from: 'label' },
    weight: 'balanced',
    dedupe: 'input',
    split,
  },
  'jsonl, limit, dedupe': { select: { model: 'm', limit: 150 }, feedback: label, dedupe: 'input', split },
  'parquet, inferred columns, dedupe': { select: { model: 'm' }, feedback: label, dedupe: 'input', split, format: 'parquet' },
  'csv, declared columns': {
    select: { model: 'm' },
    feedback: label,
    split,
    format: 'csv',
    columns: { 'input.x': 'int64', 'input.text': 'string' },
  },
}

export function describeParallelBuildConformance(name: string, makeStore: () => Promise<{ store: Store; url: string }>): void {
  describe(`parallel dataset builds (range threads): ${name}`, () => {
    let store: Store
    let url: string
    let dir: string
    beforeEach(async () => {
      ;({ store, url } = await makeStore())
      await store.migrate()
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-parallel-'))
    })
    afterEach(async () => {
      await store.close()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    const build = async (spec: unknown, workers: number, out: string, storeUrl = url): Promise<DatasetManifest> => {
      // 3 workers: two threads and this one (as a build worker runs them).
      const ranges =
        workers > 1
          ? threadRangeCompiler(storeUrl, {
              workers,
              ahead: 2,
              script: RANGE_WORKER_SCRIPT,
              ...(workers === 3 ? { local: storeDatasetSource(store) } : {}),
            })
          : undefined
      try {
        return await buildDataset({
          source: storeDatasetSource(store),
          project: 'p1',
          spec,
          outDir: path.join(dir, out),
          name: 'd',
          chunkSize: 16,
          clock: () => 0,
          ...(ranges ? { ranges, rangeCount: 5 } : {}),
        })
      } finally {
        await ranges?.close()
      }
    }
    const bytes = (m: DatasetManifest, out: string) => m.files.map((f) => fs.readFileSync(path.join(dir, out, f.name)).toString('hex'))

    it('workers 1, 2 and 3 write the same files and manifests, byte for byte', async () => {
      await fill(store)
      for (const [specName, spec] of Object.entries(SPECS)) {
        const one = await build(spec, 1, `${specName}-1`)
        expect(one.counts.rows, specName).toBeGreaterThan(20)
        for (const workers of [2, 3]) {
          const m = await build(spec, workers, `${specName}-${workers}`)
          expect(m, specName).toEqual(one)
          expect(bytes(m, `${specName}-${workers}`), specName).toEqual(bytes(one, `${specName}-1`))
        }
      }
    })

    it("fails the build with a thread's error and leaves nothing", async () => {
      await fill(store)
      const missing = `sqlite:${path.join(dir, 'missing.db')}`
      await expect(build(SPECS['jsonl, limit, dedupe'], 2, 'bad', missing)).rejects.toMatchObject({ code: 'not_found' })
      await expect(build(SPECS['jsonl, limit, dedupe'], 3, 'bad3', missing)).rejects.toMatchObject({ code: 'not_found' })
      expect(fs.readdirSync(dir)).toEqual([])
    })
  })
}
