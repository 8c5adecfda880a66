import { performance } from 'node:perf_hooks'
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Worker } from 'node:worker_threads'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verifyChain } from '../audit/verify-chain.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import { FeedThread, type FeedThreadOptions, gcFlags, idleLauncher } from './feed-thread.js'

// Threads run compiled code: the writer and the feed thread come from dist (built before tests).
const writerScript = new URL('../../dist/store/sqlite/sqlite-writer-thread.js', import.meta.url)
const script = new URL('../../dist/feed/feed-thread-entry.js', import.meta.url)

let dir: string
let store: SqliteStore
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-feedthread-'))
  store = new SqliteStore({ filename: path.join(dir, 't.db'), writer: 'thread', writerScript, lookupIndexIntervalMs: 0 })
  await store.migrate()
})
afterEach(async () => {
  await store.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const write = (i: number) =>
  store.writeBatch({
    events: [eventRecord({ id: `e${i}`, model: i % 2 ? 'a' : 'b' }), eventRecord({ id: `x${i}`, model: 'a', version: '2' })],
    feedback: [feedbackRecord({ id: `f${i}`, eventId: `e${i}`, name: i % 3 ? 'thumbs' : 'label' })],
  })

/** The catalog's counts beside a recount of the rows. */
async function catalogAndRecount() {
  const db = store.derived.db
  const models = (
    await db.selectFrom('catalog_models').select(['model', 'version', 'events']).orderBy('model').orderBy('version').execute()
  ).map((m) => `${m.model}@${m.version}=${Number(m.events)}`)
  const recount = (
    (await db
      .selectFrom('events')
      .select(['model', 'version', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['model', 'version'])
      .orderBy('model')
      .orderBy('version')
      .execute()) as { model: string; version: string; n: number }[]
  ).map((r) => `${r.model}@${r.version}=${Number(r.n)}`)
  return { models, recount }
}

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Every named consumer's last progress report (a message after its commit) has reached the owner. */
const reported = (feed: FeedThread, names: string[]) => async () => {
  const head = await store.commitHead()
  return names.every((n) => (feed.status().get(n)?.position ?? -1) >= head)
}

/** The thread or child process a feed runs its consumers in (private fields, for kills and checks). */
const hostOf = (feed: FeedThread) => (feed as unknown as { host?: { worker?: Worker; child?: ChildProcess } }).host ?? {}

const caughtUp = (names: string[]) => async () => {
  const head = await store.commitHead()
  for (const n of names) if ((await store.derived.watermark(n)) < head) return false
  return true
}

/** A started thread running the catalog consumer alone, polling off (only pokes wake it), with `o` on top. */
async function catalogThread(o: FeedThreadOptions = {}): Promise<FeedThread> {
  const feed = new FeedThread(store, { consumers: ['catalog'], script, runner: { pollMs: 60_000 }, ...o })
  feed.start()
  await feed.ready()
  return feed
}

/** Until the catalog applied every commit and the owner heard of it. */
async function catalogSettled(feed: FeedThread): Promise<void> {
  await until(caughtUp(['catalog']))
  await until(reported(feed, ['catalog']))
}

/** Threads of this process at nice value `nice` (Linux: field 19 of /proc/self/task/TID/stat). */
function threadsAtNice(nice: number): number {
  let n = 0
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[16]) === nice) n++
    } catch {
      // The thread ended meanwhile.
    }
  }
  return n
}

