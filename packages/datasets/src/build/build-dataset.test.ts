import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DatasetSpec } from '../spec/dataset-spec.js'
import { buildDataset } from './build-dataset.js'
import { fixtureSource, iso, type NaiveLog, naiveLog, naiveSplit, readJsonl, sortedJson } from './dataset-fixture.test-suite.js'

type Obj = Record<string, unknown>

const WINDOWS: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }

function walk(v: unknown, path: string): unknown {
  for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Obj)[k] : undefined
  return v
}

/** The expected dataset, computed the plain way from the same log: the reference the build must match. */
function naiveBuild(log: NaiveLog, spec: DatasetSpec, watermark: number): Obj[] {
  const sel = spec.select ?? {}
  const versions = sel.version === undefined ? undefined : ([] as string[]).concat(sel.version)
  const rows: Obj[] = []
  const seenInputs = new Set<string>()
  const events = log.events.filter((r) => r.batch <= watermark).sort((a, b) => a.batch - b.batch || a.seq - b.seq)
  let selected = 0
  for (const { e, tsMs } of events) {
    const model = e.model as Obj
    if (sel.model !== undefined && model.name !== sel.model) continue
    if (versions && !versions.includes(model.version as string)) continue
    if ((model.stage ?? 'primary') !== (sel.stage ?? model.stage ?? 'primary')) continue
    if ((e.status ?? 'ok') !== (sel.status ?? 'ok')) continue
    const ms = (t: string | number) => (typeof t === 'number' ? t : Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t))
    if (sel.from !== undefined && tsMs < ms(sel.from)) continue
    if (sel.to !== undefined && tsMs >= ms(sel.to)) continue
    if (Object.entries(sel.where ?? {}).some(([p, v]) => sortedJson(walk(e, p)) !== sortedJson(v))) continue
    if (sel.limit !== undefined && selected >= sel.limit) break
    selected++
    const feedback: Obj = {}
    let drop = false
    for (const [column, def] of Object.entries(spec.feedback ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const m = typeof def.window === 'string' ? /^(\d+)([a-z]+)$/.exec(def.window) : null
      const windowMs = m ? Number(m[1]) * WINDOWS[m[2]!]! : undefined
      const items = log.feedback
        .filter((r) => r.batch <= watermark && r.f.event_id === e.id && r.f.name === (def.name ?? column))
        .filter((r) => windowMs === undefined || (r.tsMs >= tsMs && r.tsMs <= tsMs + windowMs))
        .sort((a, b) => a.tsMs - b.tsMs || a.batch - b.batch || a.seq - b.seq)
      const values = items.map((r) => r.f.value)
      const nums = values.filter((v) => typeof v === 'number' || typeof v === 'boolean').map(Number)
      let value: unknown
      const agg = def.aggregate ?? 'latest'
      if (agg === 'latest') value = values.at(-1)
      else if (agg === 'earliest') value = values[0]
      else if (agg === 'count') value = values.length > 0 ? values.length : undefined
      else if (agg === 'all') value = values.length > 0 ? values : undefined
      else if (nums.length > 0) {
        const sum = nums.reduce((a, b) => a + b, 0)
        value = agg === 'sum' ? sum : agg === 'mean' ? sum / nums.length : agg === 'min' ? Math.min(...nums) : Math.max(...nums)
      }
      if (value === undefined) {
        if (def.missing === undefined || def.missing === 'drop') {
          drop = true
          break
        }
        value = def.missing.default
      }
      feedback[column] = value
    }
    if (drop) continue
    const row: Obj = { id: e.id, ts: e.ts ?? iso(tsMs), model: e.model, input: e.input ?? null, output: e.output ?? null, feedback }
    if (spec.label) {
      let label = feedback[spec.label.from]
      if (spec.label.map) {
        const key = typeof label === 'string' ? label : sortedJson(label)
        if (!(key in spec.label.map)) continue
        label = spec.label.map[key]
      }
      row.label = label
    }
    if (spec.dedupe === 'input') {
      const key = sortedJson(e.input ?? null)
      if (seenInputs.has(key)) continue
      seenInputs.add(key)
    }
    const by = spec.split?.by ?? 'trace.session_id'
    const k = walk(e, by) ?? walk(e, 'trace.user_id') ?? e.id
    const ratios = spec.split?.ratios ?? { train: 1 }
    row.split = naiveSplit(String(spec.split?.seed ?? ''), typeof k === 'string' ? k : sortedJson(k), ratios)
    const rate = e.sample_rate
    row.weight = spec.weight === 'none' ? 1 : typeof rate === 'number' ? 1 / rate : 1
    rows.push(row)
  }
  if (spec.weight === 'balanced') {
    const counts = new Map<string, number>()
    for (const r of rows) counts.set(sortedJson(r.label), (counts.get(sortedJson(r.label)) ?? 0) + 1)
    for (const r of rows) r.weight = rows.length / (counts.size * counts.get(sortedJson(r.label))!)
  }
  const names = Object.keys(spec.split?.ratios ?? { train: 1 }).sort()
  return names.flatMap((n) => rows.filter((r) => r.split === n))
}

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'inferlog-ds-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const SPLIT = { by: 'trace.session_id', ratios: { train: 0.5, validation: 0.25, test: 0.25 }, seed: 's1' }
const splitNames = ['test', 'train', 'validation']

