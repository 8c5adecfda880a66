/**
 * The Queue port's conformance suite: the semantics every adapter claims (see `queue.ts`), run by
 * `memory/memory-queue.test.ts` (fake timers) and `nats/nats-queue.int.test.ts` (a real
 * nats-server, real time). Durations are multiples of the ack wait the adapter is opened with, so
 * one suite fits an in-process queue and a server whose timers tick in real time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { WriteBatch } from '../store/store.js'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import type { Queue, QueueDelivery } from './queue.js'

/** A queue opened for one test, and how to remove what it leaves behind. */
export interface QueueUnderTest {
  queue: Queue
  /** Closes the queue (if the test did not) and removes its state (a NATS stream). */
  dispose(): Promise<void>
}

/** How time passes for the adapter under test. */
export interface QueueTestClock {
  /** Called before each test (e.g. `vi.useFakeTimers()`). */
  install?(): void
  /** Called after each test. */
  uninstall?(): void
  /** Resolves with `p`, letting at most `ms` of the queue's time pass while it is pending. */
  during<T>(p: Promise<T>, ms: number): Promise<T>
  /** Lets `ms` of the queue's time pass. */
  sleep(ms: number): Promise<void>
}

/** Options of {@link describeQueueConformance}. */
export interface QueueConformanceOptions {
  /** Opens a fresh, empty queue whose deliveries are redelivered after `ackWaitMs` without an ack. */
  open(o: { ackWaitMs: number }): Promise<QueueUnderTest>
  /** The ack wait every test opens with; the adapter's timers must resolve well below it. */
  ackWaitMs: number
  /** Default {@link realClock}. */
  clock?: QueueTestClock
}

/** Real time: `during` is the promise itself (fetch waits on its own), `sleep` a timer. */
export const realClock: QueueTestClock = {
  during: (p) => p,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
}

/**
 * Vitest's fake timers, for adapters whose timers are the process's own (the memory queue): time
 * passes in steps of a hundredth of the span, so a fetch that resolves early leaves the remaining
 * time unspent (no ack wait runs out behind the test's back).
 */
export const fakeClock: QueueTestClock = {
  install: () => vi.useFakeTimers(),
  uninstall: () => vi.useRealTimers(),
  async during(p, ms) {
    let settled = false
    p.then(
      () => (settled = true),
      () => (settled = true),
    )
    const step = Math.max(1, Math.ceil(ms / 100))
    for (let spent = 0; !settled && spent < ms; spent += step) await vi.advanceTimersByTimeAsync(step)
    return p
  },
  async sleep(ms) {
    await vi.advanceTimersByTimeAsync(ms)
  },
}

const group = (id: string, feedback = false): WriteBatch => ({
  events: [eventRecord({ id })],
  feedback: feedback ? [feedbackRecord({ id: `fb-${id}`, eventId: id })] : [],
})
const ids = (ds: QueueDelivery[]) => ds.flatMap((d) => d.batch.events.map((e) => e.id))