describe.each([
  ['a thread', false],
  ['a child process', true],
])('FeedThread in %s', (_, inProcess) => {
  it('applies every committed batch exactly once, writing through the store writer', async () => {
    const progress: string[] = []
    const feed = new FeedThread(store, {
      consumers: ['catalog', 'audit'],
      script,
      process: inProcess,
      onProgress: (c) => progress.push(c),
    })
    feed.start()
    try {
      for (let i = 0; i < 30; i++) {
        await write(i)
        feed.poke()
      }
      await until(caughtUp(['catalog', 'audit']))
      await until(reported(feed, ['catalog', 'audit']))
      const c = await catalogAndRecount()
      expect(c.models).toEqual(c.recount)
      expect(c.recount).toEqual(['a@1=15', 'a@2=30', 'b@1=15'])
      // The chain the thread sealed verifies against the rows.
      const report = await verifyChain(store)
      expect(report.ok).toBe(true)
      expect(report.rows).toBe(90)
      expect(new Set(progress)).toEqual(new Set(['catalog', 'audit']))
      expect(feed.status().get('catalog')?.position).toBe(await store.commitHead())
      // Its heap is bounded apart from the collector's.
      if (inProcess) expect(hostOf(feed).child?.spawnargs).toContain('--max-old-space-size=1024')
      else expect(hostOf(feed).worker?.resourceLimits?.maxOldGenerationSizeMb).toBe(1024)
      // A child process reads every batch back (nothing handed over); a thread takes most handed.
      if (inProcess) expect(feed.rowsReadBack).toBe(90)
    } finally {
      await feed.stop()
    }
    // Stopped: no thread or process left behind, and the store still commits.
    expect(hostOf(feed).child ?? hostOf(feed).worker).toBeUndefined()
    await write(99)
    expect((await store.readBatches(0)).length).toBe(31)
  })

  it('restarts consumers that died mid-stream, and the counts stay exact', async () => {
    const warned: string[] = []
    const logger = { info() {}, warn: (m: string) => warned.push(m), error() {} }
    const feed = new FeedThread(store, { consumers: ['catalog'], script, process: inProcess, restartMs: 20, logger })
    feed.start()
    try {
      for (let i = 0; i < 40; i++) {
        await write(i)
        feed.poke()
        // Kill it twice while batches keep coming, as a crash would (no clean-up).
        if (i === 10 || i === 25) {
          const h = hostOf(feed)
          if (inProcess) h.child?.kill('SIGKILL')
          else await h.worker?.terminate()
        }
      }
      await until(caughtUp(['catalog']))
      const c = await catalogAndRecount()
      expect(c.models).toEqual(c.recount)
      expect(c.recount).toEqual(['a@1=20', 'a@2=40', 'b@1=20'])
      expect(warned.some((m) => m.includes('feed thread exited'))).toBe(true)
    } finally {
      await feed.stop()
    }
  })
})

/** Field `n` (1-based, as proc(5) numbers them) of /proc/PID/task/TID/stat for every thread of `pid`. */
function threadStatField(pid: number, n: number): number[] {
  const out: number[] = []
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      out.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3]))
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out
}

/** The process exists and has not exited (a zombie waiting to be reaped counts as gone). */
const alive = (pid: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

describe.runIf(process.platform === 'linux')('FeedThread in a child process', () => {
  /** Field `n` of every thread of a running child (a no-op consumer), started with `options`. */
  async function childThreadsField(options: Partial<FeedThreadOptions>, n: number): Promise<number[]> {
    const feed = new FeedThread(store, { consumers: ['noop'], script, process: true, ...options })
    feed.start()
    try {
      await feed.ready()
      await write(1)
      feed.poke()
      await until(caughtUp(['noop']))
      return threadStatField(hostOf(feed).child!.pid!, n)
    } finally {
      await feed.stop()
    }
  }

  it.runIf(idleLauncher() !== undefined)('runs every thread of the child under SCHED_IDLE, the collector untouched', async () => {
    // proc(5) field 41: scheduling policy (5 = SCHED_IDLE, 0 = SCHED_OTHER).
    const policies = await childThreadsField({}, 41)
    expect(policies.length).toBeGreaterThan(3)
    expect(new Set(policies)).toEqual(new Set([5]))
    expect(new Set(threadStatField(process.pid, 41))).toEqual(new Set([0]))
  })

  it('without SCHED_IDLE runs every thread of the child at the nice value, V8 helper threads included', async () => {
    // proc(5) field 19: nice.
    const nices = await childThreadsField({ idle: false, nice: 14 }, 19)
    expect(nices.length).toBeGreaterThan(3)
    expect(new Set(nices)).toEqual(new Set([14]))
    expect(os.getPriority()).toBe(0)
  })

  it('ends with its owner when the owner is killed (kill -9), leaving no consumer process behind', async () => {
    const db = path.join(dir, 'owner.db')
    const ownerSource = `
      import { SqliteStore } from ${JSON.stringify(new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url).href)}
      import { FeedThread } from ${JSON.stringify(new URL('../../dist/feed/feed-thread.js', import.meta.url).href)}
      const store = new SqliteStore({ filename: ${JSON.stringify(db)}, writer: 'thread', lookupIndexIntervalMs: 0 })
      await store.migrate()
      const feed = new FeedThread(store, { consumers: ['catalog'], process: true })
      feed.start()
      await feed.ready()
      process.stdout.write(String(feed.host.child.pid) + '\\n')
      setInterval(() => {}, 1000)
    `
    // A file, not `-e`: worker threads inherit the flags (`--input-type` would stop the writer's).
    const ownerScript = path.join(dir, 'owner.mjs')
    fs.writeFileSync(ownerScript, ownerSource)
    // Started as the launcher starts the collector: the child collects garbage the same way.
    const owner = spawn(process.execPath, ['--single-threaded-gc', ownerScript], { stdio: ['ignore', 'pipe', 'inherit'] })
    const childPid = await new Promise<number>((resolve, reject) => {
      let out = ''
      owner.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.includes('\n')) resolve(Number(out.trim()))
      })
      owner.once('exit', (code) => reject(new Error(`owner exited (${code}) before starting its consumers`)))
    })
    expect(alive(childPid)).toBe(true)
    expect(fs.readFileSync(`/proc/${childPid}/cmdline`, 'utf8').split('\0')).toContain('--single-threaded-gc')
    owner.kill('SIGKILL')
    await until(async () => !alive(childPid), 10_000)
    expect(alive(childPid)).toBe(false)
  })
})

