import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMemorySource, type MemorySource } from '../source/memory-source.js'
import type { DatasetSource } from '../source/dataset-source.js'
import type { DatasetSpec } from '../spec/dataset-spec.js'
import { buildDataset } from './build-dataset.js'
import { cutBounds } from './compile-in-ranges.js'
import type { RangeCompiler, RangeJob } from './compile-range.js'
import { filesOf, stable } from './dataset-fixture.test-suite.js'
import { localRangeCompiler } from './local-range-compiler.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'inferlog-par-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/**
 * 480 events in 60 batches (each batch's labels committed with the next one): repeated inputs
 * (dedupe), two regions (`where`), labels true/false/"maybe" (an unmapped one) or none (missing),
 * chat messages on some (others skipped by openai-chat), candidates and preferences on some.
 */
export function parallelSource(): MemorySource {
  const source = createMemorySource({ clock: () => Date.parse('2026-11-20T00:00:00.000Z') })
  let pending: Record<string, unknown>[] = []
  for (let b = 0; b < 60; b++) {
    const events: Record<string, unknown>[] = []
    const feedback = pending
    pending = []
    for (let k = 0; k < 8; k++) {
      const i = b * 8 + k
      // A few ids the members file must quote (tab, line break, quote).
      const id = i % 50 === 7 ? `ev\t"${i}"\n` : `ev${String(i).padStart(4, '0')}`
      events.push({
        id,
        ts: new Date(Date.parse('2026-11-01T00:00:00.000Z') + i * 60_000).toISOString(),
        model: { name: 'm', version: i % 5 === 0 ? '2' : '1' },
        input: i % 3 === 0 ? { messages: [{ role: 'user', content: `q${i % 70}` }] } : { x: i % 97, plan: (i % 97) % 2 ? 'pro' : 'free' },
        output: i % 6 === 0 ? (i % 12 === 0 ? 'a' : 'b') : i % 4 === 0 ? { score: i / 1000 } : 'é✓',
        ...(i % 6 === 0
          ? {
              candidates: [
                { output: 'a', score: 0.6 },
                { output: 'b', score: 0.4 },
              ],
            }
          : {}),
        trace: { session_id: `s${i % 37}` },
        context: { tags: { region: i % 7 === 0 ? 'us' : 'eu' } },
        sample_rate: i % 9 === 0 ? 0.5 : 1,
      })
      if (i % 10 !== 9) {
        const value = i % 23 === 0 ? 'maybe' : i % 3 === 1
        pending.push({
          id: `fb${i}`,
          event_id: id,
          name: 'label',
          value,
          ts: new Date(Date.parse('2026-11-01T00:00:00.000Z') + i * 60_000 + 1000).toISOString(),
        })
      }
      if (i % 6 === 0) pending.push({ id: `pr${i}`, event_id: id, name: 'preference', value: { chosen: 1, rejected: 0 } })
      if (i % 11 === 0) pending.push({ id: `rw${i}`, event_id: id, name: 'reward', value: i % 4 })
    }
    source.commit('p', { events, feedback })
  }
  source.commit('p', { feedback: pending })
  return source
}

