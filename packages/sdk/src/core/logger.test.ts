import { createHmac } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { InferlogSdkError } from '../errors.js'
import { nodePlatform } from '../node/node-platform.js'
import type { LoggerOptions } from '../options.js'
import { advanceUntil, FakeSender, MemorySpool, ok, partial, payloadItems, settle, useFakeClock, waitFor } from '../test-support/fakes.js'
import { createLoggerWith } from './logger.js'

const model = { name: 'clf', version: '1.0.0' }

afterEach(() => {
  vi.useRealTimers()
})

function setup(o: LoggerOptions = {}, sender = new FakeSender(), spool?: MemorySpool) {
  const errors: InferlogSdkError[] = []
  const log = createLoggerWith(
    {
      model,
      flushOnExit: false,
      batch: { intervalMs: 20 },
      http: { initialBackoffMs: 5, maxBackoffMs: 50 },
      onError: (e) => errors.push(e),
      ...o,
    },
    { platform: nodePlatform(), sender, ...(spool ? { spool } : {}) },
  )
  return { log, sender, errors, spool }
}

describe('log()', () => {
  it('returns a UUIDv7 and sends the event with id, ts, model filled, as gzip NDJSON batches', async () => {
    const { log, sender } = setup({ batch: { maxItems: 100, intervalMs: 20 } })
    const ids = Array.from({ length: 250 }, (_, i) => log.log({ input: { i }, output: i % 2 }))
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    await log.flush()
    expect(sender.payloads.map((p) => p.count)).toEqual([100, 100, 50])
    expect(sender.payloads.every((p) => p.encoding === 'gzip' && p.kind === 'event')).toBe(true)
    // Batches may go out of order (each is compressed on its own, off the thread), each holds a
    // run of consecutive events, and together every event once.
    const runs = sender.payloads.map((p) => payloadItems(p).map((e) => e.id as string))
    for (const run of runs) expect(run).toEqual(ids.slice(ids.indexOf(run[0]!), ids.indexOf(run[0]!) + run.length))
    expect(runs.flat().sort()).toEqual([...ids].sort())
    const first = sender.delivered.find((e) => e.id === ids[0])!
    expect(first).toMatchObject({ id: ids[0], model, input: { i: 0 }, output: 0 })
    expect(Date.now() - Date.parse(first.ts as string)).toBeLessThan(10_000)
    expect(first).not.toHaveProperty('sample_rate')
    expect(log.stats()).toMatchObject({ enqueued: 250, sent: 250, dropped: 0, failed: 0, queueDepth: 0, inFlight: 0, requests: 3 })
    await log.close()
  })

  it('keeps a given id, ts and model, and never modifies the caller object', async () => {
    const { log, sender } = setup()
    const ev = {
      id: 'req-1',
      ts: '2026-01-02T03:04:05.678Z',
      model: { name: 'other', version: '2' },
      input: 'x',
      output: 'y',
      trace: { user_id: 'u1' },
    }
    const copy = JSON.stringify(ev)
    expect(log.log(ev)).toBe('req-1')
    await log.flush()
    expect(sender.delivered[0]).toEqual(ev)
    expect(JSON.stringify(ev)).toBe(copy)
    await log.close()
  })

  it('never throws, whatever it is given, and counts what it cannot send', async () => {
    const { log, errors, sender } = setup()
    const circular: Record<string, unknown> = { input: 1, output: 2 }
    circular.self = circular
    const hostile = Object.defineProperty({}, 'id', {
      get() {
        throw new Error('boom')
      },
    })
    expect(() => log.log(null as never)).not.toThrow()
    expect(() => log.log(hostile as never)).not.toThrow()
    expect(() => log.log(circular as never)).not.toThrow()
    expect(() => log.log({ input: 1n as never })).not.toThrow()
    log.log({ input: 'fine', output: 1 })
    await log.flush()
    expect(sender.delivered).toHaveLength(1)
    expect(log.stats().failed).toBe(4)
    await waitFor(() => errors.some((e) => e.code === 'serialize_failed'))
    await log.close()
  })

  it('survives an onError handler that throws', async () => {
    const sender = new FakeSender(() => ({ status: 400, errorCode: 'bad_request' }))
    const log = createLoggerWith(
      {
        model,
        flushOnExit: false,
        batch: { intervalMs: 10 },
        onError: () => {
          throw new Error('handler bug')
        },
      },
      { platform: nodePlatform(), sender },
    )
    log.log({ input: 1, output: 1 })
    await log.flush()
    expect(log.stats().failed).toBe(1)
    await log.close()
  })
})

