import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FeedRunner } from '../feed/feed-runner.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import type { DerivedStore } from '../store/store.js'
import { MetricsConsumer } from './metrics-consumer.js'
import { ModelConfigs } from './model-config.js'
import { PriceTables } from './price-tables.js'

let dir: string
let stores: SqliteStore[]
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-metrics-hot-'))
  stores = []
})
afterEach(async () => {
  for (const s of stores) await s.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function open(name: string): Promise<SqliteStore> {
  const s = new SqliteStore({ filename: path.join(dir, `${name}.db`) })
  await s.migrate()
  stores.push(s)
  return s
}

const consumer = (s: SqliteStore) => new MetricsConsumer(new ModelConfigs(s.derived), s, new PriceTables(s.derived))

/** Batch `i`: events over two versions and arms, and labels (some of earlier batches' events, some replaced). */
async function write(s: SqliteStore, i: number): Promise<void> {
  const events = [0, 1, 2].map((j) =>
    eventRecord(
      { id: `e${i}-${j}`, version: String(j % 2), arm: j === 2 ? 'B' : 'A', tsMs: Date.UTC(2026, 0, 1, i % 3, j) },
      { output: { label: j % 2 ? 'spam' : 'ham', score: 0.6 + j / 10 }, latency_ms: { total: 5 + i + j } },
    ),
  )
  const feedback = [
    feedbackRecord({ id: `l${i}`, eventId: `e${i}-0`, name: 'label', tsMs: Date.UTC(2026, 0, 2, 0, i) }, { label: 'ham' }),
    // A later label of an earlier batch's event: retracts that event's first label in its rows.
    ...(i > 0
      ? [feedbackRecord({ id: `r${i}`, eventId: `e${i - 1}-0`, name: 'label', tsMs: Date.UTC(2026, 0, 3, 0, i) }, { label: 'spam' })]
      : []),
  ]
  await s.writeBatch({ events, feedback })
}

async function rows(s: SqliteStore): Promise<string[][]> {
  const r = (await s.derived.db
    .selectFrom('metric_rows')
    .select(['grain', 'version', 'stage', 'arm', 'endpoint', 'dim_key', 'dim_value', 'start_ms', 'n', 'agg'])
    .orderBy(['grain', 'version', 'stage', 'arm', 'endpoint', 'dim_key', 'dim_value', 'start_ms'])
    .execute()) as Record<string, unknown>[]
  return r.map((x) => Object.values(x).map(String))
}

/** The store's feed view with a derived store whose `advance` is decided by `fate` (per call). */
function faulty(s: SqliteStore, fate: (call: number) => 'ok' | 'lost' | 'fail' | 'committed-then-fail') {
  let call = 0
  const derived: DerivedStore = Object.create(s.derived, {
    advance: {
      value: async (...a: Parameters<DerivedStore['advance']>) => {
        const f = fate(++call)
        if (f === 'lost') return false
        if (f === 'fail') throw new Error('writer fault')
        const ok = await s.derived.advance(...a)
        if (f === 'committed-then-fail') throw new Error('reply lost')
        return ok
      },
    },
  })
  return { derived, readBatches: s.readBatches.bind(s), commitHead: s.commitHead.bind(s) }
}

describe('MetricsConsumer hot rows', () => {
  it('equal a recount when steps lose their compare-and-set, fail, or commit without telling', async () => {
    const ref = await open('ref')
    const hot = await open('hot')
    for (let i = 0; i < 9; i++) {
      await write(ref, i)
      await write(hot, i)
    }
    // The same steps (one batch each), so every row sees the same merges in the same order.
    await new FeedRunner(ref, [consumer(ref)], { maxBatches: 1 }).catchUp()
    const fates = ['ok', 'lost', 'ok', 'fail', 'ok', 'committed-then-fail', 'ok', 'ok', 'fail'] as const
    const runner = new FeedRunner(
      faulty(hot, (n) => fates[n - 1] ?? 'ok'),
      [consumer(hot)],
      { maxBatches: 1 },
    )
    for (let tries = 0; tries < 30 && (await hot.derived.watermark('metrics')) < 9; tries++) await runner.catchUp().catch(() => {})
    expect(await hot.derived.watermark('metrics')).toBe(9)
    const want = await rows(ref)
    expect(want.length).toBeGreaterThan(30)
    expect(await rows(hot)).toEqual(want)
  })

  it('are read back when another process moved the watermark in between', async () => {
    const ref = await open('ref')
    const shared = await open('shared')
    const a = new FeedRunner(shared, [consumer(shared)])
    const b = new FeedRunner(shared, [consumer(shared)])
    const r = new FeedRunner(ref, [consumer(ref)])
    for (let i = 0; i < 8; i++) {
      await write(ref, i)
      await write(shared, i)
      // Two processes take turns (a lease moving): each must start from the store, not its memory.
      await (i % 3 === 2 ? b : a).catchUp()
      await r.catchUp()
    }
    expect(await rows(shared)).toEqual(await rows(ref))
  })
})
