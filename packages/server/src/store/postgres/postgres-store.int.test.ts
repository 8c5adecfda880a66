import { afterAll, describe, expect, it } from 'vitest'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describeDatasetsConformance } from '../../datasets/datasets-conformance.test-suite.js'
import { describeTriggerConformance } from '../../datasets/dataset-triggers.test-suite.js'
import { describeReadAheadConformance } from '../../datasets/read-ahead-conformance.test-suite.js'
import { describeParallelBuildConformance } from '../../datasets/parallel-build-conformance.test-suite.js'
import { describeDriftConformance } from '../../monitoring/drift-conformance.test-suite.js'
import { describeLineageConformance } from '../../lineage/lineage-conformance.test-suite.js'
import { describeErasureConformance } from '../../privacy/erasure-conformance.test-suite.js'
import { describeRedactionConformance } from '../../privacy/redaction-conformance.test-suite.js'
import { describeRetentionConformance } from '../../privacy/retention-conformance.test-suite.js'
import { describeMetricsConformance } from '../../monitoring/metrics-conformance.test-suite.js'
import { openStore } from '../open-store.js'
import { describeStoreConformance, eventRecord, feedbackRecord } from '../store-conformance.test-suite.js'
import { PostgresStore } from './postgres-store.js'
import { dropSchemas, PG_TEST_URL, postgresReachable, uniqueSchema, withSchema } from '@inferlog/testkit'

const reachable = await postgresReachable()
const schemas: string[] = []
afterAll(() => dropSchemas(schemas))

function freshStore(): PostgresStore {
  const schema = uniqueSchema()
  schemas.push(schema)
  return openStore(withSchema(PG_TEST_URL, schema)) as PostgresStore
}

