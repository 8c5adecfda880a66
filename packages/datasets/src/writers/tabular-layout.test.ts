import { describe, expect, it } from 'vitest'
import { EventView } from '../build/event-view.js'
import type { PipelineRow } from '../build/pipeline.js'
import { compilePlan } from '../spec/compile-plan.js'
import type { TabularType } from '../spec/dataset-spec.js'
import { parseDatasetSpec } from '../spec/parse-spec.js'
import { type Cell, detached, TabularLayout, TypeInference } from './tabular-layout.js'

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The input's leaves by dotted name, as a map keeps them: a repeated name keeps its first place and its last value. */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (isObj(value)) {
    for (const key of Object.keys(value)) flatten(value[key], `${prefix}.${key}`, out)
    return
  }
  out.set(prefix, value)
}

function kindOf(v: unknown): TabularType | undefined {
  if (v === null || v === undefined) return undefined
  if (typeof v === 'number') return 'double'
  if (typeof v === 'boolean') return 'boolean'
  if (typeof v === 'string') return 'string'
  return 'json'
}

/** The inference written plainly: each row's leaves flattened into a map, its values parsed. */
class ReferenceInference {
  readonly kinds = new Map<string, TabularType | undefined>()
  changes = 0
  see(name: string, v: unknown): void {
    const k = kindOf(v)
    if (!this.kinds.has(name)) {
      this.kinds.set(name, k)
      this.changes++
      return
    }
    const prev = this.kinds.get(name)
    if (k !== undefined && prev !== k && prev !== 'json') {
      this.kinds.set(name, prev === undefined ? k : 'json')
      this.changes++
    }
  }
  observe(input: unknown, feedback: [string, string][], label: string | undefined): void {
    const flat = new Map<string, unknown>()
    flatten(input, 'input', flat)
    for (const [name, v] of flat) this.see(name, v)
    for (const [name, json] of feedback) this.see(`feedback.${name}`, JSON.parse(json))
    if (label !== undefined) this.see('label', JSON.parse(label))
  }
  types(): [string, TabularType][] {
    return [...this.kinds].map(([n, k]) => [n, k ?? 'string'])
  }
}

/** A small deterministic generator (xorshift). */
function rng(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

const VALUES: unknown[] = [null, 0, -1.5, 3e21, true, false, '', 'eu', 'x"y', [], [1, 'a'], { deep: 1 }, {}]
const KEYS = ['a', 'b', 'a.b', 'c', '0', '10', 'é', 'plan']

function randomInput(next: () => number, depth: number): unknown {
  const r = next()
  if (depth > 2 || r < 0.25) return VALUES[Math.floor(next() * VALUES.length)]
  const o: Obj = {}
  const n = Math.floor(next() * 4)
  for (let i = 0; i < n; i++) o[KEYS[Math.floor(next() * KEYS.length)]!] = randomInput(next, depth + 1)
  return o
}

const JSON_VALUES = ['null', 'true', 'false', '0', '-2.5', '"yes"', ' "padded"', '[1,2]', '{"a":1}', '1e3']

const plan = compilePlan(
  parseDatasetSpec({
    select: { model: 'm' },
    feedback: {
      label: { window: '7d', missing: { default: null } },
      total: { name: 'purchase', aggregate: 'sum', missing: { default: 0 } },
    },
    label: { from: 'label' },
    format: 'parquet',
  }),
)
const feedbackColumns = plan.columns.filter((c) => !c.implicit).map((c) => c.column)

function row(i: number, input: unknown, values: string[], label: string | undefined): PipelineRow {
  const body = JSON.stringify({ id: `e${i}`, model: { name: 'm', version: '1' }, ...(input === undefined ? {} : { input }) })
  const event = new EventView({ id: `e${i}`, batch: 1, seq: i, tsMs: 1000 + i, body })
  return { event, values, label, labelKey: label, weight: 1, split: 'train', splitKey: `e${i}` }
}

describe('TypeInference', () => {
  it('learns the same types, in the same order, with the same change counts as flattening every row', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = rng(seed)
      const fast = new TypeInference(plan)
      const ref = new ReferenceInference()
      for (let i = 0; i < 60; i++) {
        const input = next() < 0.05 ? undefined : randomInput(next, 0)
        const values = plan.columns.map(() => JSON_VALUES[Math.floor(next() * JSON_VALUES.length)]!)
        const label = next() < 0.1 ? undefined : values[plan.columns.findIndex((c) => c.column === 'label')]!
        fast.observe(row(i, input, values, label))
        ref.observe(
          input,
          feedbackColumns.map((c) => [c, values[plan.columns.findIndex((p) => p.column === c)]!]),
          label,
        )
        expect(fast.changes).toBe(ref.changes)
      }
      expect([...fast.types()]).toEqual(ref.types())
    }
  })

  it('merged from parts of the rows, in any order, gives the types of all of them', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = rng(seed)
      const rows = Array.from({ length: 40 }, (_, i) => {
        const values = plan.columns.map(() => JSON_VALUES[Math.floor(next() * JSON_VALUES.length)]!)
        return row(i, next() < 0.05 ? undefined : randomInput(next, 0), values, next() < 0.1 ? undefined : values[0]!)
      })
      const whole = new TypeInference(plan)
      for (const r of rows) whole.observe(r)
      const parts = [rows.slice(0, 7), rows.slice(7, 8), rows.slice(8, 30), [], rows.slice(30)].map((part) => {
        const t = new TypeInference(plan)
        for (const r of part) t.observe(r)
        return t.kinds()
      })
      for (const order of [parts, [...parts].reverse()]) {
        const merged = new TypeInference(plan)
        for (const k of order) merged.merge(k)
        expect(new Map([...merged.types()].sort())).toEqual(new Map([...whole.types()].sort()))
      }
    }
  })

  it('counts the later of two leaves with one dotted name', () => {
    const t = new TypeInference(plan)
    t.observe(row(1, { 'a.b': 1, a: { b: 'x' } }, ['null', '0'], 'true'))
    expect(t.types().get('input.a.b')).toBe('string')
    t.observe(row(2, { a: { b: 2 } }, ['null', '0'], 'true'))
    expect(t.types().get('input.a.b')).toBe('json')
  })
})

