import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { dropSchemas, PG_TEST_URL, postgresReachable, uniqueSchema, withSchema } from '@inferlog/testkit'
import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { openStore } from '../store/open-store.js'
import type { Store } from '../store/store.js'
import { RowsTemplate, WriteTemplate } from './write-template.js'

const reachable = await postgresReachable()
const schemas: string[] = []
const dirs: string[] = []
afterAll(async () => {
  await dropSchemas(schemas)
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

const FIELDS = ['k', 'v', 'b'] as const
type Row = { k: string; v: number; b: Buffer }

async function withTable(store: Store, run: (store: Store) => Promise<void>): Promise<void> {
  await store.migrate()
  try {
    await store.derived.write([
      sql`CREATE TABLE rows_t (k TEXT PRIMARY KEY, v BIGINT NOT NULL, b BYTEA, tag TEXT)`.compile(store.derived.db),
    ])
    await run(store)
  } finally {
    await store.close()
  }
}

const upsertOf = (store: Store, maxRows?: number) =>
  new RowsTemplate(
    FIELDS,
    (rows) =>
      store.derived.db
        .insertInto('rows_t')
        .values(rows.map((r) => ({ ...r, tag: 'const' })))
        .onConflict((oc) => oc.column('k').doUpdateSet((eb) => ({ v: eb.ref('excluded.v'), b: eb.ref('excluded.b') }))),
    maxRows === undefined ? {} : { maxRows },
  )

async function readAll(store: Store): Promise<{ k: string; v: number; b: Buffer; tag: string }[]> {
  const rows = (await store.derived.db.selectFrom('rows_t').selectAll().orderBy('k').execute()) as Record<string, unknown>[]
  return rows.map((r) => ({ k: r.k as string, v: Number(r.v), b: Buffer.from(r.b as Uint8Array), tag: r.tag as string }))
}

const rowsOf = (n: number, v: (i: number) => number): Row[] =>
  Array.from({ length: n }, (_, i) => ({ k: `k${String(i).padStart(5, '0')}`, v: v(i), b: Buffer.from([i % 256, 7]) }))

function describeTemplates(kind: string, open: () => Store) {
  describe(`RowsTemplate on ${kind}`, () => {
    it('writes any number of rows in full statements, then powers of two, and upserts from excluded', async () => {
      await withTable(open(), async (store) => {
        const t = upsertOf(store, 16)
        expect(t.bind([])).toEqual([])
        // 16 + 8 + 4 + 2 + 1 rows.
        const first = rowsOf(31, (i) => i)
        const writes = t.bind(first)
        expect(writes.map((w) => w.parameters.length / 4)).toEqual([16, 8, 4, 2, 1])
        await store.derived.write(writes)
        expect(await readAll(store)).toEqual(first.map((r) => ({ ...r, tag: 'const' })))
        // 37 rows over the first 31 and 6 more: the 31 updated, not duplicated.
        const second = rowsOf(37, (i) => 1000 + i)
        const w2 = t.bind(second)
        expect(w2.map((w) => w.parameters.length / 4)).toEqual([16, 16, 4, 1])
        await store.derived.write(w2)
        expect(await readAll(store)).toEqual(second.map((r) => ({ ...r, tag: 'const' })))
        // Only a few SQL texts however many sizes were asked for.
        const texts = new Set<string>()
        for (let n = 1; n <= 64; n++) for (const w of t.bind(rowsOf(n, (i) => i))) texts.add(w.sql)
        expect(texts.size).toBe(5)
      })
    })

    it('keeps a statement under the parameter limit for wide rows', async () => {
      await withTable(open(), async (store) => {
        const wide = Array.from({ length: 300 }, (_, i) => `c${i}`)
        const cols = wide.map((c) => `${c} BIGINT`).join(', ')
        await store.derived.write([sql.raw(`CREATE TABLE wide_t (${cols})`).compile(store.derived.db)])
        const t = new RowsTemplate(wide, (rows) => store.derived.db.insertInto('wide_t').values(rows))
        const rows = Array.from({ length: 250 }, (_, r) => Object.fromEntries(wide.map((c, i) => [c, r * 1000 + i])))
        const writes = t.bind(rows)
        // 300 parameters per row: 30 000 / 300 = 100, so statements of 64 rows at most.
        expect(Math.max(...writes.map((w) => w.parameters.length))).toBe(64 * 300)
        expect(writes.reduce((n, w) => n + w.parameters.length, 0)).toBe(250 * 300)
        await store.derived.write(writes)
        const got = (await store.derived.db.selectFrom('wide_t').select(['c0', 'c299']).orderBy('c0').execute()) as Record<
          string,
          unknown
        >[]
        expect(got.map((r) => [Number(r.c0), Number(r.c299)])).toEqual(rows.map((r) => [r.c0, r.c299]))
      })
    })

    it('binds one row with WriteTemplate, keeping the compiled constants', async () => {
      await withTable(open(), async (store) => {
        const t = new WriteTemplate(FIELDS, (v) => store.derived.db.insertInto('rows_t').values({ ...v, tag: 'one' }))
        await store.derived.write([t.bind({ k: 'a', v: 1, b: Buffer.from([1]) }), t.bind({ k: 'b', v: 2, b: Buffer.from([2]) })])
        expect(await readAll(store)).toEqual([
          { k: 'a', v: 1, b: Buffer.from([1]), tag: 'one' },
          { k: 'b', v: 2, b: Buffer.from([2]), tag: 'one' },
        ])
      })
    })
  })
}

describeTemplates('sqlite', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-template-'))
  dirs.push(dir)
  return openStore(`sqlite:${path.join(dir, 'db.sqlite')}`)
})

describe.skipIf(!reachable)('postgres', () => {
  describeTemplates('postgres', () => {
    const schema = uniqueSchema()
    schemas.push(schema)
    return openStore(withSchema(PG_TEST_URL, schema))
  })
})
