/** Drift, quality and profiles end to end on one store, checked against the statistics computed directly on the same values. */
import { categoricalColumn, computeDrift, numericalColumn } from '@inferlog/analysis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { callApp } from '../http/app-harness.test-suite.js'
import { createApp, type InferlogApp } from '../http/create-app.js'
import { silentLogger } from '../logging/logger.js'
import type { Store } from '../store/store.js'

const D = 86_400_000
const T0 = Math.floor(Date.now() / D) * D - 10 * D

function window(prefix: string, day: number, n: number, shift: number) {
  let r = 99 + day
  const rand = () => (r = (r * 48271) % 2147483647) / 2147483647
  return Array.from({ length: n }, (_, i) => {
    const gauss = Math.sqrt(-2 * Math.log(rand() || 1e-9)) * Math.cos(2 * Math.PI * rand())
    return {
      id: `${prefix}${i}`,
      ts: new Date(T0 + day * D + i * 1000).toISOString(),
      model: { name: 'm', version: '1' },
      input: {
        age: Math.round((40 + shift + 10 * gauss) * 10) / 10,
        country: ['fr', 'de', 'es', shift > 0 ? 'it' : 'fr'][i % 4],
        mixed: i % 2 ? 1 : 'x',
      },
      output: { score: rand() },
    }
  })
}

export function describeDriftConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`drift over the log: ${name}`, () => {
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
    const day = (n: number) => ({ model: 'm', from: new Date(T0 + n * D).toISOString(), to: new Date(T0 + (n + 1) * D).toISOString() })

    it('computes per-field drift on the exact windows, as the statistics do on the same values', async () => {
      const ref = window('r', 0, 600, 0)
      const cur = window('c', 1, 400, 8)
      await callApp(core, 'POST', '/v1/events', [...ref, ...cur])
      const r = await callApp(core, 'POST', '/v1/drift', {
        reference: day(0),
        current: day(1),
        fields: ['input.age', 'input.country', 'input.mixed', 'input.nope'],
      })
      expect(r.status, r.text).toBe(200)
      const want = computeDrift(
        { fields: ['input.age', 'input.country'] },
        new Map([
          ['input.age', numericalColumn(ref.map((e) => e.input.age))],
          ['input.country', categoricalColumn(ref.map((e) => e.input.country))],
        ]),
        new Map([
          ['input.age', numericalColumn(cur.map((e) => e.input.age))],
          ['input.country', categoricalColumn(cur.map((e) => e.input.country))],
        ]),
      )
      expect(r.json.fields.slice(0, 2)).toEqual(want.fields)
      expect(r.json.fields[0]).toMatchObject({
        field: 'input.age',
        kind: 'numerical',
        method: 'ks',
        drift: true,
        n_reference: 600,
        n_current: 400,
      })
      expect(r.json.fields[2]).toMatchObject({ field: 'input.mixed', error: { code: 'mixed_types' } })
      expect(r.json.fields[3]).toMatchObject({ field: 'input.nope', error: { code: 'no_values' } })
      expect(r.json).toMatchObject({ mode: 'exact', reference_rows: 600, current_rows: 400 })
      expect(typeof r.json.drift_share).toBe('number')
      // Methods and thresholds per field; a method that does not fit is a per-field error.
      const m = await callApp(core, 'POST', '/v1/drift', {
        reference: day(0),
        current: day(1),
        fields: ['input.age', 'input.country'],
        methods: { 'input.age': 'psi', 'input.country': 'mmd' },
        thresholds: { 'input.age': 0.5 },
      })
      expect(m.json.fields[0]).toMatchObject({ method: 'psi', threshold: 0.5 })
      expect(m.json.fields[1]).toMatchObject({ error: { code: 'method_not_applicable' } })
      // A seeded sample: the same answer twice.
      const s1 = await callApp(core, 'POST', '/v1/drift', { reference: day(0), current: day(1), fields: ['input.age'], sample: 100 })
      const s2 = await callApp(core, 'POST', '/v1/drift', { reference: day(0), current: day(1), fields: ['input.age'], sample: 100 })
      expect(s1.json.fields[0].n_reference).toBe(100)
      expect(s1.json).toEqual(s2.json)
    })

    it('saves a profile of a window and compares against it; reports data quality with example ids', async () => {
      await callApp(core, 'POST', '/v1/events', [...window('r', 0, 600, 0), ...window('c', 1, 400, 8)])
      const saved = await callApp(core, 'POST', '/v1/profiles', {
        name: 'baseline',
        filter: day(0),
        fields: ['input.age', 'input.country'],
      })
      expect(saved.status).toBe(201)
      expect(saved.json).toMatchObject({ name: 'baseline', rows: 600 })
      const p = await callApp(core, 'POST', '/v1/drift', {
        reference: { profile: 'baseline' },
        current: day(1),
        fields: ['input.age', 'input.country'],
      })
      expect(p.json.mode).toBe('profile')
      const exact = await callApp(core, 'POST', '/v1/drift', {
        reference: day(0),
        current: day(1),
        fields: ['input.age', 'input.country'],
        methods: { 'input.age': 'psi', 'input.country': 'jensenshannon' },
      })
      const viaProfile = await callApp(core, 'POST', '/v1/drift', {
        reference: { profile: 'baseline' },
        current: day(1),
        fields: ['input.age', 'input.country'],
        methods: { 'input.age': 'psi', 'input.country': 'jensenshannon' },
      })
      expect(Math.abs(viaProfile.json.fields[0].statistic - exact.json.fields[0].statistic)).toBeLessThan(0.01)
      expect(Math.abs(viaProfile.json.fields[1].statistic - exact.json.fields[1].statistic)).toBeLessThan(0.01)
      expect(
        (await callApp(core, 'POST', '/v1/drift', { reference: { profile: 'nope' }, current: day(1), fields: ['input.age'] })).status,
      ).toBe(404)
      expect((await callApp(core, 'GET', '/v1/profiles')).json.items.map((x: { name: string }) => x.name)).toEqual(['baseline'])
      const q = await callApp(core, 'POST', '/v1/quality', { reference: day(0), current: day(1), fields: ['input.country'] })
      expect(q.status).toBe(200)
      expect(JSON.stringify(q.json)).toContain('"it"')
      for (const bad of [
        { reference: day(0), current: day(1) },
        { reference: day(0), current: day(1), fields: ['nope'] },
        { reference: day(0), current: day(1), fields: ['input.a'], methods: { 'input.a': 'magic' } },
        { reference: day(0), current: day(1), fields: ['input.a'], sample: 1 },
        { reference: { modle: 'm' }, current: day(1), fields: ['input.a'] },
      ]) {
        expect((await callApp(core, 'POST', '/v1/drift', bad)).status, JSON.stringify(bad)).toBe(400)
      }
    })
  })
}