describe('TabularLayout', () => {
  it('puts each input leaf in its declared column, the later of two leaves with one name, undeclared ones left out', () => {
    const types = new Map<string, TabularType>([
      ['input.a', 'json'],
      ['input.a.b', 'string'],
      ['input.c', 'double'],
      ['input.0', 'boolean'],
    ])
    const layout = new TabularLayout(plan, types)
    const names = layout.columns.map((c) => c.name)
    const cellsOf = (input: unknown) => {
      const cells = layout.cells(row(1, input, ['null', '0'], 'true'))
      return Object.fromEntries(names.map((n, i) => [n, cells[i]]))
    }
    expect(cellsOf({ 'a.b': 'first', a: { b: 'second' }, c: 2, z: 1, 0: true })).toMatchObject({
      'input.a': null,
      'input.a.b': 'second',
      'input.c': 2,
      'input.0': true,
    })
    expect(cellsOf({ a: [1, 2], c: 'no', 0: 1 })).toMatchObject({ 'input.a': '[1,2]', 'input.a.b': null, 'input.c': null, 'input.0': null })
    expect(cellsOf(undefined)).toMatchObject({ 'input.a': null, 'input.a.b': null, 'input.c': null })
  })

  it('stays right over inputs with ever new keys (the paths it remembers are forgotten and learnt again)', () => {
    const layout = new TabularLayout(plan, new Map<string, TabularType>([['input.m.k7', 'double']]))
    const at = layout.columns.findIndex((c) => c.name === 'input.m.k7')
    const into: Cell[] = []
    for (let i = 0; i < 30_000; i++) {
      const input = { m: { [`k${i}`]: i, k7: i % 3 === 0 ? i : null } }
      expect(layout.cells(row(i, input, ['null', '0'], 'true'), into)[at]).toBe(i % 3 === 0 ? i : null)
    }
  })
})

describe('detached', () => {
  it('gives the same text (cut from a longer one, or not)', () => {
    const row = `0000000001\u001fevt-${'0'.repeat(20)}\u001f${'{"a":1}'.repeat(200)}`
    for (const s of ['', 'a', 'évé', '😀x', 'e1', row.slice(11, 35), row]) expect(detached(s)).toBe(s)
  })
})
