import { describe, expect, it } from 'vitest'
import { createMemorySource } from '../source/memory-source.js'
import { buildDataset } from '../build/build-dataset.js'
import { jsonString } from './jsonl-writer.js'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

describe('jsonString', () => {
  it('is JSON.stringify of the string, with or without characters that need an escape', () => {
    const packed = '12\u001fevt-0000000042\u001f{}'
    const cases = [
      '',
      'evt-0000000042',
      packed.slice(3, 17), // a slice of a packed row, as stores hand ids out
      'with "quotes"',
      'back\\slash',
      'tab\there',
      'nul\u0000x',
      '\u001f',
      '\u007f del and \u2028 separators \u2029',
      'é ü 中文',
      'pair \ud83d\ude00 ok',
      'lone \ud83d high',
      'lone \ude00 low',
    ]
    for (const s of cases) expect(jsonString(s)).toBe(JSON.stringify(s))
  })
})

describe('jsonl rows', () => {
  it('write ids that need escapes and changing weights as JSON.stringify would', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-jsonl-'))
    try {
      const ids = ['a"1', 'b\\2', 'c\u00013', 'plain-4', 'd\ud8005', 'plain-6']
      const source = createMemorySource()
      source.commit('p', {
        events: ids.map((id, i) => ({
          id,
          ts: new Date(Date.parse('2026-11-01T00:00:00Z') + i * 1000).toISOString(),
          model: { name: 'm', version: '1' },
          input: { x: i },
          output: { y: i },
          sample_rate: [0.5, 0.5, 0.25, 1, 1, 0.5][i],
        })),
      })
      const m = await buildDataset({
        source,
        project: 'p',
        spec: { select: { model: 'm' }, weight: 'inverse_sample_rate', format: 'jsonl' },
        outDir: join(dir, 'out'),
      })
      const rows = m.files
        .filter((f) => f.name.endsWith('.jsonl'))
        .flatMap((f) => readFileSync(join(dir, 'out', f.name), 'utf8').split('\n'))
        .filter(Boolean)
      expect(m.counts.written).toBe(ids.length)
      for (const line of rows) {
        const r = JSON.parse(line) as { id: string; weight: number }
        expect(line.startsWith(`{"id":${JSON.stringify(r.id)},`)).toBe(true)
        expect(line).toContain(`,"weight":${JSON.stringify(r.weight)},`)
      }
      expect(rows.map((l) => (JSON.parse(l) as { id: string }).id).sort()).toEqual([...ids].sort())
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
