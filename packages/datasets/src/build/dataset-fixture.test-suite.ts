import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createMemorySource, type MemorySource } from '../source/memory-source.js'

/** Shared test fixture: a small log with every join case, and a naive reference implementation. */

export const T0 = Date.parse('2026-11-01T00:00:00.000Z')
const H = 3_600_000
const D = 24 * H
export const iso = (ms: number) => new Date(ms).toISOString()

type Obj = Record<string, unknown>

/** Events: sessions, users, duplicates (e03 = e01 with keys reordered), versions, stages, statuses, regions. */
export function fixtureEvents(): Obj[] {
  const ev = (n: number, over: Obj): Obj => ({
    id: `e${String(n).padStart(2, '0')}`,
    ts: iso(T0 + n * H),
    model: { name: 'churn-clf', version: '3.2.0' },
    input: { tenure: n, plan: n % 2 ? 'pro' : 'free' },
    output: { churn: n % 3 === 0, score: n / 100 },
    trace: { session_id: `s${n % 4}`, user_id: `u${n % 3}` },
    context: { tags: { region: 'eu' } },
    ...over,
  })
  return [
    ev(1, { input: { tenure: 1, plan: 'pro', address: { city: 'Berlin' } }, sample_rate: 0.5 }),
    ev(2, { model: { name: 'churn-clf', version: '3.3.0' } }),
    ev(3, { input: { address: { city: 'Berlin' }, plan: 'pro', tenure: 1 } }),
    ev(4, { trace: { user_id: 'u9' } }),
    ev(5, { trace: {} }),
    ev(6, { status: 'error', output: undefined, error: { type: 'Timeout', message: 'slow' } }),
    ev(7, { model: { name: 'churn-clf', version: '3.2.0', stage: 'shadow' } }),
    ev(8, { model: { name: 'churn-clf', version: '3.4.0' } }),
    ev(9, { context: { tags: { region: 'us' } } }),
    ev(10, { sample_rate: 0.25 }),
    ev(11, { model: { name: 'other', version: '1' } }),
    ev(12, { input: { tenure: 12, plan: 'free', flags: [1, 2] } }),
    ev(13, {}),
    ev(14, { ts: undefined }),
  ]
}

/** Feedback: early, at both window edges, late, ties, several per column, strings among numbers. */
export function fixtureFeedback(): Obj[] {
  const fb = (id: string, event: number, name: string, value: unknown, tsMs: number): Obj => ({
    id,
    event_id: `e${String(event).padStart(2, '0')}`,
    name,
    value,
    ts: iso(tsMs),
  })
  const at = (n: number) => T0 + n * H
  return [
    fb('f01', 1, 'label', true, at(1) + H),
    fb('f02', 1, 'label', false, at(1) + 2 * H),
    fb('f03', 1, 'purchase', 10, at(1) + 3 * H),
    fb('f04', 1, 'purchase', 5.5, at(1) + 20 * H),
    fb('f05', 1, 'purchase', 'n/a', at(1) + 4 * H),
    fb('f06', 2, 'label', true, at(2) - 1), // early: outside a window
    fb('f07', 2, 'label', false, at(2) + 7 * D), // exactly at the window's end: inside
    fb('f08', 3, 'label', true, at(3) + 7 * D + 1), // late: outside a 7d window
    fb('f09', 3, 'purchase', 3, at(3)), // exactly at the event: inside
    fb('f10', 4, 'label', true, at(4) + H),
    fb('f11', 4, 'label', false, at(4) + H), // same ts as f10, committed in the same batch after it
    fb('f12', 5, 'purchase', 7, at(5) + 13 * H),
    fb('f13', 5, 'purchase', 1, at(5) + H),
    fb('f14', 6, 'label', true, at(6) + H),
    fb('f15', 7, 'label', false, at(7) + H),
    fb('f16', 9, 'label', true, at(9) + H),
    fb('f17', 10, 'label', 'maybe', at(10) + H),
    fb('f18', 12, 'label', false, at(12) + H),
    fb('f19', 12, 'purchase', 2, at(12) + 2 * H),
    fb('f20', 12, 'purchase', 4, at(12) + 2 * H),
    fb('f21', 13, 'label', true, at(13) + 3 * H),
    fb('f22', 14, 'label', true, Date.parse('2026-11-02T00:00:00.000Z')),
    fb('f23', 99, 'label', true, at(1)), // feedback of an unknown event
  ]
}

/** A memory source with the fixture committed in three batches (feedback before and after its events). */
export function fixtureSource(clockMs = T0 + 14 * H): MemorySource {
  const source = createMemorySource({ clock: () => clockMs })
  const events = fixtureEvents()
  const feedback = fixtureFeedback()
  source.commit('p', { feedback: feedback.slice(0, 2) })
  source.commit('p', { events: events.slice(0, 8), feedback: feedback.slice(2, 10) })
  source.commit('p', { events: events.slice(8), feedback: feedback.slice(10) })
  return source
}

/** Ordered stored rows, for the naive implementation (ids of batches follow fixtureSource). */
export interface NaiveLog {
  events: { batch: number; seq: number; tsMs: number; e: Obj }[]
  feedback: { batch: number; seq: number; tsMs: number; f: Obj }[]
}

export function naiveLog(clockMs = T0 + 14 * H): NaiveLog {
  const events = fixtureEvents().map((e) => JSON.parse(JSON.stringify(e)) as Obj)
  const feedback = fixtureFeedback()
  const log: NaiveLog = { events: [], feedback: [] }
  let seq = 0
  const put = (batch: number, es: Obj[], fs: Obj[]) => {
    for (const e of es) log.events.push({ batch, seq: ++seq, tsMs: typeof e.ts === 'string' ? Date.parse(e.ts) : clockMs, e })
    for (const f of fs) log.feedback.push({ batch, seq: ++seq, tsMs: Date.parse(f.ts as string), f })
  }
  put(1, [], feedback.slice(0, 2))
  put(2, events.slice(0, 8), feedback.slice(2, 10))
  put(3, events.slice(8), feedback.slice(10))
  return log
}

/** Canonical JSON (sorted keys) for the naive side's comparisons: written independently of the canonicalize package. */
export function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((v as Obj)[k])}`)
      .join(',')}}`
  return JSON.stringify(v)
}

/** Split by the documented rule, recomputed from scratch. */
export function naiveSplit(seed: string, key: string, ratios: Record<string, number>): string {
  const names = Object.keys(ratios).sort()
  const hex = createHash('sha256').update(`${seed}\u0000${key}`).digest('hex').slice(0, 12)
  const u = Number.parseInt(hex, 16) / 2 ** 48
  let acc = 0
  for (const n of names) {
    acc += ratios[n]!
    if (u < acc) return n
  }
  return names[names.length - 1]!
}

/** Reads every `*.jsonl` row of a built dataset, split by split in name order. */
export function readJsonl(dir: string, splits: string[]): Obj[] {
  return splits.flatMap((s) =>
    readFileSync(join(dir, `${s}.jsonl`), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Obj),
  )
}

/** A build directory's data files (every file but the manifest), name → hex of the bytes. */
export function filesOf(d: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(d)
      .filter((f) => f !== 'manifest.json')
      .map((f) => [f, readFileSync(join(d, f), 'hex')]),
  )
}

/** A manifest without what differs between two builds of the same log (`built_at`, `name`). */
export function stable(m: object): object {
  const { built_at: _, name: __, ...rest } = m as Record<string, unknown>
  return rest
}
