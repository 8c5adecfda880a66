import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DatasetError } from '../errors.js'
import { buildDataset } from './build-dataset.js'
import { fixtureSource } from './dataset-fixture.test-suite.js'
import { previewDataset } from './preview-dataset.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const SPECS = [
  { name: 'plain', select: {} },
  {
    name: 'labelled',
    feedback: { label: { name: 'label', aggregate: 'latest', missing: 'drop' } },
    label: { from: 'label' },
    split: { ratios: { train: 0.6, validation: 0.2, test: 0.2 }, seed: 's' },
    dedupe: 'input',
  },
  {
    name: 'defaulted',
    feedback: { thumbs: { name: 'thumbs', missing: { default: 0 } } },
    label: { from: 'thumbs' },
    split: { ratios: { a: 0.5, b: 0.5 } },
  },
]

describe('previewDataset', () => {
  it.each(SPECS)('counts exactly what the build writes per split and label ($name)', async (spec) => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-preview-'))
    dirs.push(dir)
    const source = fixtureSource()
    const preview = await previewDataset({ source, project: 'p', spec })
    const manifest = await buildDataset({ source, project: 'p', spec, outDir: join(dir, 'out') })
    expect(preview.truncated).toBe(false)
    expect(preview.watermark).toBe(manifest.watermark)
    expect(preview.rows).toBe(manifest.counts.rows)
    expect(preview.labels).toEqual(manifest.labels)
    expect(preview.counts).toEqual({
      scanned: manifest.counts.scanned,
      selected: manifest.counts.selected,
      rows: manifest.counts.rows,
      dropped: manifest.counts.dropped,
    })
    for (const [name, s] of Object.entries(manifest.splits)) expect(preview.splits[name]).toEqual({ rows: s.rows, labels: s.labels })
  })

  it('stops at maxRows and says so', async () => {
    const p = await previewDataset({ source: fixtureSource(), project: 'p', spec: {}, maxRows: 2 })
    expect(p.truncated).toBe(true)
    expect(p.rows).toBe(2)
  })

  it('reports every problem of a bad spec', async () => {
    const e = await previewDataset({ source: fixtureSource(), project: 'p', spec: { split: { ratios: { a: 2 } }, bogus: 1 } }).catch(
      (x) => x,
    )
    expect(e).toBeInstanceOf(DatasetError)
    expect((e as DatasetError).code).toBe('invalid_spec')
  })
})
