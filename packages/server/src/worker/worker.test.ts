import { describe, expect, it } from 'vitest'
import { MemoryQueue } from '../queue/memory/memory-queue.js'
import { QueueWriter } from '../queue/queue-writer.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import type { Store, WriteBatch, WriteResult } from '../store/store.js'
import { Worker } from './worker.js'

const quiet = { info: () => {}, warn: () => {}, error: () => {} }

async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * A store whose writes fail while `down` is set, or always for one id (a poison item, refused the
 * way SQLite refuses a value over its length limit; the store's own `isDataError` classifies it).
 */
function flaky(inner: Store) {
  const state = { down: false, poison: '', calls: 0 }
  const store = new Proxy(inner, {
    get(target, prop, recv) {
      if (prop === 'writeBatch') {
        return async (b: WriteBatch): Promise<WriteResult> => {
          state.calls++
          if (state.down) throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })
          if (state.poison && b.events.some((e) => e.id === state.poison))
            throw Object.assign(new Error('string or blob too big'), { code: 'SQLITE_TOOBIG' })
          return target.writeBatch(b)
        }
      }
      return Reflect.get(target, prop, recv)
    },
  })
  return { store, state }
}

describe('Worker (memory queue, SQLite store)', () => {
  it('writes queued groups, acknowledges after commit, and counts duplicates of a re-send', async () => {
    const store = new SqliteStore({ filename: ':memory:' })
    await store.migrate()
    // No duplicate window: the re-send must reach the worker, which counts its items as duplicates.
    const queue = new MemoryQueue({ duplicateWindowMs: 0 })
    const writer = new QueueWriter(queue)
    const w = new Worker({ store, queue, logger: quiet, fetchWaitMs: 20 })
    void w.start()
    const batch = { events: [eventRecord({ id: 'a' }), eventRecord({ id: 'b' })], feedback: [feedbackRecord({ id: 'f', eventId: 'a' })] }
    expect((await writer.writeBatch(batch)).events).toEqual(['inserted', 'inserted'])
    await writer.writeBatch(batch)
    await until(() => w.stats.groups === 2)
    expect(w.stats).toMatchObject({ inserted: 3, duplicates: 3, conflicts: 0 })
    expect(queue.depth).toBe(0)
    expect((await store.getEvent('p1', 'a'))?.body).toBe(batch.events[0]!.body)
    await w.stop()
    await store.close()
  })

  it('keeps its groups while the store is down and writes them once it is back', async () => {
    const inner = new SqliteStore({ filename: ':memory:' })
    await inner.migrate()
    const { store, state } = flaky(inner)
    const queue = new MemoryQueue({ ackWaitMs: 60_000 })
    const w = new Worker({ store, queue, logger: quiet, fetchWaitMs: 20, minBackoffMs: 5, maxBackoffMs: 20 })
    state.down = true
    void w.start()
    await queue.publish({ events: [eventRecord({ id: 'x' })], feedback: [] })
    await until(() => state.calls >= 3)
    expect(await inner.getEvent('p1', 'x')).toBeUndefined()
    expect(queue.depth).toBe(1) // delivered, not acknowledged
    state.down = false
    await until(() => w.stats.groups === 1)
    expect(queue.depth).toBe(0)
    expect(w.stats.failedWrites).toBeGreaterThanOrEqual(3)
    await w.stop()
    await inner.close()
  })

  it('sets aside only the item the store refuses as data, writing its neighbours in the same group', async () => {
    const inner = new SqliteStore({ filename: ':memory:' })
    await inner.migrate()
    const { store, state } = flaky(inner)
    state.poison = 'bad'
    const queue = new MemoryQueue()
    await queue.publish({ events: [eventRecord({ id: 'ok1' })], feedback: [] })
    await queue.publish({
      events: [eventRecord({ id: 'n1' }), eventRecord({ id: 'bad' }), eventRecord({ id: 'n2' })],
      feedback: [feedbackRecord({ id: 'fb', eventId: 'n1' })],
    })
    await queue.publish({ events: [eventRecord({ id: 'ok2' })], feedback: [] })
    const w = new Worker({ store, queue, logger: quiet, fetchWaitMs: 20 })
    void w.start()
    await until(() => w.stats.groups === 3)
    expect(w.stats).toMatchObject({ refusedItems: 1, inserted: 5 })
    for (const id of ['ok1', 'n1', 'n2', 'ok2']) expect(await inner.getEvent('p1', id)).toBeDefined()
    expect(await inner.getEvent('p1', 'bad')).toBeUndefined()
    expect(await inner.feedbackForEvent('p1', 'n1')).toHaveLength(1)
    expect(queue.depth).toBe(0)
    await w.stop()
    await inner.close()
  })
})
