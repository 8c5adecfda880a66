import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildDataset } from '../build/build-dataset.js'
import { fixtureSource, readJsonl } from '../build/dataset-fixture.test-suite.js'
import { createMemorySource } from '../source/memory-source.js'
import type { DatasetSpec } from '../spec/dataset-spec.js'

type Obj = Record<string, unknown>
let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'inferlog-ds-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Obj)

const tabularSpec: DatasetSpec = {
  select: { model: 'churn-clf' },
  feedback: { label: { window: '7d', missing: { default: null } }, total: { name: 'purchase', aggregate: 'sum', missing: { default: 0 } } },
  // The map drops e10's "maybe": types are inferred over the rows written, so both label columns are boolean.
  label: { from: 'label', map: { true: true, false: false } },
  split: { ratios: { train: 0.7, test: 0.3 }, seed: 'x' },
}

/** What the tabular formats must hold, derived from the generic JSONL rows of the same spec. */
function expectedTabular(rows: Obj[]): Obj[] {
  return rows.map((r) => {
    const input = r.input as Obj
    const address = input.address as Obj | undefined
    return {
      id: r.id,
      ts: Date.parse(r.ts as string),
      model: (r.model as Obj).name,
      version: (r.model as Obj).version,
      'input.address.city': address?.city ?? null,
      'input.flags': input.flags === undefined ? null : JSON.stringify(input.flags),
      'input.plan': input.plan ?? null,
      'input.tenure': input.tenure ?? null,
      'feedback.label': (r.feedback as Obj).label,
      'feedback.total': (r.feedback as Obj).total,
      label: r.label,
      weight: r.weight,
      split: r.split,
    }
  })
}

describe('tabular formats', () => {
  it('parquet read back by DuckDB: same rows, same types', async () => {
    const source = fixtureSource()
    const m = await buildDataset({
      source,
      project: 'p',
      spec: { ...tabularSpec, format: 'parquet' },
      outDir: join(dir, 'pq'),
      rowGroupSize: 3,
    })
    await buildDataset({ source, project: 'p', spec: tabularSpec, outDir: join(dir, 'js') })
    const expected = expectedTabular(readJsonl(join(dir, 'js'), ['test', 'train']))
    const db = await DuckDBInstance.create(':memory:')
    const conn = await db.connect()
    try {
      const files = ['test', 'train'].map((s) => `'${join(dir, 'pq', `${s}.parquet`)}'`).join(', ')
      const reader = await conn.runAndReadAll(
        `SELECT *, epoch_ms(ts) AS ts_ms FROM read_parquet([${files}], filename = true) ORDER BY filename, file_row_number`,
      )
      const types = Object.fromEntries(reader.columnNames().map((n, i) => [n, String(reader.columnTypes()[i])]))
      expect(types).toMatchObject({
        id: 'VARCHAR',
        ts: expect.stringMatching(/^TIMESTAMP/),
        model: 'VARCHAR',
        'input.tenure': 'DOUBLE',
        'input.plan': 'VARCHAR',
        'input.flags': 'VARCHAR',
        'feedback.label': 'BOOLEAN',
        'feedback.total': 'DOUBLE',
        label: 'BOOLEAN',
        weight: 'DOUBLE',
        split: 'VARCHAR',
      })
      const rows = reader.getRowObjectsJS().map((r) => {
        const { ts: _, ts_ms, filename: __, ...rest } = r as Obj
        return { ...rest, ts: Number(ts_ms) }
      })
      expect(rows).toEqual(expected)
      expect(m.columns?.map((c) => c.name)).toEqual(Object.keys(expected[0]!))
    } finally {
      conn.closeSync()
    }
  })

  it('parquet keeps every value when a column has more distinct strings than it codes, across row groups', async () => {
    // 2 600 events in one split: `note` has 1 300 distinct strings (more than a column codes per
    // split: it switches to plain strings mid-group), `tier` few; both have nulls, as `flag` (boolean).
    const source = createMemorySource({ clock: () => 0 })
    const events = Array.from({ length: 2600 }, (_, i) => ({
      id: `ev${i}`,
      model: { name: 'm', version: '1' },
      input: {
        note: i % 7 === 3 ? null : `note ${i % 1300}`,
        tier: i % 11 === 5 ? null : ['free', 'pro', 'team'][i % 3],
        flag: i % 5 === 2 ? null : i % 2 === 0,
      },
      trace: { session_id: `s${i}` },
    }))
    source.commit('p', { events })
    const spec: DatasetSpec = {
      split: { ratios: { train: 1 }, seed: 'x' },
      format: 'parquet',
      columns: { 'input.note': 'string', 'input.tier': 'string', 'input.flag': 'boolean' },
    }
    await buildDataset({ source, project: 'p', spec, outDir: join(dir, 'pq'), rowGroupSize: 1000 })
    const db = await DuckDBInstance.create(':memory:')
    const conn = await db.connect()
    try {
      const reader = await conn.runAndReadAll(
        `SELECT id, "input.note" AS note, "input.tier" AS tier, "input.flag" AS flag FROM read_parquet('${join(dir, 'pq', 'train.parquet')}') ORDER BY file_row_number`,
      )
      const rows = reader.getRowObjectsJS()
      expect(rows).toEqual(events.map((e) => ({ id: e.id, note: e.input.note, tier: e.input.tier, flag: e.input.flag })))
    } finally {
      conn.closeSync()
    }
  })

  it('declared columns skip inference and fix the types', async () => {
    const source = fixtureSource()
    const spec: DatasetSpec = { ...tabularSpec, format: 'parquet', columns: { 'input.tenure': 'int64', label: 'boolean' } }
    const m = await buildDataset({ source, project: 'p', spec, outDir: join(dir, 'pq') })
    expect(m.columns?.map((c) => `${c.name}:${c.type}`)).toEqual([
      'id:string',
      'ts:timestamp',
      'model:string',
      'version:string',
      'input.tenure:int64',
      'feedback.label:json',
      'feedback.total:json',
      'label:boolean',
      'weight:double',
      'split:string',
    ])
  })

  it('csv has a header and the parquet columns, quoting where needed', async () => {
    const source = fixtureSource()
    await buildDataset({ source, project: 'p', spec: { ...tabularSpec, format: 'csv' }, outDir: join(dir, 'csv') })
    const text = readFileSync(join(dir, 'csv', 'train.csv'), 'utf8').split('\n')
    expect(text[0]).toBe(
      'id,ts,model,version,input.address.city,input.flags,input.plan,input.tenure,feedback.label,feedback.total,label,weight,split',
    )
    const e12 = text.find((l) => l.startsWith('e12,'))
    if (e12) expect(e12).toContain('"[1,2]"')
    expect(text.at(-1)).toBe('')
  })
})