async function check(spec: DatasetSpec, name: string) {
  const source = fixtureSource()
  const manifest = await buildDataset({ source, project: 'p', spec, outDir: join(dir, name) })
  const expected = naiveBuild(naiveLog(), spec, 3)
  const names = Object.keys(spec.split?.ratios ?? { train: 1 }).sort()
  expect(readJsonl(join(dir, name), names)).toEqual(expected)
  return { manifest, expected }
}

describe('buildDataset against a naive reimplementation', () => {
  it('joins label (latest, earliest), purchase (sum, mean, min, max, count, all) with windows, defaults and drops', async () => {
    const spec: DatasetSpec = {
      select: { model: 'churn-clf', version: ['3.2.0', '3.3.0'], where: { 'context.tags.region': 'eu' } },
      feedback: {
        label: { name: 'label', window: '7d', aggregate: 'latest', missing: 'drop' },
        first: { name: 'label', window: '7d', aggregate: 'earliest', missing: { default: null } },
        total: { name: 'purchase', window: '7d', aggregate: 'sum', missing: { default: 0 } },
        avg: { name: 'purchase', aggregate: 'mean', missing: { default: null } },
        lo: { name: 'purchase', aggregate: 'min', missing: { default: -1 } },
        hi: { name: 'purchase', aggregate: 'max', missing: { default: -1 } },
        n: { name: 'purchase', window: '12h', aggregate: 'count', missing: { default: 0 } },
        hist: { name: 'purchase', aggregate: 'all', missing: { default: [] } },
      },
      label: { from: 'label', map: { true: 1, false: 0 } },
      weight: 'inverse_sample_rate',
      split: SPLIT,
    }
    const { manifest, expected } = await check(spec, 'a')
    // The fixture's intent, spelled out: e01 latest label false (f02 after f01), e04's tie goes to the later commit.
    const byId = Object.fromEntries(expected.map((r) => [r.id, r]))
    expect(byId.e01).toMatchObject({
      label: 0,
      feedback: { total: 15.5, avg: 7.75, lo: 5.5, hi: 10, n: 2, hist: [10, 'n/a', 5.5] },
      weight: 2,
    })
    expect(byId.e02).toMatchObject({ label: 0 }) // f06 early is out, f07 at the window's end is in
    expect(byId.e03).toBeUndefined() // f08 is late: no label, dropped
    expect(byId.e04).toMatchObject({ label: 0, feedback: { first: true } })
    expect(byId.e06).toBeUndefined() // status error
    expect(byId.e10).toBeUndefined() // "maybe" is not in the map
    expect(manifest.counts.dropped).toEqual({ missing: { label: 2 }, unmapped_label: 1, duplicate_input: 0 })
    expect(manifest.counts.rows).toBe(expected.length)
    expect(Object.values(manifest.splits).reduce((a, s) => a + s.rows, 0)).toBe(expected.length)
  })

  it('dedupes canonical inputs, keeps rows without labels through defaults, weights none', async () => {
    const spec: DatasetSpec = {
      select: { model: 'churn-clf' },
      feedback: {
        label: { window: '7d', missing: { default: 'unknown' } },
        buys: { name: 'purchase', aggregate: 'sum', missing: { default: 0 } },
      },
      dedupe: 'input',
      weight: 'none',
      split: SPLIT,
    }
    const { manifest, expected } = await check(spec, 'b')
    expect(expected.map((r) => r.id)).not.toContain('e03') // same input as e01, keys reordered
    expect(manifest.counts.dropped.duplicate_input).toBe(1)
  })

  it('selects error events only when asked, honours stage, limit and time bounds', async () => {
    await check({ select: { status: 'error' }, split: SPLIT }, 'c')
    await check({ select: { stage: 'shadow' }, feedback: { label: {} } }, 'd')
    const { expected } = await check({ select: { model: 'churn-clf', limit: 3 }, split: SPLIT }, 'e')
    expect(expected).toHaveLength(3)
    const { expected: timed } = await check({ select: { from: iso(Date.parse('2026-11-01T03:00:00Z')), to: '2026-11-01T05:00:00Z' } }, 'f')
    expect(timed.map((r) => r.id)).toEqual(['e03', 'e04'])
  })

  it('balanced weights from class counts, and a label without map', async () => {
    const spec: DatasetSpec = { feedback: { label: { window: '7d' } }, label: { from: 'label' }, weight: 'balanced', split: SPLIT }
    const { manifest, expected } = await check(spec, 'g')
    const labels = manifest.labels
    expect(Object.values(labels).reduce((a, b) => a + b, 0)).toBe(expected.length)
    expect(manifest.class_weights).toBeDefined()
  })

  it('writes the generic row keys in contract order, ts from the stored text or the receipt time', async () => {
    const source = fixtureSource()
    await buildDataset({ source, project: 'p', spec: { select: { model: 'churn-clf', version: '3.2.0' } }, outDir: join(dir, 'h') })
    const lines = readFileSync(join(dir, 'h', 'train.jsonl'), 'utf8')
      .trim()
      .split('\n')
    expect(Object.keys(JSON.parse(lines[0]!))).toEqual(['id', 'ts', 'model', 'input', 'output', 'feedback', 'weight', 'split'])
    const e14 = lines.map((l) => JSON.parse(l) as Obj).find((r) => r.id === 'e14')
    expect(e14?.ts).toBe(iso(Date.parse('2026-11-01T14:00:00.000Z')))
  })
})

