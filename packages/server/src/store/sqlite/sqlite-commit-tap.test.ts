import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventRecord, feedbackRecord } from '../store-conformance.test-suite.js'
import { PARSED_BODY } from '../ports/parsed-body.js'
import type { CommittedBatch } from '../store.js'
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js'

const writerScript = new URL('../../../dist/store/sqlite/sqlite-writer-thread.js', import.meta.url)

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-tap-'))
})
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

/**
 * The batch without the parsed forms its rows may carry, after checking that each one is exactly
 * what parsing the row's stored text gives.
 */
function withoutParsed(b: CommittedBatch): CommittedBatch {
  const strip = <R extends { body: string; [PARSED_BODY]?: unknown }>(r: R): R => {
    const { [PARSED_BODY]: parsed, ...rest } = r
    if (parsed !== undefined) expect(parsed).toStrictEqual(JSON.parse(r.body))
    return rest as R
  }
  return { ...b, events: b.events.map(strip), feedback: b.feedback.map(strip) }
}

const modes: [string, Partial<SqliteStoreOptions>][] = [
  ['inline writer', {}],
  ['writer thread', { writer: 'thread', writerScript }],
]

describe.each(modes)('SqliteStore.tapCommits (%s)', (_mode, options) => {
  it('hands over each committed batch exactly as readBatches reads it back', async () => {
    const store = new SqliteStore({ filename: path.join(dir, 't.db'), ...options })
    await store.migrate()
    const handed: { b: CommittedBatch; after: number }[] = []
    const untap = store.tapCommits((b, after) => handed.push({ b, after }))
    try {
      await store.writeBatch({
        events: [eventRecord({ id: 'a' }), eventRecord({ id: 'b', sessionId: 's1', userId: 'u1', arm: 'x' })],
        feedback: [feedbackRecord({ id: 'f1', eventId: 'a' })],
      })
      // A duplicate, a conflict, a new shadow and non-ASCII text; feedback only in the next one.
      const dup = eventRecord({ id: 'a' })
      await store.writeBatch({
        events: [
          { ...dup, tsMs: (await store.readBatches(0))[0]!.events[0]!.tsMs, body: (await store.readBatches(0))[0]!.events[0]!.body },
          { ...eventRecord({ id: 'b' }), body: '{"other":true}' },
          eventRecord({ id: 'c', shadowOf: 'a', model: 'modèle ✓' }, { note: 'ünïcødé 🚀' }),
        ],
        feedback: [],
      })
      await store.writeBatch({ events: [], feedback: [feedbackRecord({ id: 'f2', eventId: 'c', name: 'label' })] })
      // Nothing inserted at all: still a batch.
      await store.writeBatch({ events: [], feedback: [feedbackRecord({ id: 'f2', eventId: 'c', name: 'label' })] })

      const read = await store.readBatches(0)
      expect(read.map((b) => b.position)).toEqual([1, 2, 3, 4])
      expect(handed.map((h) => [h.after, h.b.position])).toEqual([
        [0, 1],
        [1, 2],
        [2, 3],
        [3, 4],
      ])
      for (const [i, h] of handed.entries()) expect(withoutParsed(h.b)).toStrictEqual(read[i])
      expect(read[1]!.events.map((e) => e.id)).toEqual(['c'])
    } finally {
      untap()
      await store.close()
    }
  })

  it('hands over the parsed item a record carries (the same object) and never sends it to the writer', async () => {
    const store = new SqliteStore({ filename: path.join(dir, 'p.db'), ...options })
    await store.migrate()
    const handed: CommittedBatch[] = []
    const untap = store.tapCommits((b) => handed.push(b))
    try {
      const e = eventRecord({ id: 'p1' }, { note: 'parsed' })
      const item = JSON.parse(e.body) as unknown
      const f = feedbackRecord({ id: 'pf', eventId: 'p1' })
      const fItem = JSON.parse(f.body) as unknown
      const dup = { ...eventRecord({ id: 'p1' }, { note: 'parsed' }), [PARSED_BODY]: { not: 'stored' } }
      await store.writeBatch({ events: [{ ...e, [PARSED_BODY]: item }, dup], feedback: [{ ...f, [PARSED_BODY]: fItem }] })
      expect(handed).toHaveLength(1)
      // The duplicate inserted nothing, so its parsed form is handed to no one.
      expect(handed[0]!.events.map((r) => r.id)).toEqual(['p1'])
      expect(handed[0]!.events[0]![PARSED_BODY]).toBe(item)
      expect(handed[0]!.feedback[0]![PARSED_BODY]).toBe(fItem)
      // What the store holds is the text, parsed by whoever reads it back.
      const [read] = await store.readBatches(0)
      expect(read!.events[0]![PARSED_BODY]).toBeUndefined()
      expect(JSON.parse(read!.events[0]!.body)).toStrictEqual(item)
    } finally {
      untap()
      await store.close()
    }
  })

  it('does not hand over a batch whose text SQLite stores differently, nor anything once untapped', async () => {
    const store = new SqliteStore({ filename: path.join(dir, 'u.db'), ...options })
    await store.migrate()
    const handed: number[] = []
    const untap = store.tapCommits((b) => handed.push(b.position))
    try {
      await store.writeBatch({ events: [{ ...eventRecord({ id: 'x' }), id: 'lone\ud800' }], feedback: [] })
      await store.writeBatch({ events: [eventRecord({ id: 'ok' })], feedback: [] })
      untap()
      await store.writeBatch({ events: [eventRecord({ id: 'later' })], feedback: [] })
      expect(handed).toEqual([2])
      // Without a listener the result carries nothing beyond the port's fields.
      const r = await store.writeBatch({ events: [eventRecord({ id: 'last' })], feedback: [] })
      expect(Object.keys(r).sort()).toEqual(['batchSeq', 'events', 'feedback'])
    } finally {
      await store.close()
    }
  })
})
