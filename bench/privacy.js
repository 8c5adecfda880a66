#!/usr/bin/env node
// Privacy benchmark: what erasure, retention and server-side redaction cost, in process (the
// collector's app over a real store: SQLite with its writer thread, and PostgreSQL when reachable).
//
//   npm run bench:privacy            (builds first)
//   node bench/privacy.js [all|erasure|retention|redaction]
//
// 1. erasure: BENCH_USER_EVENTS events of one user (each with one feedback item, every tenth with a
//    shadow) among BENCH_OTHER_EVENTS other events; the time of `POST /v1/erasure {user_id, confirm}`
//    (match, read, leaf hashes, audit records with tombstones, deletes), rows removed per second.
// 2. retention: BENCH_OLD_EVENTS events older than the policy among as many recent ones; the time
//    of `POST /v1/retention/run`. On PostgreSQL the old events lie in whole months, so their
//    partitions are dropped.
// 3. redaction: ingest of NDJSON batches of 1000 ~600-byte events with an email and an `ssn` field,
//    with rules (`paths: [input.ssn]`, all detectors) and without, rounds rotated; events/s and the
//    ratio with / without, per round, same process.
//
// Environment (all optional): BENCH_USER_EVENTS=20000 BENCH_OTHER_EVENTS=80000 BENCH_OLD_EVENTS=100000
// BENCH_INGEST_EVENTS=100000 BENCH_ROUNDS=3 BENCH_JSON=1

import path from 'node:path'
import { createApp, openStore, silentLogger } from '@inferlog/server'
import { dropSchemas, PG_TEST_URL, postgresReachable, uniqueSchema, withSchema } from '@inferlog/testkit'
import { createHygiene, envInt, fmtNum, machineLine, median } from './lib/bench-util.js'

const hygiene = createHygiene()
const log = (s) => process.stderr.write(`bench:privacy ${s}\n`)
const results = {}
const DAY = 86_400_000

async function withStores(fn) {
  const dir = hygiene.tmpDir('privacy')
  await fn('sqlite', () => openStore(`sqlite:${path.join(dir, `s${Math.random().toString(36).slice(2)}.db`)}`))
  if (await postgresReachable()) {
    const schemas = []
    try {
      await fn('postgres', () => {
        const s = uniqueSchema()
        schemas.push(s)
        return openStore(withSchema(PG_TEST_URL, s))
      })
    } finally {
      await dropSchemas(schemas)
    }
  } else log('PostgreSQL not reachable: SQLite only')
}