const splits = { by: 'trace.session_id', ratios: { train: 0.7, validation: 0.2, test: 0.1 }, seed: 'x' }
const label = { label: { name: 'label', missing: 'drop' as const } }
const specs: Record<string, DatasetSpec> = {
  'jsonl, dedupe, where, mapped label, balanced weights': {
    select: { where: { 'context.tags.region': 'eu' } },
    feedback: label,
    label: { from: 'label', map: { true: 1, false: 0 } },
    weight: 'balanced',
    dedupe: 'input',
    split: splits,
  },
  'jsonl, limit, dedupe': { feedback: label, dedupe: 'input', select: { limit: 123 }, split: splits, weight: 'inverse_sample_rate' },
  'jsonl, limit on a chunk edge, where': { select: { limit: 40, where: { 'context.tags.region': 'eu' } }, split: splits },
  'csv, inferred columns, dedupe': { format: 'csv', feedback: label, dedupe: 'input', split: splits },
  'parquet, inferred columns, dedupe, where': {
    format: 'parquet',
    feedback: label,
    dedupe: 'input',
    select: { where: { 'context.tags.region': 'eu' } },
    split: splits,
  },
  // Types inferred over the ranges: feedback.label boolean in most pieces, a string ("maybe") in
  // some (json); feedback.reward null in most, a number in some (double); input.messages absent in some.
  'parquet, inferred columns over the ranges, where': {
    format: 'parquet',
    feedback: { ...label, reward: { missing: { default: null } } },
    select: { where: { 'context.tags.region': 'eu' } },
    split: splits,
  },
  'csv, inferred columns over the ranges, balanced': {
    format: 'csv',
    feedback: { ...label, reward: { missing: { default: null } } },
    weight: 'balanced',
    label: { from: 'label' },
    split: splits,
  },
  'parquet, declared columns, limit, balanced': {
    format: 'parquet',
    feedback: label,
    label: { from: 'label' },
    weight: 'balanced',
    select: { limit: 200 },
    columns: { 'input.x': 'int64', 'input.plan': 'string', 'feedback.label': 'boolean', label: 'boolean' },
    split: splits,
  },
  'openai-chat (skips)': { format: 'openai-chat', split: splits, select: { limit: 300 } },
  'preference (skips)': { format: 'preference', dedupe: 'input', split: splits },
  'bandit, prioritized': {
    format: 'bandit',
    feedback: { reward: { missing: { default: 0 } } },
    bandit: { prioritized: { size: 50, seed: 3 } },
    split: splits,
  },
}