describe('splits', () => {
  it('never puts one key in two splits, and follows the ratios roughly', async () => {
    const source = createMemorySource({ clock: () => 0 })
    const events = Array.from({ length: 3000 }, (_, i) => ({
      id: `ev${i}`,
      model: { name: 'm', version: '1' },
      input: { i },
      output: i % 2,
      trace: i % 10 === 0 ? { user_id: `user${i % 70}` } : { session_id: `sess${i % 400}` },
    }))
    source.commit('p', { events })
    const m = await buildDataset({
      source,
      project: 'p',
      spec: { split: { ratios: { train: 0.8, validation: 0.1, test: 0.1 }, seed: 'abc' } },
      outDir: join(dir, 's'),
    })
    const where = new Map<string, Set<string>>()
    for (const split of ['train', 'validation', 'test']) {
      for (const row of lines(join(dir, 's', `${split}.jsonl`))) {
        const t = (row.input as Obj).i as number
        const key = t % 10 === 0 ? `user${t % 70}` : `sess${t % 400}`
        if (!where.has(key)) where.set(key, new Set())
        where.get(key)!.add(split)
      }
    }
    expect([...where.values()].every((s) => s.size === 1)).toBe(true)
    expect(m.splits.train!.rows / 3000).toBeGreaterThan(0.7)
    expect(m.splits.test!.rows).toBeGreaterThan(0)
    expect(m.splits.validation!.rows).toBeGreaterThan(0)
  })
})

function llmSource() {
  const source = createMemorySource({ clock: () => 0 })
  const messages = [{ role: 'user', content: 'Capital of France?' }]
  source.commit('p', {
    events: [
      { id: 'c1', model: { name: 'llm', version: '1' }, input: { messages }, output: 'Paris.', trace: { session_id: 'a' } },
      {
        id: 'c2',
        model: { name: 'llm', version: '1' },
        input: { messages },
        output: { choices: [{ message: { role: 'assistant', content: 'Lyon.' } }] },
        trace: { session_id: 'b' },
      },
      {
        id: 'c3',
        model: { name: 'llm', version: '1' },
        input: { prompt: 'Say hi' },
        output: 'hello',
        candidates: [{ output: 'hello' }, { output: 'hi there' }, { output: 'yo' }],
      },
      { id: 'c4', model: { name: 'llm', version: '1' }, input: { features: [1, 2] }, output: 'x' },
    ],
    feedback: [
      { id: 'k1', event_id: 'c2', name: 'correction', value: 'Paris.', ts: '2026-11-01T00:00:00Z' },
      { id: 'k0', event_id: 'c2', name: 'correction', value: 'Paris!', ts: '2026-10-31T00:00:00Z' },
      { id: 'k2', event_id: 'c3', name: 'preference', value: { chosen: 1, rejected: 0 }, ts: '2026-11-01T00:00:00Z' },
      { id: 'k3', event_id: 'c3', name: 'preference', value: { chosen: 1, rejected: 2 }, ts: '2026-11-02T00:00:00Z' },
      { id: 'k4', event_id: 'c3', name: 'preference', value: { chosen: 1, rejected: 0 }, ts: '2026-11-03T00:00:00Z' },
      { id: 'k5', event_id: 'c3', name: 'preference', value: { chosen: 7, rejected: 0 }, ts: '2026-11-03T00:00:00Z' },
    ],
  })
  return source
}