describe('delivery', () => {
  it('retries 503 honouring Retry-After, and network faults with backoff', async () => {
    useFakeClock()
    const sender = new FakeSender((_p, n) =>
      n === 0 ? { status: 503, retryAfterMs: 300, errorCode: 'overloaded' } : n === 1 ? new Error('ECONNRESET') : ok(),
    )
    const { log } = setup({ spool: { dir: false } }, sender)
    for (let i = 0; i < 10; i++) log.log({ input: i, output: i })
    await settle(log.flush())
    expect(sender.payloads).toHaveLength(3)
    expect(sender.times[1]! - sender.times[0]!).toBeGreaterThanOrEqual(300)
    expect(log.stats()).toMatchObject({ sent: 10, retried: 2, failed: 0 })
    await settle(log.close())
  })

  it('gives up after maxRetries without a spool: counted as failed and reported once', async () => {
    const sender = new FakeSender(() => ({ status: 500 }))
    const { log, errors } = setup({ http: { maxRetries: 3, initialBackoffMs: 1, maxBackoffMs: 2 } }, sender)
    for (let i = 0; i < 5; i++) log.log({ input: i, output: i })
    await log.flush()
    expect(sender.payloads).toHaveLength(4)
    expect(log.stats()).toMatchObject({ sent: 0, failed: 5, retried: 3 })
    expect(errors.filter((e) => e.code === 'delivery_failed')).toHaveLength(1)
    expect(errors[0]!.status).toBe(500)
    await log.close()
  })

  it('reports 207 per-item rejections once with their codes and does not retry them', async () => {
    const sender = new FakeSender((p) => partial(p.count, [1, 3], 'validation_failed'))
    const { log, errors } = setup({}, sender)
    for (let i = 0; i < 5; i++) log.log({ input: i, output: i })
    await log.flush()
    expect(sender.payloads).toHaveLength(1)
    expect(log.stats()).toMatchObject({ sent: 3, rejected: 2, retried: 0, failed: 0 })
    const rejected = errors.filter((e) => e.code === 'rejected')
    expect(rejected).toHaveLength(1)
    expect(rejected[0]!.rejections!.map((r) => r.code)).toEqual(['validation_failed', 'validation_failed'])
    expect(rejected[0]!.message).toContain('validation_failed')
    await log.close()
  })

  it('splits a batch the collector finds too large (413) until it fits', async () => {
    const sender = new FakeSender((p) => (p.count > 3 ? { status: 413, errorCode: 'payload_too_large' } : ok()))
    const { log } = setup({}, sender)
    for (let i = 0; i < 10; i++) log.log({ input: i, output: i })
    await log.flush()
    expect(sender.delivered.map((e) => e.input)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(log.stats()).toMatchObject({ sent: 10, failed: 0 })
    await log.close()
  })

  it('does not retry a 4xx (auth, bad request): the batch is failed and reported', async () => {
    const sender = new FakeSender(() => ({ status: 401, errorCode: 'unauthorized', message: 'an API key is required' }))
    const { log, errors } = setup({}, sender)
    log.log({ input: 1, output: 1 })
    await log.flush()
    expect(sender.payloads).toHaveLength(1)
    expect(log.stats().failed).toBe(1)
    expect(errors[0]!.message).toContain('unauthorized')
    await log.close()
  })

  it('spools when the collector is down and replays in order when it is back', async () => {
    useFakeClock()
    let down = true
    const sender = new FakeSender(() => (down ? new Error('ECONNREFUSED') : ok()))
    const spool = new MemorySpool()
    const { log } = setup(
      { batch: { maxItems: 10, intervalMs: 10 }, http: { retriesBeforeSpool: 0, initialBackoffMs: 5, maxBackoffMs: 20 } },
      sender,
      spool,
    )
    const ids: string[] = []
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) ids.push(log.log({ input: round * 10 + i, output: 1 }))
      await settle(log.flush())
    }
    expect(log.stats().spooled).toBe(50)
    expect(log.stats().sent).toBe(0)
    expect(spool!.files).toHaveLength(5)
    down = false
    await advanceUntil(() => log.stats().replayed === 50, 'replay')
    expect(sender.delivered.map((e) => e.id)).toEqual(ids)
    expect(log.stats()).toMatchObject({ sent: 50, spooled: 50, replayed: 50, dropped: 0, failed: 0, spoolItems: 0 })
    await settle(log.close())
  })

  it('evicts the oldest spooled batches beyond the spool cap and counts them as dropped', async () => {
    const sender = new FakeSender(() => new Error('down'))
    const spool = new MemorySpool(600)
    const { log, errors } = setup(
      { batch: { maxItems: 5, intervalMs: 10 }, http: { retriesBeforeSpool: 0, initialBackoffMs: 1000, maxBackoffMs: 1000 } },
      sender,
      spool,
    )
    for (let i = 0; i < 40; i++) log.log({ input: 'x'.repeat(50) + i, output: i })
    await log.flush()
    const s = log.stats()
    expect(s.spooled).toBe(40)
    expect(s.dropped).toBeGreaterThan(0)
    expect(s.spoolItems + s.dropped).toBe(40)
    expect(errors.some((e) => e.code === 'spool_full')).toBe(true)
    await log.close()
  })
})

