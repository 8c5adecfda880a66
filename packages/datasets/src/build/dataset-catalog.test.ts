import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createDatasetCatalog, parseDatasetId } from './dataset-catalog.js'
import { fixtureSource } from './dataset-fixture.test-suite.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'inferlog-cat-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('dataset catalog', () => {
  it('numbers versions, chains sinceLast builds to their parent, lists and serves files', async () => {
    const source = fixtureSource()
    const catalog = createDatasetCatalog({ dir })
    const yaml = 'name: churn\nfeedback:\n  label: {window: 7d, missing: {default: null}}\n'
    const v1 = await catalog.build({ source, project: 'p', spec: yaml })
    expect(v1).toMatchObject({ id: 'churn@1', name: 'churn', version: 1 })
    source.commit('p', { events: [{ id: 'z', model: { name: 'm', version: '1' }, input: 1, output: 1 }] })
    const v2 = await catalog.build({ source, project: 'p', spec: yaml, sinceLast: true })
    expect(v2.manifest).toMatchObject({ id: 'churn@2', version: 2, after_batch: v1.manifest.watermark, parent: { id: 'churn@1' } })
    expect(v2.manifest.counts.rows).toBe(1)
    const [v1b, v2b] = await Promise.all([
      catalog.build({ source, project: 'p', spec: yaml, name: 'other' }),
      catalog.build({ source, project: 'p', spec: yaml, name: 'other' }),
    ])
    expect([v1b.version, v2b.version].sort()).toEqual([1, 2])
    expect(catalog.list().map((d) => [d.name, d.versions.map((v) => v.id)])).toEqual([
      ['churn', ['churn@1', 'churn@2']],
      ['other', ['other@1', 'other@2']],
    ])
    expect(catalog.get('churn@2').watermark).toBe(v2.manifest.watermark)
    expect(catalog.file('churn@1', 'train.jsonl')).toBe(join(dir, 'churn', '1', 'train.jsonl'))
    expect(() => catalog.file('churn@1', '../../etc/passwd')).toThrow(expect.objectContaining({ code: 'not_found' }))
    expect(() => catalog.get('churn@9')).toThrow(expect.objectContaining({ code: 'not_found' }))
    expect(readdirSync(join(dir, 'churn')).sort()).toEqual(['1', '2'])
  })

  it('parses ids', () => {
    expect(parseDatasetId('a.b-c@12')).toEqual({ name: 'a.b-c', version: 12 })
    expect(parseDatasetId('x@0')).toBeUndefined()
    expect(parseDatasetId('../x@1')).toBeUndefined()
  })
})