describe.skipIf(!reachable)('postgres', () => {
  describeStoreConformance('postgres', async () => freshStore())
  describeMetricsConformance('postgres', async () => freshStore())
  describeDriftConformance('postgres', async () => freshStore())
  describeErasureConformance('postgres', async () => freshStore())
  describeLineageConformance('postgres', async () => freshStore())
  describeRetentionConformance('postgres', async () => freshStore())
  describeRedactionConformance('postgres', async () => freshStore())
  describeDatasetsConformance('postgres', async () => ({
    store: freshStore(),
    dir: fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-pgds-')),
  }))
  describeTriggerConformance('postgres', async () => freshStore())
  describeReadAheadConformance('postgres', async () => {
    const schema = uniqueSchema()
    schemas.push(schema)
    const url = withSchema(PG_TEST_URL, schema)
    return { store: openStore(url), url }
  })
  describeParallelBuildConformance('postgres', async () => {
    const schema = uniqueSchema()
    schemas.push(schema)
    const url = withSchema(PG_TEST_URL, schema)
    return { store: openStore(url), url }
  })

  describe('PostgresStore specifics', () => {
    it('partitions events and feedback by month, creating partitions on demand', async () => {
      const s = freshStore()
      try {
        await s.migrate()
        const jan = Date.UTC(2026, 0, 15)
        const old = Date.UTC(1990, 5, 1) // outside the window: default partition
        await s.writeBatch({
          events: [eventRecord({ id: 'a', tsMs: jan }), eventRecord({ id: 'b', tsMs: old })],
          feedback: [feedbackRecord({ id: 'f', eventId: 'a', tsMs: jan })],
        })
        const where = async (table: string, id: string) =>
          (await s.queryable.query<{ t: string }>(`SELECT tableoid::regclass::text AS t FROM ${table} WHERE id = $1`, [id])).rows[0]?.t
        expect(await where('events', 'a')).toMatch(/events_202601$/)
        expect(await where('feedback', 'f')).toMatch(/feedback_202601$/)
        expect(await where('events', 'b')).toMatch(/events_default$/)
        expect((await s.getEvent('p1', 'b'))?.tsMs).toBe(old)
        // A time-range read touches only the partitions of its months.
        const plan = (
          await s.queryable.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN SELECT seq FROM events e WHERE e.project = 'p1' AND e.ts_ms >= ${jan} AND e.ts_ms < ${jan + 86_400_000} ORDER BY ts_ms DESC, seq DESC LIMIT 5`,
          )
        ).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n')
        expect(plan).toMatch(/events_202601/)
        expect(plan).not.toMatch(/events_default/)
      } finally {
        await s.close()
      }
    })

    it('records each conflict once, also when the same batch is written again', async () => {
      const s = freshStore()
      try {
        await s.migrate()
        const a = eventRecord({ id: 'c1' })
        await s.writeBatch({ events: [a], feedback: [] })
        const changed = { ...a, body: a.body.replace('"output":1', '"output":3') }
        const batch = { events: [changed], feedback: [] }
        expect((await s.writeBatch(batch)).events).toEqual(['conflict'])
        expect((await s.writeBatch(batch)).events).toEqual(['conflict'])
        const conflicts = await s.listConflicts()
        expect(conflicts).toHaveLength(1)
        expect(conflicts[0]).toMatchObject({ kind: 'event', project: 'p1', id: 'c1', body: changed.body })
        // A re-send with other key order and spacing is the same content: a duplicate, not a conflict.
        const reordered = { ...a, body: JSON.stringify(JSON.parse(a.body), null, 1) }
        expect((await s.writeBatch({ events: [reordered], feedback: [] })).events).toEqual(['duplicate'])
      } finally {
        await s.close()
      }
    })

    it('stores awkward text exactly: empty strings, separators, NUL, null columns, values longer than an index row', async () => {
      // Random text does not compress, so PostgreSQL's index row limit really applies.
      const long = (tag: string) => tag + Array.from({ length: 500 }, () => Math.random().toString(36).slice(2, 10)).join('')
      const s = freshStore()
      try {
        await s.migrate()
        const odd = [
          eventRecord({ id: '' }),
          eventRecord({ id: 'a\u001eb', sessionId: '' }),
          eventRecord({ id: '\u001f', userId: '\u001f' }),
          eventRecord({ id: 'nul\u0000id', arm: 'x\u0000' }),
          // Longer than a B-tree index row allows, in every indexed column.
          eventRecord({
            id: long('i'),
            model: long('m'),
            version: long('v'),
            sessionId: long('s'),
            userId: long('u'),
            arm: long('a'),
            shadowOf: long('p'),
          }),
        ]
        // Packed path for the first, escaped-array path for the rest (they hold the separators).
        expect((await s.writeBatch({ events: odd.slice(0, 1), feedback: [] })).events).toEqual(['inserted'])
        expect((await s.writeBatch({ events: odd.slice(1), feedback: [] })).events).toEqual([
          'inserted',
          'inserted',
          'inserted',
          'inserted',
        ])
        expect((await s.writeBatch({ events: odd, feedback: [] })).events).toEqual([
          'duplicate',
          'duplicate',
          'duplicate',
          'duplicate',
          'duplicate',
        ])
        const big = odd[4]!
        expect(
          (
            await s.listEvents(
              'p1',
              { model: big.model, version: big.version, sessionId: big.sessionId!, userId: big.userId!, arm: big.arm! },
              10,
            )
          ).rows,
        ).toHaveLength(1)
        expect(await s.shadowsOf('p1', big.shadowOf!)).toHaveLength(1)
        // A different long id sharing the first 192 characters is another event.
        const sibling = eventRecord({ id: big.id.slice(0, 300) + 'x' })
        expect((await s.writeBatch({ events: [sibling], feedback: [] })).events).toEqual(['inserted'])
        expect((await s.writeBatch({ events: [], feedback: [feedbackRecord({ id: long('f'), eventId: big.id })] })).feedback).toEqual([
          'inserted',
        ])
        expect(await s.feedbackForEvent('p1', big.id)).toHaveLength(1)
        for (const e of odd) expect((await s.getEvent('p1', e.id))?.body).toBe(e.body)
        expect((await s.listEvents('p1', { sessionId: '' }, 10)).rows).toHaveLength(1)
        expect((await s.listEvents('p1', { userId: '\u001f' }, 10)).rows).toHaveLength(1)
        const fb = feedbackRecord({ id: 'f\u001e', eventId: '' })
        expect((await s.writeBatch({ events: [], feedback: [fb, feedbackRecord({ id: 'g', eventId: '' })] })).feedback).toEqual([
          'inserted',
          'inserted',
        ])
        expect(await s.feedbackForEvent('p1', '')).toHaveLength(2)
      } finally {
        await s.close()
      }
    })

    it('keeps exactly one copy when writers race on the same ids', async () => {
      const url = withSchema(PG_TEST_URL, uniqueSchema())
      schemas.push(new URL(url).searchParams.get('schema')!)
      const writers = [openStore(url), openStore(url), openStore(url)] as PostgresStore[]
      try {
        await Promise.all(writers.map((w) => w.migrate()))
        const items = Array.from({ length: 500 }, (_, i) => eventRecord({ id: `r${i}` }))
        const results = await Promise.all(
          writers.map((w, n) => w.writeBatch({ events: n % 2 ? [...items].reverse() : items, feedback: [] })),
        )
        const inserted = results.flatMap((r) => r.events).filter((o) => o === 'inserted').length
        expect(inserted).toBe(500)
        expect(results.flatMap((r) => r.events).filter((o) => o === 'conflict')).toEqual([])
        const n = await writers[0]!.queryable.query<{ n: number }>('SELECT count(*)::int AS n FROM events')
        expect(n.rows[0]!.n).toBe(500)
      } finally {
        await Promise.all(writers.map((w) => w.close()))
      }
    })

    it('scans in commit order where writers committed out of sequence order', async () => {
      const s = freshStore()
      try {
        await s.migrate()
        for (let b = 0; b < 4; b++)
          await s.writeBatch({ events: Array.from({ length: 3 }, (_, i) => eventRecord({ id: `o${b}-${i}` })), feedback: [] })
        // As if the writer of the first two batches committed last: positions 3, 4, 1, 2.
        await s.queryable.query('UPDATE batches SET commit_seq = -commit_seq')
        await s.queryable.query(
          'UPDATE batches b SET commit_seq = o.n FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS r FROM batches) r, (VALUES (1, 3), (2, 4), (3, 1), (4, 2)) o(r, n) WHERE b.seq = r.seq AND r.r = o.r',
        )
        const head = await s.commitHead()
        expect(head).toBe(4)
        const want = ['o2-0', 'o2-1', 'o2-2', 'o3-0', 'o3-1', 'o3-2', 'o0-0', 'o0-1', 'o0-2', 'o1-0', 'o1-1', 'o1-2']
        for (const chunk of [1, 4, 1000]) {
          const ids: string[] = []
          const positions: number[] = []
          for await (const c of s.scanEvents('p1', {}, { upTo: head }, chunk)) {
            expect(c.length).toBeLessThanOrEqual(chunk)
            for (const e of c) {
              ids.push(e.id)
              positions.push(e.batch)
            }
          }
          expect(ids).toEqual(want)
          expect(positions).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4])
          const bodies: string[] = []
          for await (const c of s.scanEventBodies('p1', {}, { after: 1, upTo: 3 }, chunk))
            bodies.push(...c.map((e) => `${e.id}@${e.batch}`))
          expect(bodies).toEqual(['o3-0@2', 'o3-1@2', 'o3-2@2', 'o0-0@3', 'o0-1@3', 'o0-2@3'])
        }
      } finally {
        await s.close()
      }
    })

    it('reports an unreachable server as a rejection and checks URL parameters', async () => {
      const s = openStore('postgres://postgres@127.0.0.1:1/none') as PostgresStore
      await expect(s.ping()).rejects.toThrow()
      await s.close()
      expect(() => openStore('postgres://x/y?schema=Bad-Name')).toThrow(/schema/)
      expect(() => openStore('postgres://x/y?pool=0')).toThrow(/pool/)
    })
  })
})