describe('overflow', () => {
  it('drop-newest keeps the first items and counts every drop exactly', async () => {
    const { log, sender, errors } = setup({ queue: { maxItems: 10 } })
    const ids = Array.from({ length: 1000 }, (_, i) => log.log({ input: i, output: i }))
    expect(log.stats()).toMatchObject({ enqueued: 10, dropped: 990, queueDepth: 10 })
    await log.flush()
    expect(sender.delivered.map((e) => e.id)).toEqual(ids.slice(0, 10))
    await waitFor(() => errors.filter((e) => e.code === 'queue_overflow').length === 1)
    await log.close()
  })

  it('drop-oldest keeps the newest items', async () => {
    const { log, sender } = setup({ queue: { maxItems: 10, overflow: 'drop-oldest' } })
    const ids = Array.from({ length: 1000 }, (_, i) => log.log({ input: i, output: i }))
    expect(log.stats()).toMatchObject({ enqueued: 1000, dropped: 990, queueDepth: 10 })
    await log.flush()
    expect(sender.delivered.map((e) => e.id)).toEqual(ids.slice(-10))
    await log.close()
  })

  it("overflow 'spool' sends batches to the spool while every connection is busy, instead of dropping", async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((r) => (release = r))
    const sender = new FakeSender(async () => {
      await gate
      return ok()
    })
    const spool = new MemorySpool()
    const { log } = setup(
      { queue: { maxItems: 400, overflow: 'spool' }, batch: { maxItems: 100, intervalMs: 10 }, http: { concurrency: 1 } },
      sender,
      spool,
    )
    for (let r = 0; r < 20; r++) {
      for (let i = 0; i < 100; i++) log.log({ input: r * 100 + i, output: 1 })
      await new Promise((res) => setTimeout(res, 5))
    }
    // The network is stuck, yet nothing was dropped: what did not fit went to the spool.
    await waitFor(() => log.stats().queueDepth < 200)
    expect(log.stats().dropped).toBe(0)
    expect(log.stats().spooled).toBeGreaterThan(0)
    release()
    await log.flush()
    await waitFor(() => log.stats().sent === 2000, 5000, 'everything delivered')
    expect(new Set(sender.delivered.map((e) => e.input)).size).toBe(2000)
    await log.close()
  })

  it('counts what a timed-out close() leaves behind as dropped', async () => {
    useFakeClock()
    const sender = new FakeSender(() => new Promise(() => undefined))
    const { log } = setup({ http: { concurrency: 1 }, batch: { maxItems: 10, intervalMs: 10 } }, sender)
    for (let i = 0; i < 50; i++) log.log({ input: i, output: i })
    await settle(log.close({ timeoutMs: 50 }))
    const s = log.stats()
    // Queued items are counted as dropped; the one batch stuck in a request that never ends stays in flight.
    expect(s.queueDepth).toBe(0)
    expect(s.dropped).toBeGreaterThan(0)
    expect(s.sent + s.dropped + s.failed + s.inFlight).toBe(50)
  })

  it('applies the byte cap on the moving average of item sizes', async () => {
    const { log } = setup({ queue: { maxItems: 1_000_000, maxBytes: 100 * 1024 } })
    for (let i = 0; i < 1000; i++) log.log({ input: i, output: i })
    // The initial estimate is 1 KiB an item: 100 fit.
    expect(log.stats().enqueued).toBe(100)
    await log.close()
  })

  it('drops (and counts) what is logged after close()', async () => {
    const { log } = setup()
    await log.close()
    log.log({ input: 1, output: 1 })
    log.feedback('e', 'thumbs', 1)
    expect(log.stats().dropped).toBe(2)
    await log.close()
    await log.flush()
  })

  it('reports what is logged after close() once, with the count of the burst, before a later flush() or close() resolves', async () => {
    const { log, errors } = setup()
    await log.close()
    for (let i = 0; i < 3; i++) log.log({ input: i, output: i })
    log.feedback('e', 'thumbs', 1)
    await log.flush()
    const closed = errors.filter((e) => e.code === 'closed')
    expect(closed).toHaveLength(1)
    expect(closed[0]!.items).toBe(4)
    expect(closed[0]!.message).toContain('4 items logged after close()')
    // Later calls are counted, not reported again.
    log.log({ input: 9, output: 9 })
    await log.close()
    expect(errors.filter((e) => e.code === 'closed')).toHaveLength(1)
    expect(log.stats().dropped).toBe(5)
  })
})