describe('LLM formats', () => {
  it('openai-chat: messages plus the answer, a correction replacing it', async () => {
    const m = await buildDataset({ source: llmSource(), project: 'p', spec: { format: 'openai-chat' }, outDir: join(dir, 'chat') })
    const rows = lines(join(dir, 'chat', 'train.jsonl'))
    const q = { role: 'user', content: 'Capital of France?' }
    expect(rows).toEqual([
      { messages: [q, { role: 'assistant', content: 'Paris.' }] },
      { messages: [q, { role: 'assistant', content: 'Paris.' }] },
      {
        messages: [
          { role: 'user', content: 'Say hi' },
          { role: 'assistant', content: 'hello' },
        ],
      },
    ])
    expect(m.counts.skipped).toEqual({ no_messages: 1 })
  })

  it('preference: pairs from candidates and from corrections', async () => {
    const m = await buildDataset({ source: llmSource(), project: 'p', spec: { format: 'preference' }, outDir: join(dir, 'pref') })
    const rows = lines(join(dir, 'pref', 'train.jsonl'))
    const q = [{ role: 'user', content: 'Capital of France?' }]
    expect(rows).toEqual([
      { prompt: q, chosen: [{ role: 'assistant', content: 'Paris.' }], rejected: [{ role: 'assistant', content: 'Lyon.' }] },
      { prompt: 'Say hi', chosen: 'hi there', rejected: 'hello' },
      { prompt: 'Say hi', chosen: 'hi there', rejected: 'yo' },
    ])
    expect(m.counts.skipped).toEqual({ bad_preference: 1, no_pair: 2 })
    expect(m.splits.train!.rows).toBe(3)
    expect(m.splits.train!.ids.count).toBe(2)
  })
})

describe('bandit', () => {
  it('writes VW DSJson with cost = -reward and the logging probability', async () => {
    const source = createMemorySource({ clock: () => 0 })
    const cands = [
      { output: { article: 'news' }, score: 0.2 },
      { output: { article: 'sports' }, score: 0.7 },
      { output: { article: 'music' }, score: 0.1 },
    ]
    source.commit('p', {
      events: [
        {
          id: 'b1',
          ts: '2026-11-01T00:00:00.000Z',
          model: { name: 'rec', version: '2' },
          input: { user: { tier: 'pro' } },
          output: { article: 'sports' },
          candidates: cands,
        },
        {
          id: 'b2',
          ts: '2026-11-01T00:00:01.000Z',
          model: { name: 'rec', version: '2' },
          input: { user: { tier: 'free' } },
          output: { article: 'news' },
          candidates: cands,
        },
        { id: 'b3', model: { name: 'rec', version: '2' }, input: {}, output: { article: 'none' }, candidates: cands },
      ],
      feedback: [
        { id: 'r1', event_id: 'b1', name: 'click', value: 1 },
        { id: 'r3', event_id: 'b3', name: 'click', value: 1 },
      ],
    })
    const m = await buildDataset({
      source,
      project: 'p',
      spec: { format: 'bandit', feedback: { click: { missing: { default: 0 } } } },
      outDir: join(dir, 'b'),
    })
    const rows = lines(join(dir, 'b', 'train.dsjson'))
    expect(rows[0]).toEqual({
      _label_cost: -1,
      _label_probability: 0.7,
      _label_Action: 2,
      _labelIndex: 1,
      Timestamp: '2026-11-01T00:00:00.000Z',
      Version: '1',
      EventId: 'b1',
      a: [2, 1, 3],
      c: { user: { tier: 'pro' }, _multi: [{ article: 'news' }, { article: 'sports' }, { article: 'music' }] },
      p: [0.7, 0.2, 0.1],
      VWState: { m: 'rec@2' },
    })
    expect(rows[1]).toMatchObject({ _label_cost: 0, _label_probability: 0.2, _labelIndex: 0, a: [1, 2, 3] })
    expect(m.counts.skipped).toEqual({ no_chosen_action: 1 })
  })

  it('prioritized sampling is seeded and keeps high-reward rows more often', async () => {
    const source = createMemorySource({ clock: () => 0 })
    const cands = [
      { output: 'a', score: 0.5 },
      { output: 'b', score: 0.5 },
    ]
    source.commit('p', {
      events: Array.from({ length: 400 }, (_, i) => ({
        id: `x${i}`,
        model: { name: 'r', version: '1' },
        input: { i },
        output: 'a',
        candidates: cands,
      })),
      feedback: Array.from({ length: 400 }, (_, i) => ({ id: `y${i}`, event_id: `x${i}`, name: 'reward', value: i % 2 ? 10 : 0 })),
    })
    const spec: DatasetSpec = { format: 'bandit', feedback: { reward: {} }, bandit: { prioritized: { size: 100, seed: 1 } } }
    const a = await buildDataset({ source, project: 'p', spec, outDir: join(dir, 'a') })
    const b = await buildDataset({ source, project: 'p', spec, outDir: join(dir, 'b') })
    expect(b.files).toEqual(a.files)
    const rows = lines(join(dir, 'a', 'train.dsjson'))
    const high = rows.filter((r) => r._label_cost === -10).length
    expect(high).toBeGreaterThan(rows.length - high)
    expect(a.sampling?.size).toBe(100)
  })
})
