import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import type { CommittedBatch } from '../store/store.js'
import { AuditChainConsumer } from '../audit/audit-chain-consumer.js'
import { verifyChain } from '../audit/verify-chain.js'
import { CatalogConsumer } from './catalog-consumer.js'
import type { FeedConsumer } from './feed-consumer.js'
import { FeedRunner } from './feed-runner.js'
import { leaseHolderId } from './lease-holder.js'

let dir: string
let store: SqliteStore
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-feed-'))
  store = new SqliteStore({ filename: path.join(dir, 'f.db') })
  await store.migrate()
})
afterEach(async () => {
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Remembers every batch position it was handed, and fails on demand. */
class Recorder implements FeedConsumer {
  readonly name = 'recorder'
  seen: number[] = []
  failNext = 0
  async apply(batches: readonly CommittedBatch[]) {
    if (this.failNext > 0) {
      this.failNext--
      throw new Error('consumer fault')
    }
    this.seen.push(...batches.map((b) => b.position))
    return []
  }
}

const write = (i: number) =>
  store.writeBatch({
    events: [eventRecord({ id: `e${i}`, model: i % 2 ? 'a' : 'b' }), eventRecord({ id: `x${i}`, model: 'a', version: '2' })],
    feedback: [feedbackRecord({ id: `f${i}`, eventId: `e${i}`, name: i % 3 ? 'thumbs' : 'label' })],
  })

async function catalog() {
  const models = await store.derived.db.selectFrom('catalog_models').selectAll().orderBy(['model', 'version']).execute()
  const names = await store.derived.db.selectFrom('catalog_feedback').selectAll().orderBy('name').execute()
  return { models: models.map((m) => [m.model, m.version, Number(m.events)]), names: names.map((n) => [n.name, Number(n.items)]) }
}

/** The store as a runner sees it (`extra` replaces parts), recording the position of every batch read from it. */
function recordingView<T extends object>(extra?: T) {
  const fromStore: number[] = []
  const view = {
    derived: store.derived,
    commitHead: () => store.commitHead(),
    readBatches: async (after: number, o?: { maxBatches?: number; maxRows?: number }) => {
      const got = await store.readBatches(after, o)
      fromStore.push(...got.map((b) => b.position))
      return got
    },
    ...extra,
  }
  return { view, fromStore }
}

describe('FeedRunner', () => {
  it('applies every committed batch once, in order, across restarts and concurrent runners', async () => {
    for (let i = 0; i < 10; i++) await write(i)
    const rec = new Recorder()
    const a = new FeedRunner(store, [rec, new CatalogConsumer()], { maxBatches: 3 })
    const b = new FeedRunner(store, [rec, new CatalogConsumer()], { maxBatches: 2 })
    await Promise.all([a.catchUp(), b.catchUp()])
    for (let i = 10; i < 15; i++) await write(i)
    // A new runner (a restarted process) starts from the stored watermark.
    await new FeedRunner(store, [rec, new CatalogConsumer()]).catchUp()
    const head = await store.commitHead()
    expect(await store.derived.watermark('recorder')).toBe(head)
    // The recorder may see a batch twice when two runners race (its writes are nothing), but the
    // watermark only moved once per batch; the catalog's counts prove it.
    expect([...new Set(rec.seen)].sort((x, y) => x - y)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1))
    expect(await catalog()).toEqual({
      models: [
        ['a', '1', 7],
        ['a', '2', 15],
        ['b', '1', 8],
      ],
      names: [
        ['label', 5],
        ['thumbs', 10],
      ],
    })
  })

  it('gives its leases up when it stops, so that the next runner (a restart) takes the consumers at once', async () => {
    const rec = new Recorder()
    const a = new FeedRunner(store, [rec], { pollMs: 10, leaseMs: 60_000 })
    a.start()
    await write(0)
    a.poke()
    await vi.waitFor(async () => expect(await store.derived.watermark('recorder')).toBe(await store.commitHead()), { timeout: 10_000 })
    // Running, it holds the lease: another holder cannot take it.
    expect(await store.derived.claim('recorder', 'other', 60_000)).toBe(false)
    await a.stop()
    // Stopped, it gave the lease up (before, the next holder waited out the 60 s).
    expect(await store.derived.claim('recorder', 'other', -1)).toBe(true)
  })

  it.runIf(process.platform === 'linux')(
    'takes at once the lease of a holder of this host that no longer runs (a killed server), not that of a live one',
    async () => {
      await write(0)
      const [host, boot] = leaseHolderId().split('/') as [string, string]
      // A process that held the lease for 60 s and was killed: its pid no longer runs.
      const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
      const killed = `${host}/${boot}/${Number(r.stdout)}/old`
      expect(await store.derived.claim('recorder', killed, 60_000)).toBe(true)
      const rec = new Recorder()
      const b = new FeedRunner(store, [rec], { pollMs: 10, leaseMs: 60_000 })
      b.start()
      try {
        await vi.waitFor(async () => expect(await store.derived.watermark('recorder')).toBe(await store.commitHead()), { timeout: 10_000 })
      } finally {
        await b.stop()
      }
      // A live holder (this test's parent process) keeps its lease: nothing is applied while it holds it.
      await write(1)
      const live = `${host}/${boot}/${process.ppid}/live`
      expect(await store.derived.claim('recorder', live, 60_000)).toBe(true)
      const c = new FeedRunner(store, [new Recorder()], { pollMs: 10, leaseMs: 60_000 })
      c.start()
      try {
        await new Promise((res) => setTimeout(res, 300))
        expect(await store.derived.watermark('recorder')).toBeLessThan(await store.commitHead())
        expect(await store.derived.claim('recorder', 'someone', 60_000)).toBe(false)
      } finally {
        await c.stop()
      }
    },
  )

  it('retries a failing consumer without skipping, and is woken by a commit', async () => {
    const rec = new Recorder()
    rec.failNext = 3
    const runner = new FeedRunner(store, [rec], { pollMs: 60_000, retryMs: 5 })
    runner.start()
    await write(1)
    runner.poke()
    await vi.waitFor(async () => expect(await store.derived.watermark('recorder')).toBe(1), { timeout: 5000 })
    expect(rec.seen).toEqual([1])
    await write(2)
    runner.poke()
    await vi.waitFor(async () => expect(await store.derived.watermark('recorder')).toBe(2), { timeout: 5000 })
    expect(rec.seen).toEqual([1, 2])
    expect(runner.status().get('recorder')).toMatchObject({ position: 2 })
    await runner.stop()
  })

  it('gathers the commits of a pause into one step, keeps a poke that came during the pause, and does not pause when behind', async () => {
    const calls: number[][] = []
    const counter: FeedConsumer = {
      name: 'counter',
      async apply(batches) {
        calls.push(batches.map((b) => b.position))
        return []
      },
    }
    // Behind: 7 batches waiting, 2 per step, a pause of a minute: all applied at once anyway.
    for (let i = 0; i < 7; i++) await write(i)
    const runner = new FeedRunner(store, [counter], { maxBatches: 2, stepIntervalMs: 2000, pollMs: 60_000 })
    runner.start()
    await vi.waitFor(async () => expect(await store.derived.watermark('counter')).toBe(7), { timeout: 10_000 })
    expect(calls).toEqual([[1, 2], [3, 4], [5, 6], [7]])
    await runner.stop()
    // Ten commits, each poking, inside the 2 s pause: one more step takes them (a slow box may
    // split them in two), and it comes without waiting for the one-minute poll.
    // A consumer of its own: the first runner still holds the lease on `counter` after stop().
    const pacedConsumer: FeedConsumer = { name: 'paced', apply: counter.apply }
    const paced = new FeedRunner(store, [pacedConsumer], { stepIntervalMs: 2000, pollMs: 60_000 })
    paced.start()
    for (let i = 7; i < 17; i++) {
      await write(i)
      paced.poke()
    }
    await vi.waitFor(async () => expect(await store.derived.watermark('paced')).toBe(17), { timeout: 15_000 })
    const later = calls.slice(4)
    expect(later.flat()).toEqual(Array.from({ length: 17 }, (_, i) => i + 1))
    expect(later.length).toBeLessThanOrEqual(3)
    await paced.stop()
  })

  it('does not pause after a step the row limit cut short, whether its batches came from the store or the commit tap', async () => {
    const calls: number[][] = []
    let gate: Promise<void> = Promise.resolve()
    const counter: FeedConsumer = {
      name: 'rows',
      async apply(batches) {
        await gate
        calls.push(batches.map((b) => b.position))
        return []
      },
    }
    // 3 rows a batch, 5 a step: each step takes one batch and stops short of the limit. With a
    // minute between steps, only going on at once gets through 14 batches in the test's time.
    for (let i = 0; i < 7; i++) await write(i)
    let open!: () => void
    gate = new Promise((r) => {
      open = r
    })
    const runner = new FeedRunner(store, [counter], { maxRows: 5, stepIntervalMs: 60_000, pollMs: 60_000 })
    runner.start()
    try {
      // The first step waits while 7 more commit: those reach the runner's cache through the
      // commit tap; the first 7 are read from the store.
      await vi.waitFor(() => expect(runner.cached().batches).toBeGreaterThan(0))
      for (let i = 7; i < 14; i++) await write(i)
      expect(runner.cached().batches).toBeGreaterThanOrEqual(7)
      open()
      await vi.waitFor(async () => expect(await store.derived.watermark('rows')).toBe(14), { timeout: 10_000 })
      expect(calls.flat()).toEqual(Array.from({ length: 14 }, (_, i) => i + 1))
      expect(calls.every((c) => c.length === 1)).toBe(true)
    } finally {
      const stopping = Date.now()
      await runner.stop()
      // Stopping does not wait out the minute-long pause.
      expect(Date.now() - stopping).toBeLessThan(5_000)
    }
  })

  it('gathers commits into one step for a consumer with a minimum step interval, and steps again after it', async () => {
    const rec = Object.assign(new Recorder(), { minStepIntervalMs: 3_000 })
    const runner = new FeedRunner(store, [rec], { pollMs: 60_000 })
    runner.start()
    await write(1)
    runner.poke()
    await vi.waitFor(async () => expect(await store.derived.watermark('recorder')).toBe(1), { timeout: 5000 })
    await write(2)
    await write(3)
    runner.poke()
    // Within the interval nothing more is applied, however often it is poked.
    await new Promise((r) => setTimeout(r, 300))
    runner.poke()
    expect(await store.derived.watermark('recorder')).toBe(1)
    await runner.stop()
    // The next runner applies both waiting batches in one step.
    await new FeedRunner(store, [rec]).catchUp()
    expect(rec.seen).toEqual([1, 2, 3])
  })

  it('yields to a saturated ingest while a consumer is behind or the load is at holdAbove, holding every consumer, at its share of the time, never in catchUp', async () => {
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))
    // Above the yield threshold (0.6), below holdAbove (0.9).
    let load = 0.8
    let applyMs = 0
    // A stopped runner keeps its leases: each runner gets consumers of its own names.
    const slow = (name: string): FeedConsumer => ({
      name,
      async apply() {
        await pause(applyMs)
        return []
      },
    })
    const rec = (name: string) => Object.assign(new Recorder(), { name })
    const commit = async (runner: FeedRunner, i: number) => {
      await write(i)
      runner.poke()
    }
    // Loaded but keeping up (never 60 s behind): no step is held.
    const keeping = new FeedRunner(store, [slow('slow1'), rec('rec1')], {
      ingestLoad: () => load,
      yieldBehindMs: 60_000,
      stepIntervalMs: 10,
      pollMs: 50,
    })
    keeping.start()
    for (let i = 0; i < 5; i++) await commit(keeping, i)
    await vi.waitFor(async () => expect(await store.derived.watermark('rec1')).toBe(5), { timeout: 10_000 })
    await keeping.stop()
    expect(keeping.yieldedMs).toBe(0)

    // Behind (any lag counts) and saturated, with a 1 % share: after the slow consumer's 200 ms step
    // the next step of any consumer would wait ~20 s; it goes at once when the load falls.
    applyMs = 200
    load = 0.2
    const holds: boolean[] = []
    const held = new FeedRunner(store, [slow('slow2'), rec('rec2')], {
      ingestLoad: () => load,
      onHold: (h) => holds.push(h),
      yieldBehindMs: 0,
      saturatedShare: 0.01,
      stepIntervalMs: 10,
      pollMs: 50,
    })
    held.start()
    await commit(held, 5)
    await vi.waitFor(async () => expect(await store.derived.watermark('slow2')).toBe(6), { timeout: 10_000 })
    await vi.waitFor(async () => expect(await store.derived.watermark('rec2')).toBe(6), { timeout: 10_000 })
    load = 1
    for (let i = 6; i < 9; i++) await commit(held, i)
    await vi.waitFor(async () => expect(await store.derived.watermark('slow2')).toBe(9), { timeout: 10_000 })
    await pause(800)
    expect(await store.derived.watermark('rec2')).toBe(6)
    expect(held.yieldedMs).toBeGreaterThan(0)
    expect(holds.at(-1)).toBe(true)
    load = 0.2
    await vi.waitFor(async () => expect(await store.derived.watermark('rec2')).toBe(9), { timeout: 5_000 })
    // Told of each hold's start and end, in turn.
    expect(holds.length % 2).toBe(0)
    expect(holds.every((h, i) => h === (i % 2 === 0))).toBe(true)
    // Stopping ends a hold at once (it would last ~20 s).
    load = 1
    await commit(held, 9)
    await pause(300)
    const stopping = Date.now()
    await held.stop()
    expect(Date.now() - stopping).toBeLessThan(5_000)

    // Under a sustained saturation the feed still moves, at its share (here a half: a 50 ms step,
    // then at most 50 ms for ingest).
    applyMs = 50
    const share = new FeedRunner(store, [slow('shared')], {
      ingestLoad: () => 1,
      yieldBehindMs: 0,
      saturatedShare: 0.5,
      stepIntervalMs: 10,
      pollMs: 50,
    })
    share.start()
    for (let i = 10; i < 16; i++) {
      await commit(share, i)
      await pause(30)
    }
    await vi.waitFor(async () => expect(await store.derived.watermark('shared')).toBe(16), { timeout: 10_000 })
    await share.stop()
    expect(share.yieldedMs).toBeGreaterThan(0)

    // catchUp never yields, however saturated.
    for (let i = 16; i < 19; i++) await write(i)
    const tool = new FeedRunner(store, [rec('rec3')], { ingestLoad: () => 1, yieldBehindMs: 0, saturatedShare: 0.01 })
    await tool.catchUp()
    expect(await store.derived.watermark('rec3')).toBe(19)
    expect(tool.yieldedMs).toBe(0)

    // At or above holdAbove (0.9) the loops hold however little the feed is behind: after the slow
    // consumer's 200 ms step, the other waits ~20 s (1 % share).
    applyMs = 200
    const hot = new FeedRunner(store, [slow('slow4'), rec('rec4')], {
      ingestLoad: () => 0.95,
      yieldBehindMs: 60_000,
      saturatedShare: 0.01,
      stepIntervalMs: 10,
      pollMs: 50,
    })
    hot.start()
    await vi.waitFor(async () => expect(await store.derived.watermark('slow4')).toBe(19), { timeout: 10_000 })
    await pause(500)
    expect(await store.derived.watermark('rec4')).toBe(0)
    expect(hot.yieldedMs).toBeGreaterThan(0)
    await hot.stop()
  })

  it('reads each batch from the store once for all its consumers, steps one consumer at a time, and tells it what committed', async () => {
    for (let i = 0; i < 6; i++) await write(i)
    const fromStore: number[] = []
    let lose = 0
    const view = {
      derived: Object.create(store.derived, {
        advance: {
          value: async (...a: Parameters<typeof store.derived.advance>) => (lose-- > 0 ? false : store.derived.advance(...a)),
        },
      }),
      commitHead: () => store.commitHead(),
      readBatches: async (after: number, o?: { maxBatches?: number; maxRows?: number }) => {
        const got = await store.readBatches(after, o)
        fromStore.push(...got.map((b) => b.position))
        return got
      },
    }
    const inFlight = new Map<string, number>()
    let most = 0
    const told: string[] = []
    const keeper = (name: string): FeedConsumer => ({
      name,
      async apply(batches, ctx) {
        const n = (inFlight.get(name) ?? 0) + 1
        inFlight.set(name, n)
        most = Math.max(most, n)
        await new Promise((r) => setTimeout(r, 5))
        told.push(`${name} apply ${ctx.from}..${batches[batches.length - 1]?.position}`)
        inFlight.set(name, n - 1)
        return []
      },
      committed(position) {
        told.push(`${name} committed ${position}`)
      },
    })
    const runner = new FeedRunner(view, [keeper('one'), keeper('two'), keeper('three')], { maxBatches: 4 })
    await runner.catchUp()
    expect(fromStore).toEqual([1, 2, 3, 4, 5, 6])
    expect(told.filter((t) => t.startsWith('two'))).toEqual(['two apply 0..4', 'two committed 4', 'two apply 4..6', 'two committed 6'])
    // A lost compare-and-set is not reported as committed.
    await write(6)
    lose = 1
    await runner.catchUp()
    expect(told.filter((t) => t.startsWith('one')).slice(4)).toEqual(['one apply 6..7', 'one apply 6..7', 'one committed 7'])
    expect(fromStore).toEqual([1, 2, 3, 4, 5, 6, 7])
    // A loop and catchUp on the same consumers never run two steps of one consumer at once.
    runner.start()
    for (let i = 7; i < 12; i++) {
      await write(i)
      runner.poke()
      await runner.catchUp()
    }
    await runner.stop()
    expect(most).toBe(1)
    for (const name of ['one', 'two', 'three']) expect(await store.derived.watermark(name)).toBe(12)
  })

  it('hands consumers the batches the store commits (nothing read back while they keep up), and the chain sealed from the handed rows verifies', async () => {
    const { view, fromStore } = recordingView({ tapCommits: store.tapCommits.bind(store) })
    const rec = new Recorder()
    const runner = new FeedRunner(view, [rec, new CatalogConsumer(), new AuditChainConsumer(store)], { pollMs: 60_000, stepIntervalMs: 0 })
    runner.start()
    for (let i = 0; i < 8; i++) {
      await write(i)
      runner.poke()
      await vi.waitFor(async () => expect(await store.derived.watermark('audit')).toBe(i + 1), { timeout: 5000 })
      await vi.waitFor(async () => expect(await store.derived.watermark('recorder')).toBe(i + 1), { timeout: 5000 })
    }
    await runner.stop()
    // Each consumer's first step found the store empty (one read, nothing in it); none after that.
    expect(fromStore).toEqual([])
    expect(rec.seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect((await catalog()).models).toEqual([
      ['a', '1', 4],
      ['a', '2', 8],
      ['b', '1', 4],
    ])
    const report = await verifyChain(store)
    expect(report.ok).toBe(true)
    expect(report.rows).toBe(24)
  })

  it('behind, brings its consumers together so that each batch is read back once for all, not once per consumer', async () => {
    // 60 batches of 3 rows; four consumers left at positions 0, 12, 24 and 36 (the cheap ones ran
    // ahead), a cache of 30 rows (10 batches) and steps of at most half of it.
    for (let i = 0; i < 60; i++) await write(i)
    const { view, fromStore } = recordingView()
    const seen = new Map<string, number[]>()
    const consumer = (name: string, minStepIntervalMs: number): FeedConsumer => ({
      name,
      minStepIntervalMs,
      async apply(batches) {
        seen.set(name, [...(seen.get(name) ?? []), ...batches.map((b) => b.position)])
        await new Promise((r) => setTimeout(r, 1))
        return []
      },
    })
    const consumers = [consumer('fast', 50), consumer('chain', 500), consumer('slow', 1000), consumer('slowest', 1000)]
    const starts: Record<string, number> = { fast: 36, chain: 24, slow: 12, slowest: 0 }
    for (const [name, at] of Object.entries(starts)) if (at > 0) expect(await store.derived.advance(name, 0, at, [])).toBe(true)
    const runner = new FeedRunner(view, consumers, { sharedRows: 30, maxRows: 1000, pollMs: 60_000 })
    runner.start()
    await vi.waitFor(
      async () => {
        for (const c of consumers) expect(await store.derived.watermark(c.name)).toBe(60)
      },
      { timeout: 20_000 },
    )
    await runner.stop()
    // Every consumer applied each of its batches once, in order.
    for (const [name, at] of Object.entries(starts)) expect(seen.get(name)).toEqual(Array.from({ length: 60 - at }, (_, i) => at + i + 1))
    // Read back: each batch once, but for the first step of each (20 batches, 13 of them read again
    // by the consumers behind). Each on its own would read 60 + 48 + 36 + 24 = 168 batches (as the
    // runner before this change read all 168).
    expect(new Set(fromStore).size).toBe(60)
    expect(fromStore.length).toBeLessThanOrEqual(75)
    expect(runner.readBack).toBe(fromStore.length * 3)
  })

  it('bounds its shared batch cache by bytes as well as rows, and reads back what it dropped', async () => {
    // Six batches of two events with 40 KB bodies: about 80 KB each, a handful of rows.
    const big = (i: number) =>
      store.writeBatch({
        events: [0, 1].map((k) => eventRecord({ id: `b${i}-${k}` }, { input: { pad: 'x'.repeat(40_000) } })),
        feedback: [],
      })
    for (let i = 0; i < 6; i++) await big(i)
    const { view, fromStore } = recordingView()
    const seenBytes: number[] = []
    const watcher = (name: string, runner: () => FeedRunner): FeedConsumer => ({
      name,
      async apply() {
        seenBytes.push(runner().cached().bytes)
        return []
      },
    })
    // Rows alone would keep all six batches (12 rows); 200 000 bytes keep one (a row counts its
    // body twice, text and parsed form: about 160 KB a batch).
    let runner!: FeedRunner
    runner = new FeedRunner(view, [watcher('one', () => runner), watcher('two', () => runner)], { maxBatches: 6, sharedBytes: 200_000 })
    await runner.catchUp()
    expect(Math.max(...seenBytes)).toBeLessThanOrEqual(200_000)
    expect(runner.cached().bytes).toBeLessThanOrEqual(200_000)
    expect(runner.cached().batches).toBeLessThanOrEqual(2)
    // The oldest batches were dropped, so the second consumer read them back (and the rest with them).
    expect(fromStore).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6])
    for (const name of ['one', 'two']) expect(await store.derived.watermark(name)).toBe(6)
    // With the default bound (64 MiB) every batch is read once for both consumers.
    fromStore.length = 0
    for (let i = 6; i < 12; i++) await big(i)
    await new FeedRunner(view, [watcher('three', () => runner), watcher('four', () => runner)], { maxBatches: 12 }).catchUp()
    expect(fromStore).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
  })

  it('commits a consumer step without fsync and leaves ingest commits at synchronous FULL', async () => {
    const db = (store as unknown as { db: { pragma(p: string, o: { simple: true }): unknown } }).db
    expect(db.pragma('synchronous', { simple: true })).toBe(2)
    const rec = new Recorder()
    for (let i = 0; i < 3; i++) await write(i)
    await new FeedRunner(store, [rec], { maxBatches: 1 }).catchUp()
    expect(rec.seen).toEqual([1, 2, 3])
    expect(await store.derived.watermark('recorder')).toBe(3)
    expect(db.pragma('synchronous', { simple: true })).toBe(2)
  })
})