describe('parallel builds (ranges compiled apart, same bytes)', () => {
  for (const [name, spec] of Object.entries(specs)) {
    it(`${name}: workers 1, 2, 3 give identical files and manifests`, async () => {
      const source = parallelSource()
      const serial = await buildDataset({
        source,
        project: 'p',
        spec,
        outDir: join(dir, 'serial'),
        chunkSize: 8,
        rowGroupSize: 16,
        clock: () => 0,
      })
      expect(serial.counts.rows).toBeGreaterThan(0)
      for (const [workers, rangeCount] of [
        [1, 7],
        [2, 7],
        [3, 64],
        [2, 1],
      ] as const) {
        const out = join(dir, `w${workers}-${rangeCount}`)
        const m = await buildDataset({
          source,
          project: 'p',
          spec,
          outDir: out,
          chunkSize: 8,
          rowGroupSize: 16,
          clock: () => 0,
          ranges: localRangeCompiler(source, { workers, ahead: 2 }),
          rangeCount,
        })
        expect(stable(m)).toEqual(stable(serial))
        expect(filesOf(out)).toEqual(filesOf(join(dir, 'serial')))
      }
    })
  }

  it('runs the counting pass over the ranges, unless it infers column types with a dedupe or limit', async () => {
    const source = parallelSource()
    const jobs: RangeJob[] = []
    const local = localRangeCompiler(source, { workers: 2 })
    const recording: RangeCompiler = {
      workers: 2,
      compile(job) {
        jobs.push(job)
        return local.compile(job)
      },
    }
    await buildDataset({
      source,
      project: 'p',
      spec: specs['jsonl, dedupe, where, mapped label, balanced weights']!,
      outDir: join(dir, 'a'),
      ranges: recording,
      rangeCount: 6,
    })
    expect(jobs.filter((j) => j.count).length).toBe(6)
    expect(jobs.filter((j) => !j.count).length).toBe(6)
    expect(jobs.find((j) => !j.count)!.classWeights).toBeDefined()
    jobs.length = 0
    await buildDataset({
      source,
      project: 'p',
      spec: specs['csv, inferred columns, dedupe']!,
      outDir: join(dir, 'b'),
      ranges: recording,
      rangeCount: 6,
    })
    expect(jobs.filter((j) => j.count).length).toBe(0)
    expect(jobs[0]!.columnTypes).toBeDefined()
    jobs.length = 0
    await buildDataset({
      source,
      project: 'p',
      spec: specs['parquet, inferred columns over the ranges, where']!,
      outDir: join(dir, 'c'),
      ranges: recording,
      rangeCount: 6,
    })
    expect(jobs.filter((j) => j.count && j.inferTypes).length).toBe(6)
    expect(jobs.filter((j) => !j.count).length).toBe(6)
    expect(new Map(jobs.find((j) => !j.count)!.columnTypes)).toEqual(
      new Map([
        ['input.messages', 'json'],
        ['input.plan', 'string'],
        ['input.x', 'double'],
        ['feedback.label', 'json'],
        ['feedback.reward', 'double'],
      ]),
    )
  })

  it('a limit counts the scanned chunk the serial scan stopped in', async () => {
    const source = parallelSource()
    for (const limit of [1, 8, 9, 479, 480, 1000]) {
      const spec: DatasetSpec = { select: { limit } }
      const a = await buildDataset({ source, project: 'p', spec, outDir: join(dir, `a${limit}`), chunkSize: 8, clock: () => 0 })
      const b = await buildDataset({
        source,
        project: 'p',
        spec,
        outDir: join(dir, `b${limit}`),
        chunkSize: 8,
        clock: () => 0,
        ranges: localRangeCompiler(source, { workers: 3 }),
        rangeCount: 13,
      })
      expect(b.counts).toEqual(a.counts)
      expect(b.files).toEqual(a.files)
    }
  })

  it('sinceLast: ranges cut only the new batches', async () => {
    const source = parallelSource()
    const first = await buildDataset({ source, project: 'p', spec: {}, outDir: join(dir, 'v1'), watermark: 20 })
    const a = await buildDataset({ source, project: 'p', spec: {}, outDir: join(dir, 'a'), parent: first, sinceLast: true, clock: () => 0 })
    const b = await buildDataset({
      source,
      project: 'p',
      spec: {},
      outDir: join(dir, 'b'),
      parent: first,
      sinceLast: true,
      clock: () => 0,
      ranges: localRangeCompiler(source, { workers: 2 }),
      rangeCount: 9,
    })
    expect(stable(b)).toEqual(stable(a))
    expect(filesOf(join(dir, 'b'))).toEqual(filesOf(join(dir, 'a')))
  })

  it('a failing range fails the build and leaves nothing behind', async () => {
    const source = parallelSource()
    let scans = 0
    const failing: DatasetSource = {
      ...source,
      scanEvents(project, filter, bounds, chunkSize) {
        if (++scans === 5) throw new Error('disk on fire')
        return source.scanEvents(project, filter, bounds, chunkSize)
      },
      feedbackFor: source.feedbackFor.bind(source),
      watermark: source.watermark.bind(source),
    }
    await expect(
      buildDataset({
        source: failing,
        project: 'p',
        spec: {},
        outDir: join(dir, 'x'),
        ranges: localRangeCompiler(failing, { workers: 2 }),
        rangeCount: 10,
      }),
    ).rejects.toThrow('disk on fire')
    expect(existsSync(join(dir, 'x'))).toBe(false)
    expect(readdirSync(dir)).toEqual([])
  })

  it('an abort fails the build and leaves nothing behind', async () => {
    const source = parallelSource()
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await expect(
      buildDataset({
        source,
        project: 'p',
        spec: {},
        outDir: join(dir, 'x'),
        signal: controller.signal,
        ranges: localRangeCompiler(source, { workers: 2 }),
        rangeCount: 10,
      }),
    ).rejects.toMatchObject({ code: 'aborted' })
    expect(readdirSync(dir)).toEqual([])
  })

  it('cuts bounds into consecutive ranges of equal width', () => {
    expect(cutBounds({ afterBatch: 10, upToBatch: 20 }, 4)).toEqual([
      { afterBatch: 10, upToBatch: 13 },
      { afterBatch: 13, upToBatch: 15 },
      { afterBatch: 15, upToBatch: 18 },
      { afterBatch: 18, upToBatch: 20 },
    ])
    expect(cutBounds({ upToBatch: 2 }, 10)).toEqual([
      { afterBatch: 0, upToBatch: 1 },
      { afterBatch: 1, upToBatch: 2 },
    ])
  })
})