describe('sampling', () => {
  it('keeps a deterministic share by id, records sample_rate, and feedback follows its event', async () => {
    const { log, sender } = setup({ sampling: { rate: 0.25 }, batch: { maxItems: 5000, intervalMs: 10 }, queue: { maxItems: 20_000 } })
    const ids = Array.from({ length: 4000 }, (_, i) => log.log({ id: `req-${i}`, input: i, output: i }))
    for (const id of ids) log.feedback(id, 'thumbs', 1)
    await log.flush()
    const kept = sender.delivered.filter((x) => 'model' in x)
    expect(kept.length).toBeGreaterThan(850)
    expect(kept.length).toBeLessThan(1150)
    expect(kept.every((e) => e.sample_rate === 0.25)).toBe(true)
    const fb = sender.delivered.filter((x) => 'event_id' in x).map((f) => f.event_id)
    expect(fb.sort()).toEqual(kept.map((e) => e.id).sort())
    expect(log.stats().sampledOut).toBe(2 * (4000 - kept.length))
    // Same id, same decision in another logger.
    const again = setup({ sampling: { rate: 0.25 } })
    for (let i = 0; i < 4000; i++) again.log.log({ id: `req-${i}`, input: i, output: i })
    await again.log.flush()
    expect(again.sender.delivered.map((e) => e.id)).toEqual(kept.map((e) => e.id))
    await log.close()
    await again.log.close()
  })

  it('captures internals by rate and predicate, off the caller path, and survives a throwing predicate', async () => {
    const { log, sender, errors } = setup({
      sampling: {
        internals: {
          when: (e) =>
            (e.output as { conf: number }).conf < 0.6 ? true : (e.output as { conf: number }).conf > 0.95 ? (null as never).x : false,
        },
      },
    })
    log.log({ id: 'a', input: 1, output: { conf: 0.5 }, internals: { logits: new Float32Array([1, 2]) } })
    log.log({ id: 'b', input: 1, output: { conf: 0.9 }, internals: { logits: new Float32Array([1, 2]) } })
    log.log({ id: 'c', input: 1, output: { conf: 0.99 }, internals: { logits: new Float32Array([1, 2]) } })
    await log.flush()
    const by = Object.fromEntries(sender.delivered.map((e) => [e.id, e]))
    expect(by.a!.internals).toMatchObject({ logits: { dtype: 'float32', shape: [2] } })
    expect(by.b).not.toHaveProperty('internals')
    expect(by.c).not.toHaveProperty('internals')
    expect(errors.some((e) => e.code === 'callback_failed')).toBe(true)
    const r = setup({ sampling: { internals: { rate: 0.5 } } })
    for (let i = 0; i < 400; i++) r.log.log({ input: i, output: i, internals: { x: [i] } })
    await r.log.flush()
    const withInternals = r.sender.delivered.filter((e) => 'internals' in e).length
    expect(withInternals).toBeGreaterThan(140)
    expect(withInternals).toBeLessThan(260)
    await log.close()
    await r.log.close()
  })
})