describe('build output', () => {
  it('leaves no directory when the build fails midway', async () => {
    const source = fixtureSource()
    const failing = {
      ...source,
      async *scanEvents(...args: Parameters<typeof source.scanEvents>) {
        for await (const chunk of source.scanEvents(...args)) {
          yield chunk
          throw new Error('disk on fire')
        }
      },
    }
    await expect(buildDataset({ source: failing, project: 'p', spec: {}, outDir: join(dir, 'x'), chunkSize: 2 })).rejects.toThrow(
      'disk on fire',
    )
    expect(readdirSync(dir)).toEqual([])
  })

  it('rejects an invalid spec with every error before writing anything', async () => {
    const spec = {
      select: { version: 3.2, status: 'bad', from: 'yesterday' },
      feedback: { l: { aggregate: 'median', window: '7 days' } },
      weight: 'balanced',
      label: { from: 'nope' },
      split: { ratios: { train: 0.9 } },
    }
    const err = await buildDataset({ source: fixtureSource(), project: 'p', spec, outDir: join(dir, 'y') }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'invalid_spec' })
    const paths = (err as { issues: { path: string }[] }).issues.map((i) => i.path).sort()
    expect(paths).toEqual([
      '/feedback/l/aggregate',
      '/feedback/l/window',
      '/label/from',
      '/select/from',
      '/select/status',
      '/select/version',
      '/split/ratios',
    ])
    expect(readdirSync(dir)).toEqual([])
  })
})

export { splitNames }