/** Runs the suite over one adapter. */
export function describeQueueConformance(name: string, o: QueueConformanceOptions): void {
  const clock = o.clock ?? realClock
  const A = o.ackWaitMs

  describe(`Queue conformance: ${name}`, () => {
    let open: QueueUnderTest[] = []
    let q: Queue

    beforeEach(async () => {
      clock.install?.()
      const u = await o.open({ ackWaitMs: A })
      open.push(u)
      q = u.queue
    })
    afterEach(async () => {
      try {
        for (const u of open) await u.dispose()
      } finally {
        open = []
        clock.uninstall?.()
      }
    })

    /** Fetches until `n` deliveries came, each fetch waiting at most `2A`; fails when one brings nothing. */
    async function take(n: number): Promise<QueueDelivery[]> {
      const got: QueueDelivery[] = []
      while (got.length < n) {
        const some = await clock.during(q.fetch(n - got.length, 2 * A), 2 * A)
        if (some.length === 0) throw new Error(`expected ${n} deliveries, got ${got.length}: ${ids(got).join(',')}`)
        got.push(...some)
      }
      return got
    }
    /** What one fetch brings within `ms` (nothing, when the queue is right). */
    const within = (ms: number, max = 10) => clock.during(q.fetch(max, ms), ms)

    it('delivers groups in publish order, each whole, as deliveryCount 1 with its size', async () => {
      const sent = ['g1', 'g2', 'g3', 'g4', 'g5'].map((id, i) => group(id, i % 2 === 0))
      for (const b of sent) await q.publish(b)
      const got = await take(5)
      expect(got.map((d) => d.batch)).toEqual(sent)
      for (const d of got) {
        expect(d.deliveryCount).toBe(1)
        expect(d.bytes).toBeGreaterThan(0)
        d.ack()
      }
    })

    it('fetch returns at most `max` deliveries and nothing when the queue is empty', async () => {
      expect(await within(A / 4)).toEqual([])
      for (const id of ['m1', 'm2', 'm3']) await q.publish(group(id))
      const first = await take(2)
      expect(first).toHaveLength(2)
      const rest = await take(1)
      expect(ids([...first, ...rest])).toEqual(['m1', 'm2', 'm3'])
      for (const d of [...first, ...rest]) d.ack()
    })

    it('an acknowledged group is never delivered again', async () => {
      await q.publish(group('acked'))
      const [d] = await take(1)
      d!.ack()
      expect(await within(2.5 * A)).toEqual([])
    })

    it('nak() gives a group back at once, delivered again with deliveryCount + 1', async () => {
      const sent = group('n', true)
      await q.publish(sent)
      const [d] = await take(1)
      d!.nak()
      const [again] = await take(1)
      expect(again!.deliveryCount).toBe(2)
      expect(again!.batch).toEqual(sent)
      again!.ack()
      expect(await within(1.5 * A)).toEqual([])
    })

    it('nak(delay) redelivers not before the delay and yes after it', async () => {
      await q.publish(group('later'))
      const [d] = await take(1)
      d!.nak(2 * A)
      expect(await within(A)).toEqual([])
      const again = await within(3 * A)
      expect(ids(again)).toEqual(['later'])
      expect(again[0]!.deliveryCount).toBe(2)
      again[0]!.ack()
    })

    it('a delivery not acknowledged within the ack wait is redelivered with deliveryCount + 1; a late ack of the old one changes nothing', async () => {
      await q.publish(group('slow'))
      const [first] = await take(1)
      expect(first!.deliveryCount).toBe(1)
      const again = await within(3 * A)
      expect(ids(again)).toEqual(['slow'])
      expect(again[0]!.deliveryCount).toBe(2)
      again[0]!.ack()
      first!.ack()
      expect(await within(1.5 * A)).toEqual([])
    })

    it('working() restarts the ack wait: a slow worker keeps its group past the ack wait', async () => {
      await q.publish(group('busy'))
      const [d] = await take(1)
      // 2.5 ack waits in all, the timer restarted every half: nobody else gets the group.
      for (let i = 0; i < 5; i++) {
        expect(await within(A / 2)).toEqual([])
        d!.working()
      }
      d!.ack()
      expect(await within(1.5 * A)).toEqual([])
    })

    it('the ack wait runs from the fetch that hands a delivery out, not from when the adapter received it', async () => {
      await q.publish(group('h1'))
      await q.publish(group('h2'))
      const [d1] = await take(1)
      await clock.sleep(0.6 * A)
      d1!.ack()
      // h2 may have waited in a prefetch buffer since h1 came; it still gets a whole ack wait.
      const [d2] = await take(1)
      expect(ids([d2!])).toEqual(['h2'])
      await clock.sleep(0.6 * A)
      d2!.ack()
      expect(await within(1.5 * A)).toEqual([])
    })

    it('a group left unfetched past the ack wait is handed out once, not once per redelivery', async () => {
      expect(await within(A / 4)).toEqual([]) // the adapter is consuming now
      await q.publish(group('idle'))
      await clock.sleep(1.6 * A)
      const got = await within(A)
      expect(ids(got)).toEqual(['idle'])
      got[0]!.ack()
      expect(await within(1.5 * A)).toEqual([])
    })

    it('term() never delivers the group again', async () => {
      await q.publish(group('poison'))
      await q.publish(group('fine'))
      const got = await take(2)
      got[0]!.term()
      got[1]!.ack()
      expect(await within(2.5 * A)).toEqual([])
    })

    it('drops a re-published group with the same message id (its content), also after it was acknowledged', async () => {
      const b = group('dup', true)
      await q.publish(b)
      await q.publish(b)
      await q.publish(group('other'))
      const got = await take(2)
      expect(ids(got)).toEqual(['dup', 'other'])
      for (const d of got) d.ack()
      expect(await within(A)).toEqual([])
      await q.publish(b)
      expect(await within(A)).toEqual([])
    })

    it('ping resolves while open; close is idempotent, then ping and publish fail as unavailable and fetch brings nothing', async () => {
      await expect(q.ping()).resolves.toBeUndefined()
      await q.publish(group('left'))
      await q.close()
      await q.close()
      await expect(q.ping()).rejects.toMatchObject({ code: 'unavailable' })
      await expect(q.publish(group('late'))).rejects.toMatchObject({ code: 'unavailable' })
      expect(await within(A / 4)).toEqual([])
    })

    it('close wakes a waiting fetch, and calls on a delivery after close do not throw', async () => {
      await q.publish(group('held'))
      const [d] = await take(1)
      const waiting = q.fetch(10, 60 * A)
      await clock.sleep(A / 10)
      await q.close()
      expect(await Promise.race([waiting, clock.sleep(A).then(() => 'still waiting')])).toEqual([])
      expect(() => d!.working()).not.toThrow()
      expect(() => d!.nak()).not.toThrow()
      expect(() => d!.ack()).not.toThrow()
      expect(() => d!.term()).not.toThrow()
    })
  })
}