describe('gcFlags', () => {
  it('keeps only the garbage-collection mode among node flags', () => {
    expect(gcFlags(['--single-threaded-gc', '--max-old-space-size=512', '--inspect'])).toEqual(['--single-threaded-gc'])
    expect(gcFlags(['--no-single-threaded-gc'])).toEqual(['--no-single-threaded-gc'])
    expect(gcFlags([])).toEqual([])
  })
})

describe('FeedThread', () => {
  it.runIf(process.platform === 'linux')('runs its thread alone at the nice value it is given', async () => {
    const before = threadsAtNice(13)
    const feed = new FeedThread(store, { consumers: ['noop'], nice: 13, script })
    feed.start()
    try {
      await write(1)
      feed.poke()
      await until(caughtUp(['noop']))
      expect(threadsAtNice(13)).toBe(before + 1)
      // The process's own priority is untouched.
      expect(os.getPriority()).toBe(0)
    } finally {
      await feed.stop()
    }
    expect(threadsAtNice(13)).toBe(before)
  })

  it.runIf(idleLauncher() !== undefined)('runs its thread alone under SCHED_IDLE by default, not with idle: false', async () => {
    // proc(5) field 41: scheduling policy (5 = SCHED_IDLE).
    const idleThreads = () => threadStatField(process.pid, 41).filter((p) => p === 5).length
    const before = idleThreads()
    for (const [idle, added] of [
      [undefined, 1],
      [false, 0],
    ] as const) {
      const feed = new FeedThread(store, { consumers: ['noop'], script, ...(idle === undefined ? {} : { idle }) })
      feed.start()
      try {
        await write(1)
        feed.poke()
        await until(caughtUp(['noop']))
        expect(idleThreads()).toBe(before + added)
      } finally {
        await feed.stop()
      }
      expect(idleThreads()).toBe(before)
    }
  })

  it('takes the batches the store commits as they commit, reading back only what it was not handed', async () => {
    // Hand over whatever the load: this test's own event loop, busy on a loaded box, must not
    // decide it (a load of 0.9 or more skips hand-overs; the tests below cover that).
    const handed = await catalogThread({ handOverBusyAbove: 1 })
    try {
      for (let i = 0; i < 20; i++) {
        await write(i)
        handed.poke()
        await until(caughtUp(['catalog']))
      }
      const c = await catalogAndRecount()
      expect(c.models).toEqual(c.recount)
      expect(handed.notHandedOver).toBe(0)
      // 60 rows committed. A consumer step that a timer started between a commit and its hand-over
      // reads that batch (3 rows) back; the rest came over.
      expect(handed.rowsReadBack).toBeLessThan(30)
    } finally {
      await handed.stop()
    }
  })

  it('reads back what it is not handed over when it is behind by more than the bound, and counts stay exact', async () => {
    const behind = await catalogThread({ handOverBytes: 1 })
    try {
      for (let i = 0; i < 20; i++) {
        await write(i)
        behind.poke()
      }
      // Only pokes wake it (polling is off): a batch it was not handed must still wake it.
      await catalogSettled(behind)
      const c = await catalogAndRecount()
      expect(c.models).toEqual(c.recount)
      expect(c.recount).toEqual(['a@1=10', 'a@2=20', 'b@1=10'])
      expect(behind.notHandedOver).toBe(20)
      expect(behind.rowsReadBack).toBe(60)
    } finally {
      await behind.stop()
    }
  })

  it('hands batches over while the collector is loaded below handOverBusyAbove, though above the yield threshold', async () => {
    // A writer busy three quarters of the time: load 0.75, above yieldAbove (0.6), below 0.9.
    const loaded = await catalogThread({ ingestBusyMs: () => performance.now() * 0.75 })
    try {
      await write(0)
      loaded.poke()
      await catalogSettled(loaded)
      // Past the first load reports (every 250 ms).
      await new Promise((r) => setTimeout(r, 600))
      const readBack = loaded.rowsReadBack
      for (let k = 1; k <= 20; k++) {
        await write(k)
        loaded.poke()
        await until(caughtUp(['catalog']))
      }
      await catalogSettled(loaded)
      const c = await catalogAndRecount()
      expect(c.models).toEqual(c.recount)
      expect(loaded.notHandedOver).toBe(0)
      // 60 rows committed. As in the test above, a step a timer started between a commit and its
      // hand-over reads that batch (3 rows) back; the rest came over (with 0.6, all 60 were read back).
      expect(loaded.rowsReadBack - readBack).toBeLessThan(30)
    } finally {
      await loaded.stop()
    }
  })

  it('hands nothing over while the collector is busy, reads it back, and counts stay exact', async () => {
    // A writer busy all the time: load 1, at least handOverBusyAbove (0.9) from the first report on.
    const busy = await catalogThread({ ingestBusyMs: () => performance.now() })
    try {
      // Until the first load report (after 250 ms) marks the collector busy, batches are handed over.
      let i = 0
      await until(async () => {
        await write(i++)
        busy.poke()
        return busy.notHandedOver > 0
      })
      await catalogSettled(busy)
      const skipped = busy.notHandedOver
      const readBack = busy.rowsReadBack
      for (let k = 0; k < 20; k++) {
        await write(i++)
        busy.poke()
      }
      await catalogSettled(busy)
      const c = await catalogAndRecount()
      expect(c.models).toEqual(c.recount)
      expect(busy.notHandedOver - skipped).toBe(20)
      expect(busy.rowsReadBack - readBack).toBe(60)
    } finally {
      await busy.stop()
    }
  })

  it('with handOverBusyAbove 1 hands every batch over even to a collector busy all the time', async () => {
    const always = await catalogThread({ ingestBusyMs: () => performance.now(), handOverBusyAbove: 1 })
    try {
      // Past the first load reports (every 250 ms): each says load 1.
      await new Promise((r) => setTimeout(r, 600))
      for (let k = 0; k < 20; k++) {
        await write(k)
        always.poke()
      }
      await catalogSettled(always)
      const c = await catalogAndRecount()
      expect(c.models).toEqual(c.recount)
      expect(always.notHandedOver).toBe(0)
    } finally {
      await always.stop()
    }
  })

  it('refuses a store whose commits do not run in a thread of its own', () => {
    const inline = new SqliteStore({ filename: path.join(dir, 'inline.db') })
    try {
      expect(inline.hasWriterThread).toBe(false)
      expect(() => new FeedThread(inline, { script: new URL('file:///nonexistent/feed-thread-entry.js') })).toThrow(/script is missing/)
    } finally {
      void inline.close()
    }
  })
})
