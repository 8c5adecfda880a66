import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createMemorySource } from '../source/memory-source.js'
import { loadScorer, type ScoredFeedback, scoreEvents } from './score-events.js'

async function scan(source: ReturnType<typeof createMemorySource>) {
  const out = []
  for await (const c of source.scanEvents('p', {}, { upToBatch: await source.watermark('p') }, 3)) out.push(c)
  return out
}

describe('reward scoring', () => {
  it('writes one item per event with a deterministic id, records throws and goes on, and is idempotent', async () => {
    const source = createMemorySource({ clock: () => 0 })
    source.commit('p', {
      events: Array.from({ length: 7 }, (_, i) => ({
        id: `e${i}`,
        ts: '2026-11-01T00:00:00.000Z',
        model: { name: 'm', version: '1' },
        input: { n: i },
        output: i,
      })),
    })
    const dir = mkdtempSync(join(tmpdir(), 'scorer-'))
    try {
      const file = join(dir, 'reward.mjs')
      writeFileSync(
        file,
        `export const version = '2'\nexport async function score(e) { if (e.input.n === 3) throw new Error('bad row'); return e.input.n / 10 }\n`,
      )
      const scorer = await loadScorer(file)
      expect(scorer).toMatchObject({ name: 'reward', version: '2' })
      const stored = new Map<string, string>()
      let conflicts = 0
      const write = async (items: ScoredFeedback[]) => {
        for (const f of items) {
          const prev = stored.get(f.id)
          if (prev !== undefined && prev !== JSON.stringify(f)) conflicts++
          stored.set(f.id, JSON.stringify(f))
        }
      }
      const first = await scoreEvents({ events: await scan(source), scorer, name: 'reward', write, concurrency: 2, batchSize: 2 })
      expect(first.scored).toBe(6)
      expect(first.errors).toEqual([{ eventId: 'e3', message: 'bad row' }])
      expect(stored.size).toBe(6)
      const again = await scoreEvents({ events: await scan(source), scorer, name: 'reward', write })
      expect(again.written).toBe(6)
      expect(stored.size).toBe(6)
      expect(conflicts).toBe(0)
      const item = JSON.parse([...stored.values()][0]!)
      expect(item).toMatchObject({
        event_id: 'e0',
        name: 'reward',
        value: 0,
        source: { type: 'model', id: 'reward@2' },
        ts: '2026-11-01T00:00:00.000Z',
      })
      const v3 = await scoreEvents({ events: await scan(source), scorer: { ...scorer, version: '3' }, name: 'reward', write })
      expect(v3.written).toBe(6)
      expect(stored.size).toBe(12)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
