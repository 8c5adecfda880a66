import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { eventRecord, feedbackRecord } from '../store-conformance.test-suite.js'
import { SqliteStore } from './sqlite-store.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-packed-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const sep = '\u001f'

/** Rows every value of which the packed form must carry exactly, or hand back to the plain read. */
function awkwardEvents() {
  const odd = [
    { id: `a${sep}b` }, // the separator in an id
    { id: 'nul\u0000x', sessionId: 'se\u0000s' }, // NUL in the middle (format('%s') would cut it)
    { id: 'empty', sessionId: '', userId: '', arm: '', shadowOf: '' }, // empty strings, not NULLs
    { id: 'nulls' },
    { id: 'astral\u{1F600}', model: 'm\u00e9', version: 'v\u{1F680}' },
    { id: 'neg', tsMs: -5, receivedMs: 0 },
    { id: 'big', tsMs: 2 ** 52 + 1 },
    {
      id: 'sep-everywhere',
      model: sep,
      version: `${sep}${sep}`,
      stage: `s${sep}`,
      status: sep,
      sessionId: sep,
      userId: sep,
      arm: sep,
      shadowOf: sep,
    },
    { id: 'only-user', userId: 'u' },
    { id: 'only-arm', arm: 'a' },
    { id: 'only-shadow', shadowOf: 'nulls' },
  ]
  const events = odd.map((o) => eventRecord(o))
  // A body that is not JSON and holds the separator (the store keeps whatever text it was given).
  events.push({ ...eventRecord({ id: 'sep-body' }), body: `{"x":"${sep}"}${sep}` })
  events.push({ ...eventRecord({ id: 'fractional' }), tsMs: 1.5 })
  return events
}

/** Every event and feedback row as plain columns, by seq. */
function plainRows(file: string) {
  const db = new Database(file, { readonly: true })
  try {
    const events = db
      .prepare(
        `SELECT project, id, seq, batch, ts_ms AS tsMs, received_ms AS receivedMs, model, version, stage, status,
                session_id AS sessionId, user_id AS userId, arm, shadow_of AS shadowOf, body FROM events ORDER BY seq`,
      )
      .all()
    const feedback = db
      .prepare(
        'SELECT project, id, seq, batch, event_id AS eventId, name, ts_ms AS tsMs, received_ms AS receivedMs, body FROM feedback ORDER BY seq',
      )
      .all()
    return { events, feedback }
  } finally {
    db.close()
  }
}

describe('packed rows (SQLite scans read one string per row)', () => {
  it('read every value exactly: separators, NULs, empty strings, NULLs, astral characters, odd numbers', async () => {
    const file = path.join(dir, 'awkward.db')
    const store = new SqliteStore({ filename: file })
    await store.migrate()
    const events = awkwardEvents()
    const feedback = [
      feedbackRecord({ id: `f${sep}1`, eventId: `a${sep}b`, name: `n${sep}` }),
      feedbackRecord({ id: 'f2', eventId: 'nul\u0000x', name: 'n\u0000' }),
      feedbackRecord({ id: 'f3', eventId: 'empty', body: `not json ${sep}` }),
      feedbackRecord({ id: 'f4', eventId: 'astral\u{1F600}', name: '\u{1F600}' }),
      feedbackRecord({ id: 'f5', eventId: 'nulls' }),
    ]
    await store.writeBatch({ events, feedback: [] })
    await store.writeBatch({ events: [], feedback })
    const plain = plainRows(file)
    expect(plain.events).toHaveLength(events.length)

    const head = await store.commitHead()
    const scanned = []
    for await (const chunk of store.scanEvents('p1', {}, { upTo: head }, 4)) scanned.push(...chunk)
    expect(scanned).toEqual(plain.events)

    const batches = await store.readBatches(0)
    expect(batches.flatMap((b) => b.events)).toEqual(plain.events)
    expect(batches.flatMap((b) => b.feedback)).toEqual(plain.feedback)

    const ids = events.map((e) => e.id)
    const bySeq = (a: { seq: number }, b: { seq: number }) => a.seq - b.seq
    expect((await store.eventsByIds('p1', ids)).sort(bySeq)).toEqual(plain.events)
    expect((await store.feedbackForEvents('p1', ids, head)).sort(bySeq)).toEqual(plain.feedback)
    // Enough ids for the id-range walk (id-span.ts) as well as the per-id look-up above.
    const many = [...ids, ...Array.from({ length: 20 }, (_, i) => `zz${i}`)]
    expect((await store.feedbackForEvents('p1', many, head)).sort(bySeq)).toEqual(plain.feedback)
    expect((await store.shadowsFor('p1', ['nulls', sep], head)).sort(bySeq)).toEqual(
      plain.events.filter(
        (e) => (e as { shadowOf: string | null }).shadowOf !== null && ['nulls', sep].includes((e as { shadowOf: string }).shadowOf),
      ),
    )

    const bodies = []
    // A body cut from its packed row comes with it (`host`), which ends with the body (rows read
    // the fallback way have none).
    const unhosted = <T extends { body: string; host?: string }>({ host, ...rest }: T): Omit<T, 'host'> => {
      if (host !== undefined) expect(host.endsWith(rest.body)).toBe(true)
      return rest
    }
    for await (const chunk of store.scanEventBodies('p1', {}, { upTo: head }, 5)) bodies.push(...chunk.map(unhosted))
    expect(bodies).toEqual(
      plain.events.map((e) => {
        const x = e as { id: string; batch: number; seq: number; tsMs: number; body: string }
        return { id: x.id, batch: x.batch, seq: x.seq, tsMs: x.tsMs, body: x.body }
      }),
    )
    const fbBodies = (await store.feedbackBodies('p1', many, head)).sort(bySeq).map(unhosted)
    expect(fbBodies).toEqual(
      plain.feedback.map((f) => {
        const x = f as { id: string; eventId: string; name: string; tsMs: number; batch: number; seq: number; body: string }
        return { id: x.id, eventId: x.eventId, name: x.name, tsMs: x.tsMs, batch: x.batch, seq: x.seq, body: x.body }
      }),
    )
    expect((await store.feedbackBodies('p1', ids, head, ['n\u0000'])).map((f) => f.id)).toEqual(['f2'])
    await store.close()
  })
})
