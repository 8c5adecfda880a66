/**
 * Outages: the collector dies during logging and comes back on the same port; the host process
 * dies with batches in its spool and a new process replays them; exit hooks flush.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnNode } from '@inferlog/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from './index.js'
import { startCollector, storedEventIds, type Collector } from './test-support/collector.js'
import { waitFor } from './test-support/fakes.js'

const HOST = fileURLToPath(new URL('./test-support/sdk-host.mjs', import.meta.url))
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-sdk-outage-'))
const running: Collector[] = []
afterAll(async () => {
  await Promise.all(running.map((c) => c.stop('SIGKILL')))
  fs.rmSync(root, { recursive: true, force: true })
})

async function collector(dir: string, port = 0): Promise<Collector> {
  const c = await startCollector(dir, port)
  running.push(c)
  return c
}

/** A model server's process logging through the SDK (`test-support/sdk-host.mjs <mode>`). */
function host(mode: string, options: object) {
  return spawnNode(HOST, [mode, JSON.stringify(options)])
}

describe('outages', () => {
  it('collector killed during logging and restarted on the same port: every event arrives once, via spool and replay', async () => {
    const dir = path.join(root, 'restart')
    let c = await collector(dir)
    const port = c.port
    const log = createLogger({
      url: c.url,
      model: { name: 'outage', version: '1' },
      spool: { dir: path.join(root, 'restart-spool') },
      batch: { maxItems: 200, intervalMs: 20 },
      http: { retriesBeforeSpool: 1, initialBackoffMs: 20, maxBackoffMs: 250, timeoutMs: 2000 },
      flushOnExit: false,
      onError: () => undefined,
    })
    const ids = new Set<string>()
    const started = Date.now()
    let killed = false
    let restarted = false
    let statsWhileDown = log.stats()
    while (Date.now() - started < 2500) {
      for (let k = 0; k < 40; k++) ids.add(log.log({ input: { k, t: Date.now() - started }, output: 1 }))
      await new Promise((r) => setTimeout(r, 5))
      const t = Date.now() - started
      if (!killed && t > 500) {
        killed = true
        await c.stop('SIGKILL')
      }
      if (killed && !restarted && t > 1500) {
        statsWhileDown = log.stats()
        c = await collector(dir, port)
        restarted = true
      }
    }
    await log.flush()
    await waitFor(
      () => {
        const s = log.stats()
        return s.spoolItems === 0 && s.queueDepth === 0 && s.inFlight === 0
      },
      30_000,
      'spool drained',
    )
    const s = log.stats()
    await log.close()
    expect(statsWhileDown.spooled).toBeGreaterThan(0)
    expect(s.spooled).toBeGreaterThan(0)
    expect(s.replayed).toBe(s.spooled)
    expect(s).toMatchObject({ sent: ids.size, dropped: 0, failed: 0, rejected: 0 })
    const stored = await storedEventIds(c.url)
    expect(stored.length).toBe(ids.size)
    expect(new Set(stored)).toEqual(ids)
    console.log(`restart: ${ids.size} events, ${s.spooled} spooled and replayed, ${s.retried} retries, ${s.duplicates} duplicates`)
  }, 60_000)

  it('host killed with SIGKILL holding a spool: a restarted host replays it', async () => {
    const dir = path.join(root, 'host-kill')
    // A port where nothing listens yet: the collector will come up on it later.
    const probe = await collector(dir)
    const port = probe.port
    await probe.stop()
    const url = `http://127.0.0.1:${port}`
    const spoolDir = path.join(root, 'host-kill-spool')
    const count = 3000
    const first = host('spool-then-wait', { url, spool: spoolDir, count, prefix: 'k-' })
    await waitFor(() => first.lines.includes('all-spooled'), 20_000, `all spooled (${first.stderr()})`)
    first.child.kill('SIGKILL')
    expect((await first.exited).signal).toBe('SIGKILL')
    expect(fs.readdirSync(spoolDir).length).toBeGreaterThan(0)

    // A second host, killed mid-way: whatever it reported spooled must arrive too.
    const second = host('spool-then-wait', { url, spool: path.join(root, 'host-kill-spool-2'), count: 100_000, prefix: 'm-' })
    await waitFor(() => second.lines.some((l) => /^spooled [1-9]\d{3,}/.test(l)), 20_000, 'partial spool')
    second.child.kill('SIGKILL')
    await second.exited
    const reported = Math.max(...second.lines.filter((l) => l.startsWith('spooled ')).map((l) => Number(l.slice(8))))

    const back = await collector(dir, port)
    const replays = [host('replay', { url, spool: spoolDir }), host('replay', { url, spool: path.join(root, 'host-kill-spool-2') })]
    for (const r of replays) {
      const exit = await r.exited
      expect(exit.code, r.stderr()).toBe(0)
    }
    const stats = JSON.parse(replays[0]!.lines.find((l) => l.startsWith('stats '))!.slice(6)) as { replayed: number }
    expect(stats.replayed).toBe(count)
    const stored = await storedEventIds(back.url)
    const k = stored.filter((id) => id.startsWith('k-'))
    const m = stored.filter((id) => id.startsWith('m-'))
    expect(new Set(k).size).toBe(count)
    expect(k.length).toBe(count)
    expect(m.length).toBeGreaterThanOrEqual(reported)
    expect(new Set(m).size).toBe(m.length)
    console.log(
      `host kill: ${count} spooled events replayed by a new process; mid-way kill: ${reported} reported spooled, ${m.length} arrived`,
    )
  }, 60_000)

  it('flushes on beforeExit and on SIGTERM (then still dies of the signal)', async () => {
    const dir = path.join(root, 'exit')
    const c = await collector(dir)
    const natural = host('exit-natural', { url: c.url, count: 500, prefix: 'n-' })
    expect((await natural.exited).code).toBe(0)
    const term = host('exit-sigterm', { url: c.url, count: 500, prefix: 't-' })
    await waitFor(() => term.lines.includes('logged'))
    term.child.kill('SIGTERM')
    expect((await term.exited).signal).toBe('SIGTERM')
    const stored = await storedEventIds(c.url)
    expect(stored.filter((id) => id.startsWith('n-'))).toHaveLength(500)
    expect(stored.filter((id) => id.startsWith('t-'))).toHaveLength(500)
  }, 30_000)

  it('close() after an outage replays the spool once the collector is back, so a short job leaves nothing on disk', async () => {
    const dir = path.join(root, 'close-replay')
    const probe = await collector(dir)
    const port = probe.port
    await probe.stop()
    const spoolDir = path.join(root, 'close-replay-spool')
    const log = createLogger({
      url: `http://127.0.0.1:${port}`,
      model: { name: 'short-job', version: '1' },
      spool: { dir: spoolDir },
      batch: { maxItems: 100 },
      // The replayer's next probe would come long after this job ends.
      http: { retriesBeforeSpool: 0, initialBackoffMs: 600_000, maxBackoffMs: 600_000 },
      flushOnExit: false,
      onError: () => undefined,
    })
    const ids = Array.from({ length: 500 }, (_, i) => log.log({ input: { i }, output: i }))
    await log.flush()
    expect(log.stats()).toMatchObject({ spooled: 500, spoolItems: 500, sent: 0 })
    expect(fs.readdirSync(spoolDir)).toHaveLength(5)

    const back = await collector(dir, port)
    await log.close({ timeoutMs: 20_000 })
    expect(log.stats()).toMatchObject({ sent: 500, replayed: 500, spoolItems: 0, failed: 0, dropped: 0 })
    expect(fs.readdirSync(spoolDir)).toEqual([])
    expect((await storedEventIds(back.url)).sort()).toEqual(ids.sort())
  }, 30_000)

  it('close() with the collector still down keeps the spool for the next run and returns', async () => {
    const dir = path.join(root, 'close-down')
    const probe = await collector(dir)
    const port = probe.port
    await probe.stop()
    const spoolDir = path.join(root, 'close-down-spool')
    const options = {
      url: `http://127.0.0.1:${port}`,
      model: { name: 'short-job', version: '1' },
      spool: { dir: spoolDir },
      http: { retriesBeforeSpool: 0, initialBackoffMs: 600_000, maxBackoffMs: 600_000 },
      flushOnExit: false,
      onError: () => undefined,
    }
    const log = createLogger(options)
    const ids = Array.from({ length: 50 }, (_, i) => log.log({ input: { i }, output: i }))
    await log.close()
    expect(log.stats()).toMatchObject({ spooled: 50, spoolItems: 50, sent: 0, failed: 0, dropped: 0 })
    expect(fs.readdirSync(spoolDir)).toHaveLength(1)

    // The next run finds the batch and delivers it.
    const back = await collector(dir, port)
    const next = createLogger(options)
    await waitFor(() => next.stats().replayed === 50, 20_000, 'replay by the next run')
    await next.close()
    expect((await storedEventIds(back.url)).sort()).toEqual(ids.sort())
  }, 30_000)
})
