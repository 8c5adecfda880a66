import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DatasetSpec } from '../spec/dataset-spec.js'
import { buildDataset } from './build-dataset.js'
import { filesOf, fixtureSource, iso, stable, T0 } from './dataset-fixture.test-suite.js'
import { localRangeCompiler } from './local-range-compiler.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'inferlog-ds-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const spec: DatasetSpec = {
  feedback: { label: { window: '7d', missing: { default: null } }, buys: { name: 'purchase', aggregate: 'all', missing: { default: [] } } },
  split: { ratios: { train: 0.6, validation: 0.2, test: 0.2 }, seed: 7 },
}

describe('reproducible builds', () => {
  for (const format of ['jsonl', 'parquet', 'csv'] as const) {
    it(`${format}: identical bytes twice, and again at the old watermark after more ingest`, async () => {
      const source = fixtureSource()
      const s = { ...spec, format }
      const a = await buildDataset({ source, project: 'p', spec: s, outDir: join(dir, 'a') })
      const b = await buildDataset({ source, project: 'p', spec: s, outDir: join(dir, 'b'), clock: () => 1 })
      expect(filesOf(join(dir, 'b'))).toEqual(filesOf(join(dir, 'a')))
      expect(stable(b)).toEqual(stable(a))
      // More events, and late feedback for old events inside their windows: invisible at the pinned watermark.
      source.commit('p', {
        events: [
          { id: 'late-1', ts: iso(T0 + 3600_000), model: { name: 'churn-clf', version: '3.2.0' }, input: { tenure: 99 }, output: 1 },
        ],
        feedback: [{ id: 'late-f', event_id: 'e02', name: 'label', value: true, ts: iso(T0 + 3 * 3600_000) }],
      })
      const c = await buildDataset({ source, project: 'p', spec: s, outDir: join(dir, 'c'), watermark: a.watermark })
      expect(filesOf(join(dir, 'c'))).toEqual(filesOf(join(dir, 'a')))
      expect(c.files).toEqual(a.files)
      const d = await buildDataset({ source, project: 'p', spec: s, outDir: join(dir, 'd') })
      expect(d.watermark).toBe(a.watermark + 1)
      expect(d.files).not.toEqual(a.files)
    })
  }

  it('parquet, inferred types taken from the first rows: one pass, or two when a type moves later, the bytes of a counting pass', async () => {
    const source = fixtureSource()
    const s = { ...spec, format: 'parquet' as const }
    // Over ranges the build infers the types in a counting pass, then writes.
    const ranges = localRangeCompiler(source, { workers: 2 })
    const two = await buildDataset({ source, project: 'p', spec: s, outDir: join(dir, 'two'), ranges, rowGroupSize: 2 })
    // 1 row: input.flags (e12) appears later, so the writing restarts; 100: every row held, one pass.
    for (const sample of [1, 2, 5, 100]) {
      const out = join(dir, `one-${sample}`)
      const m = await buildDataset({ source, project: 'p', spec: s, outDir: out, typeSampleRows: sample, rowGroupSize: 2 })
      expect(filesOf(out)).toEqual(filesOf(join(dir, 'two')))
      expect(stable(m)).toEqual(stable(two))
    }
  })

  it('sinceLast reads only events after the parent watermark and names the parent', async () => {
    const source = fixtureSource()
    const first = await buildDataset({ source, project: 'p', spec: {}, outDir: join(dir, 'v1'), id: 'x@1', version: 1 })
    source.commit('p', { events: [{ id: 'n1', model: { name: 'churn-clf', version: '3.2.0' }, input: 1, output: 2 }] })
    const next = await buildDataset({ source, project: 'p', spec: {}, outDir: join(dir, 'v2'), parent: first, sinceLast: true })
    expect(next.after_batch).toBe(first.watermark)
    expect(next.parent).toEqual({ id: 'x@1', version: 1, watermark: first.watermark })
    expect(
      readFileSync(join(dir, 'v2', 'train.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(['n1'])
  })

  it('a rebuild after an erasure leaves the erased event out and records it', async () => {
    const source = fixtureSource()
    const a = await buildDataset({ source, project: 'p', spec: {}, outDir: join(dir, 'a') })
    source.erase('p', ['e01'])
    const b = await buildDataset({ source, project: 'p', spec: {}, outDir: join(dir, 'b'), watermark: a.watermark })
    expect(b.counts.rows).toBe(a.counts.rows - 1)
    expect(b.erased).toMatchObject({ events: 1, feedback: 5, sample: expect.arrayContaining(['e01', 'f01']) })
    expect(a.erased).toMatchObject({ events: 0, feedback: 0 })
  })

  it('the manifest id digest can be recomputed from the files', async () => {
    const { createHash } = await import('node:crypto')
    const source = fixtureSource()
    const m = await buildDataset({ source, project: 'p', spec, outDir: join(dir, 'a') })
    for (const [split, s] of Object.entries(m.splits)) {
      const ids = readFileSync(join(dir, 'a', `${split}.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).id as string)
      expect(s.ids.sha256).toBe(
        createHash('sha256')
          .update(ids.map((i) => `${i}\n`).join(''))
          .digest('hex'),
      )
      expect(s.ids.count).toBe(ids.length)
      expect(s.ids.first).toBe(ids[0] ?? null)
    }
    for (const f of m.files)
      expect(f.sha256).toBe(
        createHash('sha256')
          .update(readFileSync(join(dir, 'a', f.name)))
          .digest('hex'),
      )
  })
})
