// In-process: server CPU of the feed consumers named in CONSUMERS (default `profiles`) per event, in
// steps of STEP batches of 1000 drift-like events (20 monitored fields), STEPS steps, read-back
// included (`FeedRunner.catchUp`). ROOT=<another checkout> measures that tree.
//   npm run build && STEP=5 STEPS=30 node bench/feed-profiles.js
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
const root = process.env.ROOT || fileURLToPath(new URL('..', import.meta.url))
const s = await import(path.join(root, 'packages/server/dist/index.js'))
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedprof-'))
const store = new s.SqliteStore({ filename: path.join(dir, 'p.db'), lookupIndexIntervalMs: 0 })
await store.migrate()
const NUM = Array.from({ length: 10 }, (_, i) => `n${i}`),
  CAT = Array.from({ length: 10 }, (_, i) => `c${i}`)
const FIELDS = [...NUM, ...CAT].map((f) => `input.${f}`)
await new s.ModelConfigs(store.derived).put('default', 'bench-drift', { monitored_fields: FIELDS })
let a = 7
const rng = () => {
  a = (a + 0x6d2b79f5) >>> 0
  let t = a
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const g = () => {
  let u = 0
  while (u === 0) u = rng()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng())
}
const t0 = Date.now() - 200000
let n = 0
const batch = () => {
  const events = []
  for (let j = 0; j < 1000; j++, n++) {
    const input = {}
    NUM.forEach((f, i) => {
      input[f] = Math.round(g() * 1000) / 100 + i
    })
    CAT.forEach((c, i) => {
      input[c] = `v${i}_${Math.floor(rng() * [3, 5, 8, 12, 20, 30, 50, 4, 6, 100][i])}`
    })
    const id = `e${n}`
    const tsMs = t0 + n
    events.push({
      project: 'default',
      id,
      tsMs,
      receivedMs: tsMs,
      model: 'bench-drift',
      version: '1',
      stage: 'primary',
      status: 'ok',
      sessionId: null,
      userId: null,
      arm: null,
      shadowOf: null,
      body: JSON.stringify({
        id,
        ts: new Date(tsMs).toISOString(),
        model: { name: 'bench-drift', version: '1' },
        input,
        output: { score: rng() },
      }),
    })
  }
  return { events, feedback: [] }
}
const only = (process.env.CONSUMERS || 'profiles').split(',')
const consumers = s.defaultConsumers(store, only)
const runner = new s.FeedRunner(store, consumers)
const STEP = Number(process.env.STEP || 2),
  STEPS = Number(process.env.STEPS || 40)
for (const c of consumers) await c.prepare?.({ derived: store.derived })
let cpu = 0
for (let i = 0; i < STEPS; i++) {
  for (let k = 0; k < STEP; k++) await store.writeBatch(batch())
  const c0 = process.cpuUsage()
  await runner.catchUp()
  const d = process.cpuUsage(c0)
  if (i >= 2) cpu += d.user + d.system
}
console.log(`${only} STEP=${STEP}: ${(cpu / ((STEPS - 2) * STEP * 1000)).toFixed(1)} µs/event consumer CPU (incl. read-back)`)
await store.close()
fs.rmSync(dir, { recursive: true, force: true })
