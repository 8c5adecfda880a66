import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { batchLeaves } from '../../audit/audit-chain-consumer.js'
import { LeafHasher } from '../../audit/leaf-hash.js'
import { merkleRoot } from '../../audit/merkle.js'
import { eventRecord, feedbackRecord } from '../store-conformance.test-suite.js'
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

const modes: [string, Partial<SqliteStoreOptions>][] = [
  ['inline writer', {}],
  ['writer thread', { writer: 'thread', writerScript }],
]

describe.each(modes)('SqliteStore.tapCommits (%s)', (_mode, options) => {
  it('hands over each committed batch exactly as readBatches reads it back, with the audit leaves', async () => {
    const store = new SqliteStore({ filename: path.join(dir, 't.db'), ...options })
    await store.migrate()
    const handed: { b: CommittedBatch; after: number }[] = []
    const untap = store.tapCommits((b, after) => handed.push({ b, after }), { merkle: true })
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
      const hasher = new LeafHasher()
      for (const [i, h] of handed.entries()) {
        const { merkle, ...rows } = h.b
        expect(rows).toStrictEqual(read[i])
        const leaves = batchLeaves(read[i]!, [], hasher)
        expect(Buffer.from(merkle!.root).equals(merkleRoot(leaves))).toBe(true)
        expect(Buffer.from(merkle!.leaves).equals(Buffer.concat(leaves))).toBe(true)
      }
      expect(read[1]!.events.map((e) => e.id)).toEqual(['c'])
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