describe('timing helpers and feedback', () => {
  it('span: phases, ttft and total in latency_ms; end is idempotent; fail records the error', async () => {
    useFakeClock()
    const { log, sender } = setup()
    const sleep = (ms: number) => vi.advanceTimersByTimeAsync(ms)
    const span = log.start({ input: 'q' })
    span.phase('pre')
    await sleep(20)
    span.phase('inference')
    await sleep(10)
    span.ttft()
    await sleep(20)
    span.phase('post')
    span.set({ usage: { output_tokens: 3 } })
    expect(span.end({ output: 'a' })).toBe(span.id)
    span.end({ output: 'again' })
    const bad = log.start({ input: 'q2' })
    bad.fail(new TypeError('nope'))
    await settle(log.flush())
    expect(sender.delivered).toHaveLength(2)
    const [e, f] = sender.delivered as { latency_ms: Record<string, number>; [k: string]: unknown }[]
    expect(e).toMatchObject({ id: span.id, input: 'q', output: 'a', usage: { output_tokens: 3 } })
    expect(e!.latency_ms).toEqual({ pre: 20, inference: 30, ttft: 30, post: 0, total: 50 })
    expect(f).toMatchObject({ status: 'error', error: { type: 'TypeError', message: 'nope' } })
    await settle(log.close())
  })

  it('wrap: async and sync functions, errors rethrown and logged, mapping options', async () => {
    const { log, sender } = setup()
    const predict = log.wrap(async (x: number) => {
      await new Promise((r) => setTimeout(r, 5))
      if (x < 0) throw new RangeError('negative')
      return { y: x * 2 }
    })
    await expect(predict(2)).resolves.toEqual({ y: 4 })
    await expect(predict(-1)).rejects.toThrow('negative')
    const add = log.wrap((a: number, b: number) => a + b, {
      id: (a) => `add-${a}`,
      output: (r) => ({ sum: r }),
      fields: () => ({ usage: { compute_ms: 1 } }),
    })
    expect(add(1, 2)).toBe(3)
    const boom = log.wrap(() => {
      throw new Error('sync')
    })
    expect(() => boom()).toThrow('sync')
    await log.flush()
    const d = sender.delivered
    expect(d).toHaveLength(4)
    expect(d.find((e) => e.input === 2)).toMatchObject({ output: { y: 4 }, latency_ms: { total: expect.any(Number) } })
    expect(d.find((e) => e.input === -1)).toMatchObject({ status: 'error', error: { type: 'RangeError', message: 'negative' } })
    expect(d.find((e) => e.id === 'add-1')).toMatchObject({ input: [1, 2], output: { sum: 3 }, usage: { compute_ms: 1 } })
    expect(d.find((e) => (e.error as { message?: string } | undefined)?.message === 'sync')).toBeDefined()
    await log.close()
  })

  it('feedback goes to its own endpoint with ts filled; pseudonymization covers user ids', async () => {
    const { log, sender } = setup({ pseudonymize: { secret: 's3cret' } })
    const id = log.log({ input: 1, output: 1, trace: { user_id: 'alice', session_id: 's' } })
    const fid = log.feedback(id, 'thumbs', -1, { source: { type: 'user', id: 'alice' }, comment: 'meh' })
    await log.flush()
    const h = createHmac('sha256', 's3cret').update('alice').digest('hex')
    expect(log.pseudonymize('alice')).toBe(h)
    const ev = sender.delivered.find((e) => e.id === id)!
    const fb = sender.delivered.find((e) => e.id === fid)!
    expect(ev.trace).toEqual({ user_id: h, session_id: 's' })
    expect(fb).toMatchObject({ event_id: id, name: 'thumbs', value: -1, comment: 'meh', source: { type: 'user', id: h } })
    expect(typeof fb.ts).toBe('string')
    expect(sender.payloads.map((p) => p.kind).sort()).toEqual(['event', 'feedback'])
    expect(JSON.stringify(sender.payloads.map(payloadItems))).not.toContain('alice')
    await log.close()
  })

  it('rejects nonsense options at construction', () => {
    expect(() => setup({ sampling: { rate: 0 } })).toThrow(TypeError)
    expect(() => setup({ queue: { maxItems: -1 } })).toThrow(TypeError)
    expect(() => setup({ queue: { overflow: 'explode' as never } })).toThrow(TypeError)
  })
})
