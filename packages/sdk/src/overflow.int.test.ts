/**
 * Back-pressure: a tiny queue drops exactly what it cannot hold and never throws; memory stays
 * bounded while the collector is gone; a collector that answers in seconds does not slow log().
 */
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from './index.js'
import { startCollector, storedEventIds, type Collector } from './test-support/collector.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-sdk-overflow-'))
let collector: Collector
beforeAll(async () => {
  collector = await startCollector(path.join(root, 'data'))
})
afterAll(async () => {
  await collector?.stop()
  fs.rmSync(root, { recursive: true, force: true })
})

const model = { name: 'overflow', version: '1' }

function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}

describe('overflow', () => {
  it('a tiny queue drops exactly what it cannot hold; the collector gets exactly the rest', async () => {
    const log = createLogger({
      url: collector.url,
      model,
      project: 'tiny',
      queue: { maxItems: 50 },
      spool: { dir: false },
      flushOnExit: false,
      onError: () => undefined,
    })
    // One synchronous burst: the batcher cannot run in between, so exactly 50 fit.
    const burst = Array.from({ length: 10_000 }, (_, i) => log.log({ input: { i }, output: i }))
    expect(log.stats()).toMatchObject({ enqueued: 50, dropped: 9950, queueDepth: 50 })
    await log.flush()
    expect((await storedEventIds(collector.url, 'tiny')).sort()).toEqual(burst.slice(0, 50).sort())
    // Concurrent producers with yields: drops depend on timing, the accounting never does.
    let thrown = 0
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 5000; i++) {
          try {
            log.log({ input: { i }, output: i })
          } catch {
            thrown++
          }
          if (i % 100 === 0) await new Promise((r) => setImmediate(r))
        }
      }),
    )
    await log.flush()
    const s = log.stats()
    await log.close()
    expect(thrown).toBe(0)
    expect(s.sent + s.dropped).toBe(30_000)
    expect(s.failed).toBe(0)
    expect((await storedEventIds(collector.url, 'tiny')).length).toBe(s.sent)
  }, 30_000)

  it('memory stays bounded while the collector is unreachable', async () => {
    const gc = gcFunction()
    const errors = new Set<string>()
    const log = createLogger({
      url: 'http://127.0.0.1:9', // discard port: nothing answers
      model,
      queue: { maxItems: 200 },
      spool: { dir: false },
      http: { maxRetries: 0 },
      flushOnExit: false,
      onError: (e) => errors.add(e.code),
    })
    gc()
    const before = process.memoryUsage().heapUsed
    const n = 100_000
    for (let i = 0; i < n; i++) {
      // 4 KB of fresh data per event: 400 MB if anything held on to it.
      log.log({ input: { text: 'x'.repeat(4000) + i }, output: i })
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r))
      expect(log.stats().queueDepth).toBeLessThanOrEqual(200)
    }
    await log.flush()
    gc()
    const grown = process.memoryUsage().heapUsed - before
    const s = log.stats()
    await log.close()
    expect(s.dropped + s.failed).toBe(n)
    expect(grown).toBeLessThan(40 * 1024 * 1024)
    expect(errors.has('queue_overflow')).toBe(true)
    expect(errors.has('delivery_failed')).toBe(true)
    console.log(
      `bounded: ${n} × 4 KB logged with the collector down; heap grew ${(grown / 1048576).toFixed(1)} MB; dropped ${s.dropped}, failed ${s.failed}`,
    )
  }, 60_000)
})

/** A collector stand-in that answers every request after `delayMs`. */
async function slowServer(delayMs: number) {
  const seen = { requests: 0, firstRequestAt: Infinity, firstResponseAt: Infinity }
  const server = http.createServer((req, res) => {
    seen.requests++
    seen.firstRequestAt = Math.min(seen.firstRequestAt, performance.now())
    req.resume()
    req.on('end', () =>
      setTimeout(() => {
        seen.firstResponseAt = Math.min(seen.firstResponseAt, performance.now())
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"accepted":0,"duplicates":0,"ids":[],"rejected":[]}')
      }, delayMs),
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.closeAllConnections() ?? server.close(() => r())),
  }
}

/** Median over rounds of the mean time of `perRound` log() calls, with the batcher running between rounds. */
async function timeLogs(
  log: ReturnType<typeof createLogger>,
  rounds: number,
  perRound: number,
): Promise<{ median: number; endedAt: number }> {
  const means: number[] = []
  const ev = { input: { prompt: 'hello there', n: 1 }, output: { text: 'general kenobi' } }
  for (let r = 0; r < rounds; r++) {
    const t = performance.now()
    for (let i = 0; i < perRound; i++) log.log(ev)
    means.push(((performance.now() - t) * 1000) / perRound)
    await new Promise((res) => setTimeout(res, 2))
  }
  means.sort((a, b) => a - b)
  return { median: means[Math.floor(means.length / 2)]!, endedAt: performance.now() }
}

describe('a slow collector', () => {
  it('never holds log() back: every call returns while requests are still unanswered', async () => {
    const fast = await slowServer(0)
    const slow = await slowServer(3000)
    const opts = {
      model,
      spool: { dir: false as const },
      batch: { maxItems: 200, intervalMs: 5 },
      queue: { maxItems: 5000 },
      flushOnExit: false,
      onError: () => undefined,
    }
    const a = createLogger({ ...opts, url: fast.url })
    const b = createLogger({ ...opts, url: slow.url, http: { timeoutMs: 20_000 } })
    // Warm up both code paths, then measure in alternation.
    await timeLogs(a, 5, 200)
    const fastRun = await timeLogs(a, 40, 200)
    const slowRun = await timeLogs(b, 40, 200)
    // Requests to the slow collector were in flight while log() was being timed, and not one had
    // been answered when the last log() returned.
    expect(slow.seen.requests).toBeGreaterThan(0)
    expect(slow.seen.firstRequestAt).toBeLessThan(slowRun.endedAt)
    expect(slow.seen.firstResponseAt).toBeGreaterThan(slowRun.endedAt)
    // The times are shown, not asserted (a shared machine makes any bound on them flaky): the
    // guarantee is the ordering above, every log() returned while no reply had come.
    console.log(`log() median: ${fastRun.median.toFixed(3)} µs with a fast collector, ${slowRun.median.toFixed(3)} µs with a 3 s collector`)
    await a.close()
    await b.close({ timeoutMs: 100 })
    await fast.close()
    await slow.close()
  }, 30_000)
})
