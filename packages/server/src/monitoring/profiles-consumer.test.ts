import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FeedRunner } from '../feed/feed-runner.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { eventRecord } from '../store/store-conformance.test-suite.js'
import type { DerivedStore } from '../store/store.js'
import { ModelConfigs } from './model-config.js'
import { ProfilesConsumer } from './profiles-consumer.js'

let dir: string
let stores: SqliteStore[]
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-profiles-faults-'))
  stores = []
})
afterEach(async () => {
  for (const s of stores) await s.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function open(name: string): Promise<SqliteStore> {
  const s = new SqliteStore({ filename: path.join(dir, `${name}.db`) })
  await s.migrate()
  await new ModelConfigs(s.derived).put('p1', 'm', { monitored_fields: ['input.x', 'input.c'] })
  stores.push(s)
  return s
}

const consumer = (s: SqliteStore) => new ProfilesConsumer(new ModelConfigs(s.derived), s)

/** Batch `i`: 20 events over two versions and two hours of one day. */
async function write(s: SqliteStore, i: number): Promise<void> {
  const events = Array.from({ length: 20 }, (_, j) =>
    eventRecord(
      { id: `e${i}-${j}`, model: 'm', version: String(j % 2), tsMs: Date.UTC(2026, 0, 1, (i + j) % 2, j) },
      { input: { x: ((i * 31 + j * 17) % 97) / 7, c: `k${(i + j) % 5}` } },
    ),
  )
  await s.writeBatch({ events, feedback: [] })
}

async function rows(s: SqliteStore): Promise<string[][]> {
  const r = (await s.derived.db
    .selectFrom('profile_rows')
    .select(['grain', 'start_ms', 'version', 'stage', 'field', 'n', 'profile'])
    .orderBy(['grain', 'start_ms', 'version', 'stage', 'field'])
    .execute()) as Record<string, unknown>[]
  return r.map((x) => Object.values(x).map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v))))
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

/** Applies one batch per step with a fresh consumer each time: every row read back and decoded. */
async function cold(s: SqliteStore): Promise<void> {
  const head = await s.commitHead()
  while ((await s.derived.watermark('profiles')) < head) await new FeedRunner(s, [consumer(s)], { maxBatches: 1 }).catchUp()
}

describe('ProfilesConsumer under faults', () => {
  it('writes the bytes of a fault-free run when steps lose their compare-and-set, fail, or commit without telling', async () => {
    const ref = await open('ref')
    const faults = await open('faults')
    for (let i = 0; i < 9; i++) {
      await write(ref, i)
      await write(faults, i)
    }
    await cold(ref)
    const fates = ['ok', 'lost', 'ok', 'fail', 'ok', 'committed-then-fail', 'ok', 'ok', 'fail'] as const
    const runner = new FeedRunner(
      faulty(faults, (n) => fates[n - 1] ?? 'ok'),
      [consumer(faults)],
      { maxBatches: 1 },
    )
    for (let tries = 0; tries < 30 && (await faults.derived.watermark('profiles')) < 9; tries++) await runner.catchUp().catch(() => {})
    expect(await faults.derived.watermark('profiles')).toBe(9)
    const want = await rows(ref)
    // 2 fields × 2 versions × (2 hours + 1 day).
    expect(want.length).toBe(12)
    expect(await rows(faults)).toEqual(want)
  })

  it('writes the bytes of a fault-free run when two processes take turns', async () => {
    const ref = await open('ref')
    const shared = await open('shared')
    const a = new FeedRunner(shared, [consumer(shared)], { maxBatches: 1 })
    const b = new FeedRunner(shared, [consumer(shared)], { maxBatches: 1 })
    for (let i = 0; i < 8; i++) {
      await write(ref, i)
      await write(shared, i)
      // Two processes take turns (a lease moving): each must start from the store, not its memory.
      await (i % 3 === 2 ? b : a).catchUp()
    }
    await cold(ref)
    expect(await rows(shared)).toEqual(await rows(ref))
  })
})