async function call(core, method, url, body, headers = {}) {
  const res = await core.app.request(url, {
    method,
    headers: { 'content-type': typeof body === 'string' ? 'application/x-ndjson' : 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const json = await res.json()
  if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

const event = (id, tsMs, extra = {}) => ({
  id,
  ts: new Date(tsMs).toISOString(),
  model: { name: 'clf', version: '1' },
  input: { text: `note ${id}`, n: 1 },
  output: { label: 'a', score: 0.7 },
  ...extra,
})

async function post(core, url, items) {
  for (let i = 0; i < items.length; i += 1000) {
    await call(
      core,
      'POST',
      url,
      items
        .slice(i, i + 1000)
        .map((x) => JSON.stringify(x))
        .join('\n'),
    )
  }
}

async function erasureBench() {
  const nUser = envInt('BENCH_USER_EVENTS', 20_000)
  const nOther = envInt('BENCH_OTHER_EVENTS', 80_000)
  await withStores(async (kind, open) => {
    const store = open()
    await store.migrate()
    const core = createApp({ store, logger: silentLogger() })
    try {
      const t0 = Date.now() - DAY
      const events = []
      const step = (nUser + nOther) / nUser
      let taken = 0
      for (let i = 0; i < nUser + nOther; i++) {
        const mine = taken < nUser && i >= taken * step
        if (mine) taken++
        events.push(event(`e${i}`, t0 + i, { trace: { user_id: mine ? 'u' : `o${i % 997}`, session_id: `s${i % 5000}` } }))
      }
      const mineIds = events.filter((e) => e.trace.user_id === 'u').map((e) => e.id)
      await post(core, '/v1/events', events)
      await post(
        core,
        '/v1/events',
        mineIds
          .filter((_, i) => i % 10 === 0)
          .map((id, i) => event(`sh${i}`, t0 + i, { shadow_of: id, model: { name: 'clf', version: '2', stage: 'shadow' } })),
      )
      await post(
        core,
        '/v1/feedback',
        mineIds.map((id) => ({ id: `f-${id}`, event_id: id, name: 'label', value: 'a' })),
      )
      const start = performance.now()
      const r = await call(core, 'POST', '/v1/erasure', { user_id: 'u', reason: 'bench', confirm: true })
      const ms = performance.now() - start
      const rows = r.erased.events + r.erased.feedback
      results[`erasure_${kind}`] = {
        events: r.erased.events,
        feedback: r.erased.feedback,
        ms: Math.round(ms),
        rows_per_s: Math.round(rows / (ms / 1000)),
      }
      log(
        `erasure ${kind}: ${fmtNum(r.erased.events)} events + ${fmtNum(r.erased.feedback)} feedback of one user among ${fmtNum(nUser + nOther)} events in ${fmtNum(ms / 1000, 2)} s (${fmtNum(rows / (ms / 1000))} rows/s, ${r.records?.length ?? 1} audit records)`,
      )
    } finally {
      await core.close()
      await store.close()
    }
  })
}

async function retentionBench() {
  const nOld = envInt('BENCH_OLD_EVENTS', 100_000)
  await withStores(async (kind, open) => {
    const store = open()
    await store.migrate()
    const core = createApp({ store, logger: silentLogger() })
    try {
      const now = Date.now()
      // Old events fill whole months around five months ago; recent ones the last week.
      const d = new Date(now - 150 * DAY)
      const oldStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
      const events = []
      for (let i = 0; i < nOld; i++) events.push(event(`old${i}`, oldStart + Math.floor((i / nOld) * 27 * DAY)))
      for (let i = 0; i < nOld; i++) events.push(event(`new${i}`, now - 7 * DAY + i))
      await post(core, '/v1/events', events)
      await call(core, 'PUT', '/v1/retention', { events_days: 60 })
      const start = performance.now()
      const r = await call(core, 'POST', '/v1/retention/run')
      const ms = performance.now() - start
      results[`retention_${kind}`] = {
        events: r.removed.events,
        ms: Math.round(ms),
        partitions: r.partitions,
        rows_per_s: Math.round(r.removed.events / (ms / 1000)),
      }
      log(
        `retention ${kind}: ${fmtNum(r.removed.events)} of ${fmtNum(2 * nOld)} events removed in ${fmtNum(ms / 1000, 2)} s (${fmtNum(r.removed.events / (ms / 1000))} rows/s${r.partitions.length ? `; dropped ${r.partitions.join(', ')}` : ''})`,
      )
    } finally {
      await core.close()
      await store.close()
    }
  })
}

async function redactionBench() {
  const n = envInt('BENCH_INGEST_EVENTS', 100_000)
  const rounds = envInt('BENCH_ROUNDS', 3)
  const pad = 'x'.repeat(300)
  const body = (round, k) => {
    const lines = []
    for (let b = 0; b < n; b += 1000) {
      const part = []
      for (let i = b; i < Math.min(n, b + 1000); i++) {
        part.push(
          JSON.stringify(
            event(`${k}-${round}-${i}`, Date.now() - 1000, {
              input: { text: `please mail jane.doe${i}@example.com about order ${i} ${pad}`, ssn: '123-45-6789', n: i },
            }),
          ),
        )
      }
      lines.push(part.join('\n'))
    }
    return lines
  }
  const dir = hygiene.tmpDir('redaction')
  const rates = { off: [], on: [] }
  const cpus = { off: [], on: [] }
  const ratios = []
  const cpuRatios = []
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['off', 'on'] : ['on', 'off']
    const got = {}
    for (const k of order) {
      const store = openStore(`sqlite:${path.join(dir, `${k}${round}.db`)}`)
      await store.migrate()
      const core = createApp({ store, logger: silentLogger() })
      try {
        if (k === 'on') await call(core, 'PUT', '/v1/redaction', { paths: ['input.ssn'] })
        const batches = body(round, k)
        const start = performance.now()
        const cpu0 = process.cpuUsage()
        for (const b of batches) await call(core, 'POST', '/v1/events', b)
        const cpu = process.cpuUsage(cpu0)
        const rate = n / ((performance.now() - start) / 1000)
        // CPU time of the whole process (request handling and the writer thread): steadier than
        // wall time on a shared machine.
        const cpuUs = (cpu.user + cpu.system) / n
        got[k] = rate
        got[`${k}Cpu`] = cpuUs
        rates[k].push(rate)
        cpus[k].push(cpuUs)
      } finally {
        await core.close()
        await store.close()
      }
    }
    ratios.push(got.on / got.off)
    cpuRatios.push(got.offCpu / got.onCpu)
    log(
      `redaction round ${round + 1}: off ${fmtNum(got.off)} ev/s (${fmtNum(got.offCpu, 1)} µs CPU/event), on ${fmtNum(got.on)} ev/s (${fmtNum(got.onCpu, 1)} µs CPU/event); wall on/off ${(got.on / got.off).toFixed(3)}, CPU off/on ${(got.offCpu / got.onCpu).toFixed(3)}`,
    )
  }
  results.redaction = {
    off_events_per_s: Math.round(median(rates.off)),
    on_events_per_s: Math.round(median(rates.on)),
    off_cpu_us_per_event: Number(median(cpus.off).toFixed(1)),
    on_cpu_us_per_event: Number(median(cpus.on).toFixed(1)),
    wall_ratio_median: Number(median(ratios).toFixed(3)),
    cpu_ratio_median: Number(median(cpuRatios).toFixed(3)),
  }
  log(
    `redaction: median wall on/off ${median(ratios).toFixed(3)}, CPU off/on ${median(cpuRatios).toFixed(3)} (${fmtNum(median(cpus.off), 1)} vs ${fmtNum(median(cpus.on), 1)} µs CPU/event)`,
  )
}

const which = process.argv[2] ?? 'all'
process.stdout.write(`${machineLine('privacy')}\n`)
if (which === 'all' || which === 'erasure') await erasureBench()
if (which === 'all' || which === 'retention') await retentionBench()
if (which === 'all' || which === 'redaction') await redactionBench()
if (process.env.BENCH_JSON) process.stdout.write(`${JSON.stringify(results)}\n`)
else process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
hygiene.cleanupSync()
process.exit(0)
