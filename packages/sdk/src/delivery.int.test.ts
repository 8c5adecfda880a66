/**
 * SDK ↔ real collector, end to end: 100 000 events from concurrent producers arrive exactly once,
 * through a proxy that loses replies after the collector committed (so the SDK re-sends batches
 * the collector already has) and answers some requests 503 + Retry-After, while producers also
 * re-log some events with the same id on purpose.
 */
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from './index.js'
import { startCollector, storedEventIds, type Collector } from './test-support/collector.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-sdk-delivery-'))
let collector: Collector
afterAll(async () => {
  await collector?.stop()
  fs.rmSync(root, { recursive: true, force: true })
})
beforeAll(async () => {
  collector = await startCollector(path.join(root, 'data'))
})

/** Forwards to the collector; every 7th reply is lost after the commit, every 11th request gets 503. */
function flakyProxy(target: string) {
  const t = new URL(target)
  const stats = { requests: 0, lostReplies: 0, overloaded: 0 }
  const server = http.createServer((req, res) => {
    const n = ++stats.requests
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (n % 11 === 0) {
        stats.overloaded++
        res.writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' })
        res.end('{"error":{"code":"overloaded","message":"try later"}}')
        return
      }
      const fwd = http.request({ hostname: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        const body: Buffer[] = []
        up.on('data', (c: Buffer) => body.push(c))
        up.on('end', () => {
          if (n % 7 === 0) {
            // The collector committed; the client never hears it.
            stats.lostReplies++
            req.socket.destroy()
            return
          }
          res.writeHead(up.statusCode ?? 500, up.headers)
          res.end(Buffer.concat(body))
        })
      })
      fwd.on('error', () => req.socket.destroy())
      fwd.end(Buffer.concat(chunks))
    })
  })
  return { server, stats }
}

describe('SDK ↔ collector', () => {
  it('delivers 100 000 events from concurrent producers exactly once, re-sends included', async () => {
    const proxy = flakyProxy(collector.url)
    await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}`
    const errors: string[] = []
    const log = createLogger({
      url,
      model: { name: 'exactly-once', version: '1.0.0' },
      spool: { dir: false },
      queue: { maxItems: 200_000 },
      batch: { maxItems: 2000, intervalMs: 50 },
      http: { concurrency: 3, initialBackoffMs: 20, maxBackoffMs: 200 },
      flushOnExit: false,
      onError: (e) => errors.push(`${e.code}: ${e.message}`),
    })
    const producers = 8
    const perProducer = 12_500
    const ids = new Set<string>()
    let relogged = 0
    const ts = new Date().toISOString()
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        for (let i = 0; i < perProducer; i++) {
          const ev = { ts, input: { producer: p, i, text: 'the quick brown fox' }, output: { label: i % 3, score: (i % 100) / 100 } }
          const id = log.log(ev)
          ids.add(id)
          // Re-log the identical event under the same id now and then: a safe duplicate.
          if (i % 50 === 0) {
            log.log({ ...ev, id })
            relogged++
          }
          if (i % 250 === 0) await new Promise((r) => setImmediate(r))
        }
      }),
    )
    await log.flush()
    const s = log.stats()
    await log.close()
    await new Promise<void>((r) => proxy.server.close(() => r()))
    expect(ids.size).toBe(producers * perProducer)
    expect(s).toMatchObject({ enqueued: 100_000 + relogged, sent: 100_000 + relogged, dropped: 0, failed: 0, rejected: 0, queueDepth: 0 })
    expect(proxy.stats.lostReplies).toBeGreaterThan(0)
    expect(proxy.stats.overloaded).toBeGreaterThan(0)
    expect(s.retried).toBeGreaterThanOrEqual(proxy.stats.lostReplies + proxy.stats.overloaded)
    // Every re-send of a committed batch and every deliberate re-log came back as a duplicate.
    expect(s.duplicates).toBeGreaterThanOrEqual(relogged)
    const stored = await storedEventIds(collector.url)
    expect(stored.length).toBe(100_000)
    expect(new Set(stored).size).toBe(100_000)
    expect(stored.every((id) => ids.has(id))).toBe(true)
    console.log(
      `exactly-once: ${stored.length} stored; ${proxy.stats.requests} requests, ${proxy.stats.lostReplies} replies lost, ` +
        `${proxy.stats.overloaded} × 503; SDK retried ${s.retried}, duplicates ${s.duplicates}`,
    )
  }, 90_000)
})
