/**
 * The NATS JetStream queue adapter against a nats-server of the test's own: what is particular to
 * JetStream (stream contents, message size limit, outages). The semantics it shares with every
 * Queue adapter are in `packages/server/src/queue/queue-conformance.test-suite.ts`.
 */
import { connect } from 'nats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NatsQueue, parseNatsUrl, resolveServerConfig, startServer } from '@inferlog/server'
import { eventRecord, feedbackRecord } from '../packages/server/src/store/store-conformance.test-suite.js'
import { OwnNats, servicesAvailable } from '@inferlog/testkit'

const available = servicesAvailable()

describe.skipIf(!available)('NatsQueue (JetStream)', () => {
  let nats: OwnNats
  beforeAll(async () => {
    nats = await OwnNats.start()
  })
  afterAll(() => nats?.destroy())

  const open = (stream: string, extra = '') => NatsQueue.connect(parseNatsUrl(`${nats.url}?stream=${stream}&ack_wait=1s${extra}`))

  async function streamMessages(stream: string): Promise<number> {
    const nc = await connect({ servers: nats.url })
    try {
      return (await (await nc.jetstreamManager()).streams.info(stream)).state.messages
    } finally {
      await nc.close()
    }
  }

  it('parses queue URLs and refuses unknown parameters', () => {
    expect(parseNatsUrl('nats://a:1,b:2?stream=S&ack_wait=2s&replicas=3&dup_window=5m&max_bytes=1000')).toEqual({
      servers: ['nats://a:1', 'b:2'],
      stream: 'S',
      ackWaitMs: 2000,
      replicas: 3,
      duplicateWindowMs: 300_000,
      maxBytes: 1000,
    })
    expect(() => parseNatsUrl('nats://a:1?colour=red')).toThrow(/unknown/)
    expect(() => parseNatsUrl('http://a:1')).toThrow(/nats:/)
  })

  it('drops a re-published group inside the duplicate window (message id = content hash)', async () => {
    const q = await open('DEDUP')
    try {
      const batch = { events: [eventRecord({ id: 'a' })], feedback: [feedbackRecord({ id: 'f', eventId: 'a' })] }
      await q.publish(batch)
      await q.publish(batch)
      await q.publish({ ...batch, feedback: [] })
      expect(await streamMessages('DEDUP')).toBe(2)
      const got = []
      while (got.length < 2) {
        const some = await q.fetch(10, 2000)
        expect(some.length).toBeGreaterThan(0)
        got.push(...some)
      }
      expect(got.map((d) => d.batch)).toEqual([batch, { ...batch, feedback: [] }])
      got.forEach((d) => d.ack())
    } finally {
      await q.close()
    }
  })

  it('splits a group larger than max_payload into several messages and delivers every item in order', async () => {
    const q = await open('SPLIT')
    try {
      const events = Array.from({ length: 3000 }, (_, i) => eventRecord({ id: `e${i}` }, { input: 'x'.repeat(1200) }))
      await q.publish({ events, feedback: [] })
      const n = await streamMessages('SPLIT')
      expect(n).toBeGreaterThanOrEqual(4) // ~3.7 MB over the default 1 MiB limit
      const seen: string[] = []
      while (seen.length < 3000) {
        const got = await q.fetch(16, 2000)
        expect(got.length).toBeGreaterThan(0)
        for (const d of got) {
          seen.push(...d.batch.events.map((e) => e.id))
          d.ack()
        }
      }
      expect(seen).toEqual(events.map((e) => e.id))
    } finally {
      await q.close()
    }
  })

  it('a collector caps items at what one message can carry: an oversized item is refused alone, its neighbours accepted', async () => {
    const quiet = { info: () => {}, warn: () => {}, error: () => {} }
    const server = await startServer(resolveServerConfig({ port: 0, store: 'sqlite::memory:', queue: `${nats.url}?stream=CAP` }, {}), quiet)
    try {
      const max = server.queue!.maxItemBytes!
      expect(max).toBeGreaterThan(400_000)
      expect(max).toBeLessThan(1024 * 1024)
      const small = { model: { name: 'm', version: '1' }, input: 1, output: 1 }
      const big = { ...small, input: 'x'.repeat(max + 10) }
      const res = await fetch(`${server.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: [small, big, small].map((e) => JSON.stringify(e)).join('\n'),
      })
      expect(res.status).toBe(207)
      const reply = (await res.json()) as { accepted: number; rejected: { index: number; code: string }[] }
      expect(reply.accepted).toBe(2)
      expect(reply.rejected).toEqual([expect.objectContaining({ index: 1, code: 'item_too_large' })])
      // The largest item allowed does fit in one message.
      const edge = { ...small, input: 'y'.repeat(max - 200) }
      expect((await fetch(`${server.url}/v1/events`, { method: 'POST', body: JSON.stringify(edge) })).status).toBe(200)
    } finally {
      await server.close()
    }
  })

  it('refuses publishes at once while NATS is down and accepts them again after it is back', async () => {
    const q = await open('OUTAGE')
    try {
      await q.publish({ events: [eventRecord({ id: 'before' })], feedback: [] })
      await nats.stop('SIGKILL')
      await new Promise((r) => setTimeout(r, 300))
      const t0 = Date.now()
      await expect(q.publish({ events: [eventRecord({ id: 'during' })], feedback: [] })).rejects.toMatchObject({
        code: 'unavailable',
        retryAfter: 1,
      })
      await expect(q.ping()).rejects.toMatchObject({ code: 'unavailable' })
      expect(Date.now() - t0).toBeLessThan(1000)
      await nats.start()
      for (let i = 0; i < 100; i++) {
        try {
          await q.ping()
          break
        } catch {
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      await q.publish({ events: [eventRecord({ id: 'after' })], feedback: [] })
      const ids: string[] = []
      while (ids.length < 2) {
        const got = await q.fetch(10, 3000)
        expect(got.length).toBeGreaterThan(0)
        got.forEach((d) => {
          ids.push(...d.batch.events.map((e) => e.id))
          d.ack()
        })
      }
      expect(ids).toEqual(['before', 'after'])
    } finally {
      await q.close()
    }
  })
})
