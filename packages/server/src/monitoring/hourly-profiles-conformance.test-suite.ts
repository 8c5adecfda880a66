/**
 * Hourly profiles end to end on one store: declared monitored fields, the `profiles` feed
 * consumer (exactly once, also with two runners racing), profile-mode drift answered from the
 * hour and day rows, the window rule, and the fall-back to a scan when they cannot answer.
 */
import { categoricalColumn, computeDrift, kllRankError, numericalColumn } from '@inferlog/analysis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defaultConsumers } from '../feed/default-consumers.js'
import { FeedRunner } from '../feed/feed-runner.js'
import { callApp } from '../http/app-harness.test-suite.js'
import { createApp, type InferlogApp } from '../http/create-app.js'
import { silentLogger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import { blobBytes } from './profile-rows.js'
import { decodeProfile } from '@inferlog/analysis'

const H = 3_600_000
const D = 24 * H
const T0 = Math.floor(Date.now() / D) * D - 10 * D

/** Events every 90 s from `startMs` for `hours`, inputs shifted by `shift`. */
function events(prefix: string, startMs: number, hours: number, shift: number, seed: number) {
  let r = seed
  const rand = () => (r = (r * 48271) % 2147483647) / 2147483647
  const n = (hours * H) / 90_000
  return Array.from({ length: n }, (_, i) => {
    const gauss = Math.sqrt(-2 * Math.log(rand() || 1e-9)) * Math.cos(2 * Math.PI * rand())
    return {
      id: `${prefix}${i}`,
      ts: new Date(startMs + i * 90_000).toISOString(),
      model: { name: 'm', version: i % 3 ? '1' : '2' },
      input: {
        age: Math.round((40 + shift + 10 * gauss) * 10) / 10,
        income: Math.exp(10 + shift / 10 + gauss),
        country: ['fr', 'de', 'es', shift > 0 ? 'it' : 'fr'][i % 4],
        ...(i % 10 === 0 ? {} : { tier: i % 7 ? 'gold' : 'free' }),
      },
      output: { score: rand() },
    }
  })
}

type Ev = ReturnType<typeof events>[number]

export function describeHourlyProfilesConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`hourly profiles from the commit feed: ${name}`, () => {
    let store: Store
    let core: InferlogApp
    beforeEach(async () => {
      store = await makeStore()
      await store.migrate()
      core = createApp({ store, logger: silentLogger() })
    })
    afterEach(async () => {
      await core.close()
      await store.close()
    })
    const fields = ['input.age', 'input.income', 'input.country', 'input.tier']
    const configure = (f: string[] = fields) => callApp(core, 'PUT', '/v1/models/m', { monitored_fields: f })
    const post = async (list: Ev[]) => {
      for (let i = 0; i < list.length; i += 500)
        expect((await callApp(core, 'POST', '/v1/events', list.slice(i, i + 500))).status).toBe(200)
    }
    const catchUp = () => new FeedRunner(store, defaultConsumers(store, ['profiles']), { maxBatches: 3 }).catchUp()
    const iso = (ms: number) => new Date(ms).toISOString()
    const exactStat = (ref: Ev[], cur: Ev[], field: string, method: string) => {
      const col = (list: Ev[]) => {
        const key = field.slice('input.'.length) as keyof Ev['input']
        const v = list.map((e) => e.input[key])
        return typeof v.find((x) => x !== undefined) === 'number' ? numericalColumn(v as number[]) : categoricalColumn(v as string[])
      }
      const r = computeDrift({ fields: [field], methods: { [field]: method } }, new Map([[field, col(ref)]]), new Map([[field, col(cur)]]))
      return (r.fields[0] as { statistic: number }).statistic
    }

    it('keeps hour and day rows exactly once (two runners racing) and answers profile-mode drift from them', async () => {
      expect((await configure()).status).toBe(200)
      const ref = events('r', T0, 48, 0, 7)
      const cur = events('c', T0 + 2 * D, 30, 6, 11)
      await post([...ref, ...cur])
      // Two runners race over the same batches; a third (a restarted process) finds nothing left.
      await Promise.all([catchUp(), catchUp()])
      await catchUp()
      const rows = (await store.derived.db.selectFrom('profile_rows').select(['grain', 'field', 'n', 'profile']).execute()) as {
        grain: string
        field: string
        n: number | string
        profile: unknown
      }[]
      for (const f of fields) {
        for (const g of ['h', 'd']) {
          const mine = rows.filter((r) => r.field === f && r.grain === g)
          expect(
            mine.reduce((s, r) => s + Number(r.n), 0),
            `${f} ${g}`,
          ).toBe(ref.length + cur.length)
        }
      }
      // Versions are separate rows: 48 + 30 hours × 2 versions.
      expect(rows.filter((r) => r.grain === 'h' && r.field === 'input.age').length).toBe(2 * 78)
      const tier = rows.filter((r) => r.field === 'input.tier').map((r) => decodeProfile(blobBytes(r.profile)))
      expect(tier.filter((_, i) => rows.filter((r) => r.field === 'input.tier')[i]!.grain === 'h').reduce((s, p) => s + p.missing, 0)).toBe(
        [...ref, ...cur].filter((e) => e.input.tier === undefined).length,
      )

      const reference = { model: 'm', from: iso(T0), to: iso(T0 + 2 * D) }
      const current = { model: 'm', from: iso(T0 + 2 * D), to: iso(T0 + 2 * D + 30 * H) }
      for (const [field, method, tolerance] of [
        ['input.age', 'psi', 0.01],
        ['input.age', 'jensenshannon', 0.01],
        ['input.income', 'ks', 2 * kllRankError(400)],
        ['input.income', 'wasserstein', 0.01],
        ['input.country', 'chisquare', 1e-9],
        ['input.tier', 'jensenshannon', 1e-9],
      ] as const) {
        const r = await callApp(core, 'POST', '/v1/drift', {
          mode: 'profile',
          reference,
          current,
          fields: [field],
          methods: { [field]: method },
        })
        expect(r.status, r.text).toBe(200)
        expect(r.json.windows).toMatchObject({
          reference: { source: 'hourly', covered: { from: iso(T0), to: iso(T0 + 2 * D) } },
          current: { source: 'hourly' },
        })
        expect(r.json).toMatchObject({ reference_rows: ref.length, current_rows: cur.length })
        expect(r.json.profiles.position).toBe(r.json.profiles.head)
        const exact = exactStat(ref, cur, field, method)
        expect(
          Math.abs(r.json.fields[0].statistic - exact),
          `${field} ${method}: ${r.json.fields[0].statistic} vs ${exact}`,
        ).toBeLessThanOrEqual(tolerance)
      }
      // Default methods and the verdicts agree with exact mode on this data.
      const all = await callApp(core, 'POST', '/v1/drift', { mode: 'profile', reference, current, fields })
      const exact = await callApp(core, 'POST', '/v1/drift', { reference, current, fields })
      expect(all.json.fields.map((f: { method: string; drift: boolean }) => [f.method, f.drift])).toEqual(
        exact.json.fields.map((f: { method: string; drift: boolean }) => [f.method, f.drift]),
      )
      // A version filter reads that version's rows only.
      const v2 = await callApp(core, 'POST', '/v1/drift', {
        mode: 'profile',
        reference: { ...reference, version: '2' },
        current: { ...current, version: ['2'] },
        fields: ['input.age'],
      })
      expect(v2.json.reference_rows).toBe(ref.filter((e) => e.model.version === '2').length)
    })

    it('rounds window edges to the nearest hour, and scans what hourly profiles cannot answer', async () => {
      await configure(['input.age'])
      const list = events('e', T0, 6, 0, 5)
      await post(list)
      await catchUp()
      const ask = (reference: object, current: object, f = ['input.age']) =>
        callApp(core, 'POST', '/v1/drift', { mode: 'profile', reference, current, fields: f })
      // 00:20 rounds down to 00:00, 02:30 up to 03:00; 04:10–04:20 is within an hour: the hour 04:00.
      const r = await ask(
        { model: 'm', from: iso(T0 + 20 * 60_000), to: iso(T0 + 2.5 * H) },
        { model: 'm', from: iso(T0 + 4 * H + 10 * 60_000), to: iso(T0 + 4 * H + 20 * 60_000) },
      )
      expect(r.json.windows.reference.covered).toEqual({ from: iso(T0), to: iso(T0 + 3 * H) })
      expect(r.json.windows.current.covered).toEqual({ from: iso(T0 + 4 * H), to: iso(T0 + 5 * H) })
      expect(r.json.reference_rows).toBe(120)
      expect(r.json.current_rows).toBe(40)
      // Open ends: everything before / after.
      const open = await ask({ model: 'm', to: iso(T0 + 3 * H) }, { model: 'm', from: iso(T0 + 3 * H) })
      expect(open.json.windows.reference.covered).toEqual({ from: null, to: iso(T0 + 3 * H) })
      expect(open.json.reference_rows + open.json.current_rows).toBe(list.length)
      // Filters the profiles do not keep, unmonitored fields, no model: a scan, and the reply says why.
      for (const [reference, f, why] of [
        [{ model: 'm', arm: 'A' }, ['input.age'], /arm/],
        [{ model: 'm' }, ['input.country'], /not monitored/],
        [{ from: iso(T0) }, ['input.age'], /no model/],
      ] as const) {
        const s = await ask(reference, { model: 'm' }, [...f])
        expect(s.status, s.text).toBe(200)
        expect(s.json.windows.reference).toMatchObject({ source: 'scan', reason: expect.stringMatching(why) })
        expect(s.json.windows.current.source).toBe(f[0] === 'input.age' ? 'hourly' : 'scan')
      }
    })

    it('answers exact mode from the stored columns as a scan does, with the tail the consumer has not reached', async () => {
      const f4 = [...fields, 'input.mixed']
      await configure(f4)
      const withMixed = (list: Ev[]) => list.map((e, i) => ({ ...e, input: { ...e.input, mixed: i % 50 === 0 ? 'x' : i } }))
      const ref = withMixed(events('r', T0, 30, 0, 7))
      await post(ref)
      // Many small steps inside one hour: its chunks are compacted.
      const cur = withMixed(events('c', T0 + 30 * H, 6, 4, 9))
      // Two events a request, two hours: 20 steps per hour of each version.
      for (let i = 0; i < 40; i++) expect((await callApp(core, 'POST', '/v1/events', cur.slice(i * 2, i * 2 + 2))).status).toBe(200)
      await new FeedRunner(store, defaultConsumers(store, ['profiles']), { maxBatches: 1 }).catchUp()
      const chunks = (await store.derived.db
        .selectFrom('value_chunks')
        .select(['hour_ms', 'version'])
        .where('field', '=', '#ts')
        .execute()) as { hour_ms: number | string; version: string }[]
      const perHour = new Map<string, number>()
      for (const c of chunks) perHour.set(`${c.hour_ms}/${c.version}`, (perHour.get(`${c.hour_ms}/${c.version}`) ?? 0) + 1)
      expect(Math.max(...perHour.values())).toBeLessThanOrEqual(16)
      expect(perHour.get(`${T0 + 30 * H}/1`)).toBeLessThan(14) // 20 steps, compacted at the 17th
      // The rest of the current window is committed but not consumed: read from the log.
      await post(cur.slice(80))
      const reference = { model: 'm', from: iso(T0 + 20 * 60_000), to: iso(T0 + 20 * H + 10 * 60_000) }
      const current = { model: 'm', from: iso(T0 + 30 * H) }
      const ask = (r: object, c: object, f = fields) => callApp(core, 'POST', '/v1/drift', { reference: r, current: c, fields: f })
      const fast = await ask(reference, current)
      const scan = await ask({ ...reference, status: 'ok' }, { ...current, status: 'ok' })
      expect(fast.status, fast.text).toBe(200)
      expect(fast.json.windows.reference).toEqual({ source: 'columns', tail: 0 })
      expect(fast.json.windows.current.source).toBe('columns')
      expect(fast.json.windows.current.tail).toBe(cur.length - 80)
      expect(scan.json.windows.reference).toMatchObject({ source: 'scan', reason: expect.stringMatching(/status/) })
      expect(fast.json.reference_rows).toBe(scan.json.reference_rows)
      expect(fast.json.current_rows).toBe(cur.length)
      fast.json.fields.forEach((x: Record<string, number>, i: number) => {
        const y = scan.json.fields[i]
        expect(x.method).toBe(y.method)
        expect(x.n_reference).toBe(y.n_reference)
        expect(x.statistic).toBeCloseTo(y.statistic, 10)
        if (y.p_value !== undefined) expect(x.p_value).toBeCloseTo(y.p_value, 10)
      })
      // Numbers beside strings in one field: the stored columns cannot say which row; scanned.
      const mixed = await ask(reference, current, ['input.mixed'])
      expect(mixed.json.windows.reference).toMatchObject({ source: 'scan' })
      expect(mixed.json.fields[0]).toMatchObject({ error: { code: 'mixed_types' } })
    })

    it('marks fields declared after traffic began as complete from the next hour only', async () => {
      await post(events('a', T0, 2, 0, 3))
      await catchUp()
      await configure(['input.age'])
      await post(events('b', T0 + 2 * H, 2, 0, 4))
      await catchUp()
      const r = await callApp(core, 'POST', '/v1/drift', {
        mode: 'profile',
        reference: { model: 'm', from: iso(T0), to: iso(T0 + 2 * H) },
        current: { model: 'm', from: iso(T0 + 2 * H) },
        fields: ['input.age'],
      })
      expect(r.status, r.text).toBe(200)
      expect(r.json.windows.reference).toMatchObject({ source: 'scan', reason: expect.stringMatching(/complete hourly profiles from/) })
      // The events were committed now, not at their timestamps: the current window is also before
      // the declaration's next hour, so it is scanned too.
      expect(r.json.windows.current.source).toBe('scan')
      // Undeclaring forgets the coverage.
      await configure([])
      await post(events('c', T0 + 4 * H, 1, 0, 5))
      await catchUp()
      expect(await store.derived.db.selectFrom('profile_fields').selectAll().execute()).toEqual([])
    })
  })
}
