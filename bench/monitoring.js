#!/usr/bin/env node
// Monitoring benchmark: `GET /v1/metrics` over 30 days of hourly buckets grouped by version, on
// SQLite and PostgreSQL, beside the same answer computed by scanning the raw rows (events with
// their feedback) in the same run; the two answers are checked to agree.
//
//   npm run bench:monitoring           (builds first)
//   node bench/monitoring.js [all|sqlite|postgres]
//   node bench/monitoring.js consumer   (the metrics consumer alone over a copy of the raw log: events/s)
//
// Data: BENCH_MON_EVENTS (1 000 000) events of model `fraud-scorer` spread evenly over 30 days
// (2026-11-01 to 2026-12-01), 5 versions × 2 experiment arms drawn at random, ~1 KB each, 1% errors,
// 20% logged with sample_rate 0.5; 30% have one `label` feedback item (the predicted class with a
// per-version accuracy of 80–92%), committed in the next batch, 10% of those only after every event
// (late feedback). Written through SqliteStore.writeBatch (10 000 events per batch) and aggregated
// by the server's own commit-feed consumers (FeedRunner.catchUp, catalog + metrics) with the label
// declared (`{"label": {"output": "label", "type": "class"}}`). Both files are cached under
// BENCH_CACHE_DIR: the raw log keyed by data and schema version, the aggregated copy also by a hash
// of the consumer code (packages/server/dist/{feed,monitoring}, packages/analysis/dist), so a code
// change re-aggregates. PostgreSQL (a throwaway cluster) is filled from the raw file batch for
// batch and aggregated by the same consumers on every run.
//
// Per backend: a server child on a copy of the store (`inferlog serve --data DIR` or
// `--store postgres://…`); the first request (points not yet cached in their rows) is reported
// apart; then BENCH_MON_ROUNDS rounds of [BENCH_MON_WARMUP untimed + BENCH_MON_REQUESTS timed
// sequential keep-alive requests, then the raw-row answer]. The raw-row answer streams the window
// through the store's LogScanner (scanEvents + feedbackForEvents per chunk), in this process, and
// aggregates with the same pure functions of @inferlog/analysis per (version, hour).
//
// Environment (all optional): BENCH_MON_EVENTS=1000000 BENCH_MON_ROUNDS=3 BENCH_MON_REQUESTS=50
// BENCH_MON_WARMUP=5 BENCH_MON_MISSES=10 BENCH_CACHE_DIR BENCH_TIMEOUT_S=3600 BENCH_JSON=1
// BENCH_MON_MISSES: per round, requests timed after one event was committed into the window and the
// metrics consumer stepped (the reply must be read again from the buckets), as a live dashboard sees.
// BENCH_MON_CLIENT=child (default): the timed requests come from a client process of its own, which
// holds nothing else; `inline`: from this process (its raw-row answer's collections then count).

import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import zlib from 'node:zlib'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { fork } from 'node:child_process'
import { spawnServer } from '@inferlog/testkit'
import { createHygiene, envInt, fmtNum, fmtSummary, loadavg, machineLine, pct, prng, summary, watchdog } from './lib/bench-util.js'
import {
  cachedFile,
  cachedPostgres,
  fillPostgresFrom,
  postgresSchemaVersion,
  SERVER_DIST,
  serverDist,
  sqliteSchemaVersion,
} from './lib/log-fixtures.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DATA_VERSION = 1
const PROJECT = 'default'
const MODEL = 'fraud-scorer'
const VERSIONS = ['5.0.0', '5.1.0', '5.2.0', '5.3.0', '6.0.0-rc1']
const ACCURACY = [0.8, 0.83, 0.86, 0.89, 0.92]
const LABEL_CONFIG = { label: { output: 'label', type: 'class' } }
const FROM = Date.UTC(2026, 10, 1)
const TO = Date.UTC(2026, 11, 1)
const QUERY = `/v1/metrics?model=${MODEL}&bucket=hour&group_by=version&from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}`

const hygiene = createHygiene()
const log = (s) => process.stderr.write(`bench:monitoring ${s}\n`)

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

const hex = (rng, n) => {
  let s = ''
  for (let i = 0; i < n; i++) s += ((rng() * 16) | 0).toString(16)
  return s
}
const round = (x, d) => Math.round(x * 10 ** d) / 10 ** d

/** One event of the monitored model, ~1 KB of JSON; `v` the version index. */
function makeEvent(rng, id, tsMs, v, arm) {
  const score = round(rng(), 4)
  const error = rng() < 0.01
  const pre = round(0.2 + rng() * 2, 3)
  const inference = round(1 + rng() * 12 + v, 3)
  const post = round(0.1 + rng(), 3)
  const user = `u_${(rng() * 200_000) | 0}`
  const e = {
    id,
    ts: new Date(tsMs).toISOString(),
    model: {
      name: MODEL,
      version: VERSIONS[v],
      digest: `sha256:${hex(rng, 64)}`,
      endpoint: 'https://models.internal/fraud-scorer/v1/predict',
      params: { threshold: 0.5, n_estimators: 400 },
    },
    input: {
      features: {
        amount: round(rng() * 900, 2),
        currency: 'EUR',
        merchant_category: String(5000 + ((rng() * 900) | 0)),
        country: ['DE', 'FR', 'NL', 'ES', 'IT', 'PL'][(rng() * 6) | 0],
        card_present: rng() < 0.6,
        hour_of_day: (rng() * 24) | 0,
        txn_count_24h: (rng() * 12) | 0,
        avg_amount_30d: round(rng() * 400, 2),
        account_age_days: (rng() * 3000) | 0,
        device_trust: round(rng(), 4),
      },
    },
    latency_ms: { total: round(pre + inference + post, 3), pre, inference, post },
    trace: { trace_id: hex(rng, 32), span_id: hex(rng, 16), session_id: `s_${hex(rng, 16)}`, user_id: user },
    context: {
      entities: { user_id: user, merchant_id: `m_${(rng() * 80_000) | 0}` },
      experiment: { name: 'threshold-2026q4', arm },
      tags: { region: 'eu-west-1', channel: rng() < 0.7 ? 'web' : 'app' },
    },
    status: error ? 'error' : 'ok',
  }
  if (error) e.error = { type: 'Timeout', message: 'feature store did not answer in 50 ms' }
  else e.output = { label: score >= 0.5 ? 'fraud' : 'legit', score, scores: { legit: round(1 - score, 4), fraud: score } }
  if (rng() < 0.2) e.sample_rate = 0.5
  return e
}

async function generateRaw(file, n) {
  const { SqliteStore } = await serverDist()
  const { createUuidV7 } = await import('@inferlog/schema')
  const store = new SqliteStore({ filename: file, synchronous: 'OFF', lookupIndexIntervalMs: 0 })
  await store.migrate()
  const rng = prng(909)
  const fbRng = prng(303)
  let clock = FROM
  const uuid = createUuidV7(() => clock)
  const step = (TO - FROM - 1000) / n
  const batchSize = 10_000
  const late = []
  let pending = []
  let feedback = 0
  const t0 = performance.now()
  const write = async (batch) => {
    const res = await store.writeBatch(batch)
    if (res.events.some((o) => o !== 'inserted') || res.feedback.some((o) => o !== 'inserted'))
      throw new Error('fill: an item was not inserted')
    feedback += batch.feedback.length
  }
  for (let done = 0; done < n; ) {
    const k = Math.min(batchSize, n - done)
    const events = new Array(k)
    const next = []
    for (let j = 0; j < k; j++) {
      const tsMs = Math.floor(FROM + (done + j) * step)
      clock = tsMs
      const v = (rng() * VERSIONS.length) | 0
      const arm = rng() < 0.5 ? 'A' : 'B'
      const e = makeEvent(rng, uuid(), tsMs, v, arm)
      events[j] = {
        project: PROJECT,
        id: e.id,
        tsMs,
        receivedMs: tsMs + 5,
        model: MODEL,
        version: e.model.version,
        stage: 'primary',
        status: e.status,
        sessionId: e.trace.session_id,
        userId: e.trace.user_id,
        arm,
        shadowOf: null,
        body: JSON.stringify(e),
      }
      if (e.output && fbRng() < 0.3) {
        const right = fbRng() < ACCURACY[v]
        const fbTs = tsMs + Math.floor(fbRng() * 6 * 3_600_000)
        const f = {
          id: `fb-${e.id}`,
          event_id: e.id,
          name: 'label',
          value: right ? e.output.label : e.output.label === 'fraud' ? 'legit' : 'fraud',
          ts: new Date(fbTs).toISOString(),
          source: { type: 'annotator' },
        }
        const rec = { project: PROJECT, id: f.id, eventId: e.id, name: 'label', tsMs: fbTs, receivedMs: fbTs, body: JSON.stringify(f) }
        if (fbRng() < 0.1) late.push(rec)
        else next.push(rec)
      }
    }
    // Feedback arrives after its event: in the next batch, or (late) after every event.
    await write({ events, feedback: pending })
    pending = next
    done += k
    if (done % 200_000 === 0) log(`fill ${fmtNum(done)}/${fmtNum(n)} (${fmtNum(done / ((performance.now() - t0) / 1000))} ev/s)`)
  }
  const rest = [...pending, ...late]
  for (let i = 0; i < rest.length; i += batchSize) await write({ events: [], feedback: rest.slice(i, i + batchSize) })
  await store.close()
  log(`generated ${fmtNum(n)} events and ${fmtNum(feedback)} feedback in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
}

/** Read-side modules of `monitoring/`: they never write buckets, so a change there keeps the aggregated files. */
const READ_SIDE = new Set([
  'metrics-query.js',
  'metrics-reply.js',
  'metrics-estimates.js',
  'comparisons.js',
  'alerts.js',
  'live-stream.js',
  'drift-service.js',
  'estimation-service.js',
  'metrics-finalizer.js',
])

/** Hash of the code that derives the buckets: a change there makes a new aggregated file. */
function consumerCodeHash() {
  const h = createHash('sha256')
  const dirs = [path.join(SERVER_DIST, 'feed'), path.join(SERVER_DIST, 'monitoring'), path.join(ROOT, 'packages', 'analysis', 'dist')]
  const walk = (d) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name)
      if (fs.statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.js') && !READ_SIDE.has(name)) h.update(name).update(fs.readFileSync(p))
    }
  }
  for (const d of dirs) walk(d)
  return h.digest('hex').slice(0, 12)
}

/** Declares the label and runs the default consumers to the head, in this process. */
async function aggregate(store) {
  const { FeedRunner, defaultConsumers } = await serverDist()
  const { ModelConfigs } = await import(pathToFileURL(path.join(SERVER_DIST, 'monitoring/model-config.js')).href)
  await new ModelConfigs(store.derived).put(PROJECT, MODEL, { labels: LABEL_CONFIG })
  const t0 = performance.now()
  await new FeedRunner(store, defaultConsumers(store)).catchUp()
  return (performance.now() - t0) / 1000
}

async function aggregatedSqlite(n) {
  const schema = await sqliteSchemaVersion()
  const raw = await cachedFile(`monitoring-raw-d${DATA_VERSION}-s${schema}-${n}.db`, (tmp) => generateRaw(tmp, n), hygiene)
  return cachedFile(
    `monitoring-agg-d${DATA_VERSION}-s${schema}-${n}-${consumerCodeHash()}.db`,
    async (tmp) => {
      fs.copyFileSync(raw, tmp)
      const { SqliteStore } = await serverDist()
      const store = new SqliteStore({ filename: tmp, synchronous: 'OFF', lookupIndexIntervalMs: 0 })
      try {
        await store.migrate()
        const s = await aggregate(store)
        log(`SQLite: aggregated ${fmtNum(n)} events in ${s.toFixed(0)} s (${fmtNum(n / s)} ev/s)`)
      } finally {
        await store.close()
      }
    },
    hygiene,
  ).then((agg) => ({ raw, agg }))
}

/**
 * `consumer` mode: the metrics consumer alone (no catalog, audit or profiles) run to the head of a
 * copy of the raw SQLite log, timed, with its CPU time; reports events/s.
 */
async function consumerBackend(n) {
  const schema = await sqliteSchemaVersion()
  const raw = await cachedFile(`monitoring-raw-d${DATA_VERSION}-s${schema}-${n}.db`, (tmp) => generateRaw(tmp, n), hygiene)
  const dir = hygiene.tmpDir('mon-consumer')
  const file = path.join(dir, 'inferlog.db')
  fs.copyFileSync(raw, file)
  const { SqliteStore, FeedRunner, ModelConfigs } = await serverDist()
  const { MetricsConsumer } = await import(pathToFileURL(path.join(SERVER_DIST, 'monitoring/metrics-consumer.js')).href)
  const { PriceTables } = await import(pathToFileURL(path.join(SERVER_DIST, 'monitoring/price-tables.js')).href)
  const store = new SqliteStore({ filename: file, synchronous: 'OFF', lookupIndexIntervalMs: 0 })
  try {
    await store.migrate()
    await new ModelConfigs(store.derived).put(PROJECT, MODEL, { labels: LABEL_CONFIG })
    const consumer = new MetricsConsumer(new ModelConfigs(store.derived), store, new PriceTables(store.derived))
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await new FeedRunner(store, [consumer]).catchUp()
    const s = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const cpuS = (cpu.user + cpu.system) / 1e6
    log(
      `metrics consumer: ${fmtNum(n)} events in ${s.toFixed(1)} s (${fmtNum(n / s)} ev/s), CPU ${cpuS.toFixed(1)} s (${fmtNum(n / cpuS)} ev per CPU-s)`,
    )
    return { seconds: s, cpuSeconds: cpuS }
  } finally {
    await store.close()
  }
}

// ---------------------------------------------------------------------------------------------
// The raw-row answer
// ---------------------------------------------------------------------------------------------

/** The metrics reply computed from raw rows: events in the window with their effective label. */
async function rawAnswer(store) {
  const a = await import('@inferlog/analysis')
  const finalizer = a.createMetricsFinalizer()
  const head = await store.commitHead()
  const groups = new Map() // version → Map(hourStart → aggregate)
  let events = 0
  for await (const rows of store.scanEvents(PROJECT, { model: MODEL, fromMs: FROM, toMs: TO }, { upTo: head }, 2000)) {
    const fb = await store.feedbackForEvents(
      PROJECT,
      rows.map((r) => r.id),
      head,
    )
    // The effective label of an event: its latest `label` by the feedback's ts, ties by row.
    const labels = new Map()
    for (const f of fb) {
      if (f.name !== 'label') continue
      const cur = labels.get(f.eventId)
      if (!cur || f.tsMs > cur.tsMs || (f.tsMs === cur.tsMs && f.seq > cur.seq)) labels.set(f.eventId, f)
    }
    for (const r of rows) {
      const body = JSON.parse(r.body)
      let byHour = groups.get(r.version)
      if (!byHour) groups.set(r.version, (byHour = new Map()))
      const hour = Math.floor(r.tsMs / 3_600_000) * 3_600_000
      let agg = byHour.get(hour)
      if (!agg) byHour.set(hour, (agg = a.createMetricsAggregate()))
      a.addEvent(agg, a.observationOf(body))
      const f = labels.get(r.id)
      if (f) {
        const c = a.labelContributionOf(body.output, JSON.parse(f.body).value, LABEL_CONFIG.label, a.weightOf(body.sample_rate))
        if (c) a.addLabel(agg, 'label', c)
      }
      events++
    }
  }
  const series = [...groups]
    .sort((x, y) => (x[0] < y[0] ? -1 : 1))
    .map(([version, byHour]) => ({
      group: { version },
      points: [...byHour].sort((x, y) => x[0] - y[0]).map(([start, agg]) => finalizer.finalize(agg, start)),
    }))
  return { events, reply: { bucket: 'hour', series } }
}

/** Compares two replies point by point; resolves with the number of points and the worst relative differences. */
function compareReplies(buckets, raw) {
  const rel = (x, y) => (x === y ? 0 : Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-12))
  const worst = { counts: 0, quality: 0, latency: 0 }
  const problems = []
  const bySeries = new Map(raw.series.map((s) => [JSON.stringify(s.group), s]))
  let points = 0
  if (buckets.series.length !== raw.series.length) problems.push(`${buckets.series.length} series vs ${raw.series.length} from raw rows`)
  for (const s of buckets.series) {
    const r = bySeries.get(JSON.stringify(s.group))
    if (!r) {
      problems.push(`series ${JSON.stringify(s.group)} missing from the raw answer`)
      continue
    }
    if (s.points.length !== r.points.length) problems.push(`${JSON.stringify(s.group)}: ${s.points.length} points vs ${r.points.length}`)
    const rp = new Map(r.points.map((p) => [p.start, p]))
    for (const p of s.points) {
      const q = rp.get(p.start)
      if (!q) {
        problems.push(`${JSON.stringify(s.group)} ${p.start}: no raw point`)
        continue
      }
      points++
      for (const k of ['count', 'n', 'n_eff', 'errors']) worst.counts = Math.max(worst.counts, rel(p[k], q[k]))
      const pl = p.quality.label
      const ql = q.quality.label
      if (!pl !== !ql) problems.push(`${JSON.stringify(s.group)} ${p.start}: label quality on one side only`)
      else if (pl) {
        worst.counts = Math.max(worst.counts, rel(pl.n_labeled, ql.n_labeled), rel(pl.coverage ?? 0, ql.coverage ?? 0))
        for (const k of ['value', 'ci_low', 'ci_high'])
          worst.quality = Math.max(worst.quality, rel(pl.accuracy?.[k] ?? 0, ql.accuracy?.[k] ?? 0))
      }
      for (const ph of ['total', 'inference']) {
        for (const k of ['p50', 'p90', 'p99'])
          worst.latency = Math.max(worst.latency, rel(p.latency_ms[ph]?.[k] ?? 0, q.latency_ms[ph]?.[k] ?? 0))
      }
    }
  }
  // Counts and label tallies are sums of the same numbers: equal up to float rounding. Quantiles
  // come from the same sketch either way (merged buckets vs one pass): equal within its 1% error.
  if (worst.counts > 1e-9) problems.push(`counts differ by up to ${worst.counts}`)
  if (worst.quality > 1e-9) problems.push(`accuracy differs by up to ${worst.quality}`)
  if (worst.latency > 0.01) problems.push(`latency quantiles differ by up to ${worst.latency}`)
  return { points, worst, problems }
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

function get(agent, url, pathname, headers = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = http.request({ agent, host: u.hostname, port: u.port, path: pathname, headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode, body: Buffer.concat(chunks), etag: res.headers.etag, encoding: res.headers['content-encoding'] }),
      )
      res.on('error', reject)
    })
    req.setTimeout(120_000, () => req.destroy(new Error(`GET ${pathname}: no answer in 120 s`)))
    req.on('error', reject)
    req.end()
  })
}

async function timedGet(agent, url) {
  const t = performance.now()
  const r = await get(agent, url, QUERY)
  const ms = performance.now() - t
  if (r.status !== 200) throw new Error(`GET ${QUERY} answered ${r.status}: ${r.body.toString().slice(0, 300)}`)
  return { ms, body: r.body, etag: r.etag }
}

/** As a browser or `requests` asks: `Accept-Encoding: br, gzip`; timed to the decoded body. */
async function timedGetCompressed(agent, url) {
  const t = performance.now()
  const r = await get(agent, url, QUERY, { 'accept-encoding': 'br, gzip' })
  const body = r.encoding === 'br' ? zlib.brotliDecompressSync(r.body) : r.encoding === 'gzip' ? zlib.gunzipSync(r.body) : r.body
  const ms = performance.now() - t
  if (r.status !== 200) throw new Error(`GET ${QUERY} answered ${r.status}`)
  return { ms, body, wire: r.body.length, encoding: r.encoding ?? 'identity' }
}

function post(agent, url, pathname, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const data = Buffer.from(JSON.stringify(body))
    const req = http.request(
      {
        agent,
        host: u.hostname,
        port: u.port,
        path: pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': data.length },
      },
      (res) => {
        res.resume()
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`POST ${pathname} answered ${res.statusCode}`))))
      },
    )
    req.on('error', reject)
    req.end(data)
  })
}

/**
 * Requests after the buckets changed (a live dashboard while events arrive): one event committed
 * into the window, a pause for the metrics consumer's step (it steps at most once a second), then
 * the timed request; only requests whose ETag changed (the reply was read again) count.
 */
async function missRound(agent, url, n, seed) {
  const { createUuidV7 } = await import('@inferlog/schema')
  const rng = prng(seed)
  const uuid = createUuidV7()
  const ms = []
  let etag = (await timedGet(agent, url)).etag
  for (let i = 0; i < n; i++) {
    const tsMs = FROM + Math.floor(rng() * (TO - FROM - 1000))
    await post(agent, url, '/v1/events', makeEvent(rng, uuid(), tsMs, (rng() * VERSIONS.length) | 0, rng() < 0.5 ? 'A' : 'B'))
    await new Promise((r) => setTimeout(r, 1500))
    const r = await timedGet(agent, url)
    if (r.etag !== etag) ms.push(r.ms)
    etag = r.etag
  }
  return ms.sort((a, b) => a - b)
}

/** The timed requests of one client: warm-ups then `n` timed GETs, and the after-an-advance round. */
function inlineClient(url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  return {
    async times({ n, warm, compressed }) {
      const one = compressed ? () => timedGetCompressed(agent, url) : () => timedGet(agent, url)
      for (let i = 0; i < warm; i++) await one()
      const ms = []
      let last
      for (let i = 0; i < n; i++) {
        last = await one()
        ms.push(last.ms)
      }
      return { ms: ms.sort((a, b) => a - b), wire: last?.wire, encoding: last?.encoding }
    },
    miss: ({ n, seed }) => missRound(agent, url, n, seed),
    close: async () => agent.destroy(),
  }
}

/**
 * The client that times the requests. By default a process of its own (`BENCH_MON_CLIENT=child`)
 * that holds nothing but its requests, as a dashboard's client would: the bench process also holds
 * the raw-row answer and (on a first run) the aggregation, and their collections would be timed as
 * the server's latency. `BENCH_MON_CLIENT=inline` times from the bench process as before.
 */
function requestClient(url) {
  if (process.env.BENCH_MON_CLIENT === 'inline') return inlineClient(url)
  const child = fork(fileURLToPath(import.meta.url), ['client', url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  hygiene.track({ child, exited: new Promise((r) => child.once('exit', r)) })
  const pending = new Map()
  let seq = 0
  child.on('message', (m) => {
    const p = pending.get(m.id)
    pending.delete(m.id)
    if (m.error) p?.reject(new Error(`request client: ${m.error}`))
    else p?.resolve(m.result)
  })
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`request client exited (${code ?? signal})`))
    pending.clear()
  })
  const call = (op, args) =>
    new Promise((resolve, reject) => {
      const id = ++seq
      pending.set(id, { resolve, reject })
      child.send({ id, op, args })
    })
  return {
    times: (args) => call('times', args),
    miss: (args) => call('miss', args),
    close: async () => {
      child.disconnect()
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()))
    },
  }
}

/** `node bench/monitoring.js client URL`: the request client's process (see {@link requestClient}). */
function clientMain(url) {
  const c = inlineClient(url)
  process.on('message', async (m) => {
    try {
      process.send({ id: m.id, result: await c[m.op](m.args) })
    } catch (e) {
      process.send({ id: m.id, error: e instanceof Error ? e.message : String(e) })
    }
  })
  process.on('disconnect', () => void c.close().then(() => process.exit(0)))
}

/** Rounds of timed requests and a raw-row answer against one running server and its store. */
async function measure(name, url, openStore) {
  const rounds = envInt('BENCH_MON_ROUNDS', 3)
  const nReq = envInt('BENCH_MON_REQUESTS', 50)
  const warm = envInt('BENCH_MON_WARMUP', 5, 0)
  const nMiss = envInt('BENCH_MON_MISSES', 10, 0)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const client = requestClient(url)
  const out = { rounds: [], client: process.env.BENCH_MON_CLIENT === 'inline' ? 'inline' : 'child' }
  try {
    const first = await timedGet(agent, url)
    out.firstMs = first.ms
    out.replyBytes = first.body.length
    const reply = JSON.parse(first.body.toString('utf8'))
    out.series = reply.series.length
    out.points = reply.series.reduce((a, s) => a + s.points.length, 0)
    log(`${name}: first request ${first.ms.toFixed(1)} ms, ${out.series} series, ${out.points} points, ${fmtNum(first.body.length)} bytes`)
    for (let r = 0; r < rounds; r++) {
      const { ms } = await client.times({ n: nReq, warm, compressed: false })
      // The same requests from a client that accepts compression (decoding included in the time).
      const { ms: zms, ...z } = await client.times({ n: nReq, warm, compressed: true })
      log(
        `${name}: round ${r + 1}/${rounds}: with Accept-Encoding: br, gzip (${z.encoding}, ${fmtNum(z.wire)} bytes on the wire): p50 ${pct(zms, 0.5).toFixed(1)} ms p95 ${pct(zms, 0.95).toFixed(1)} ms max ${zms[zms.length - 1].toFixed(1)} ms`,
      )
      const store = await openStore()
      let raw
      const t0 = performance.now()
      try {
        raw = await rawAnswer(store)
      } finally {
        await store.close()
      }
      const rawMs = performance.now() - t0
      const last = JSON.parse((await timedGet(agent, url)).body.toString('utf8'))
      const agree = compareReplies(last, raw.reply)
      const load = os.loadavg()[0]
      const miss = nMiss > 0 ? await client.miss({ n: nMiss, seed: 7 + r }) : []
      out.rounds.push({
        p50: pct(ms, 0.5),
        p95: pct(ms, 0.95),
        max: ms[ms.length - 1],
        rawMs,
        rawEvents: raw.events,
        agree,
        load,
        miss: miss.length ? { n: miss.length, p50: pct(miss, 0.5), p95: pct(miss, 0.95), max: miss[miss.length - 1] } : undefined,
        compressed: { p50: pct(zms, 0.5), p95: pct(zms, 0.95), max: zms[zms.length - 1], encoding: z.encoding, wire: z.wire },
      })
      log(
        `${name}: round ${r + 1}/${rounds}: buckets p50 ${pct(ms, 0.5).toFixed(1)} ms p95 ${pct(ms, 0.95).toFixed(1)} ms max ${ms[ms.length - 1].toFixed(1)} ms; raw rows ${fmtNum(rawMs)} ms over ${fmtNum(raw.events)} events; agree on ${agree.points} points${agree.problems.length ? `: ${agree.problems.slice(0, 5).join('; ')}` : ''}; load ${load.toFixed(2)}`,
      )
      if (miss.length)
        log(
          `${name}: round ${r + 1}/${rounds}: after the consumer advanced (${miss.length} of ${nMiss} requests read again): p50 ${pct(miss, 0.5).toFixed(1)} ms p95 ${pct(miss, 0.95).toFixed(1)} ms max ${miss[miss.length - 1].toFixed(1)} ms`,
        )
    }
  } finally {
    agent.destroy()
    await client.close()
  }
  return out
}

async function sqliteBackend(n) {
  const { agg } = await aggregatedSqlite(n)
  const dir = hygiene.tmpDir('mon-sqlite')
  fs.copyFileSync(agg, path.join(dir, 'inferlog.db'))
  const srv = hygiene.track(await spawnServer(['--data', dir], { stderrLimit: 20_000 }))
  try {
    const { SqliteStore } = await serverDist()
    return await measure('SQLite', srv.url, async () => new SqliteStore({ filename: path.join(dir, 'inferlog.db'), readonly: true }))
  } finally {
    await srv.stop()
  }
}

async function postgresBackend(n) {
  const { raw } = await aggregatedSqlite(n)
  const { PostgresStore } = await serverDist()
  let built
  const name = `monitoring-d${DATA_VERSION}-p${await postgresSchemaVersion()}-${n}-${consumerCodeHash()}.pgdata`
  // The server writes (cached points, its consumers): it runs on a copy of the cached cluster.
  const pgs = await cachedPostgres(
    name,
    async (url) => {
      const fill = await fillPostgresFrom(raw, url)
      const store = new PostgresStore({ connectionString: url, poolSize: 4 })
      try {
        const aggSeconds = await aggregate(store)
        await store.queryable.query('VACUUM ANALYZE')
        log(`PostgreSQL: aggregated ${fmtNum(fill.events)} events in ${aggSeconds.toFixed(0)} s (${fmtNum(fill.events / aggSeconds)} ev/s)`)
        built = { aggregateSeconds: aggSeconds, fillSeconds: fill.seconds }
      } finally {
        await store.close()
      }
    },
    hygiene,
    { copy: true },
  )
  try {
    const dir = hygiene.tmpDir('mon-pg')
    const srv = hygiene.track(await spawnServer(['--data', dir, '--store', pgs.url], { stderrLimit: 20_000 }))
    try {
      const res = await measure('PostgreSQL', srv.url, async () => new PostgresStore({ connectionString: pgs.url, poolSize: 2 }))
      return { ...res, ...built }
    } finally {
      await srv.stop()
    }
  } finally {
    await pgs.destroy()
  }
}

function report(out, n) {
  const lines = [
    '',
    `MONITORING  GET ${QUERY}`,
    `${fmtNum(n)} events over 30 days, 5 versions × 2 arms, 30% with a label; ${envInt('BENCH_MON_REQUESTS', 50)} timed sequential requests per round after ${envInt('BENCH_MON_WARMUP', 5, 0)} warm-ups`,
    process.env.BENCH_MON_CLIENT === 'inline'
      ? 'requests timed from the bench process (BENCH_MON_CLIENT=inline: its collections of the raw-row answer count in the times)'
      : 'requests timed from a client process of its own (holding nothing but its requests)',
  ]
  for (const [k, name] of [
    ['sqlite', 'SQLite'],
    ['postgres', 'PostgreSQL'],
  ]) {
    const m = out[k]
    if (!m) continue
    const p95 = summary(m.rounds.map((r) => r.p95))
    const p50 = summary(m.rounds.map((r) => r.p50))
    const raw = summary(m.rounds.map((r) => r.rawMs))
    const agree = m.rounds.every((r) => r.agree.problems.length === 0)
    lines.push('')
    lines.push(`${name}: ${m.series} series × ${m.points / m.series} points = ${m.points} points, ${fmtNum(m.replyBytes)} bytes per reply`)
    lines.push(
      `  from buckets: p50 ${fmtSummary(p50, 1, ' ms')}, p95 ${fmtSummary(p95, 1, ' ms')}; first request (points not yet cached) ${m.firstMs.toFixed(1)} ms`,
    )
    const zs = m.rounds.map((r) => r.compressed)
    lines.push(
      `  with Accept-Encoding: br, gzip (${zs[0].encoding}, ${fmtNum(zs[0].wire)} bytes on the wire, decoded in the time): p50 ${fmtSummary(summary(zs.map((x) => x.p50)), 1, ' ms')}, p95 ${fmtSummary(summary(zs.map((x) => x.p95)), 1, ' ms')}`,
    )
    const misses = m.rounds.filter((r) => r.miss)
    if (misses.length)
      lines.push(
        `  after the consumer advanced (reply read again, ${misses.reduce((a, r) => a + r.miss.n, 0)} requests): p50 ${fmtSummary(summary(misses.map((r) => r.miss.p50)), 1, ' ms')}, p95 ${fmtSummary(summary(misses.map((r) => r.miss.p95)), 1, ' ms')}`,
      )
    lines.push(
      `  from raw rows (scan + feedback join + aggregate): ${fmtSummary(raw, 0, ' ms')} over ${fmtNum(m.rounds[0].rawEvents)} events`,
    )
    lines.push(`  buckets / raw rows: ${(raw.median / p50.median).toFixed(0)}× faster at p50`)
    lines.push(
      `  answers agree: ${agree ? 'yes' : 'NO'} (${m.rounds[0].agree.points} points; worst relative difference: counts ${m.rounds[0].agree.worst.counts.toExponential(1)}, accuracy ${m.rounds[0].agree.worst.quality.toExponential(1)}, latency quantiles ${m.rounds[0].agree.worst.latency.toExponential(1)})`,
    )
    if (m.aggregateSeconds)
      lines.push(
        `  aggregation by the feed consumers: ${m.aggregateSeconds.toFixed(0)} s (${fmtNum(n / m.aggregateSeconds)} ev/s), fill ${m.fillSeconds.toFixed(0)} s`,
      )
    lines.push(
      `  p95 target <= 50 ms: ${p95.median <= 50 ? 'MET' : 'NOT MET'}; 1-min load ${Math.min(...m.rounds.map((r) => r.load)).toFixed(2)}–${Math.max(...m.rounds.map((r) => r.load)).toFixed(2)}`,
    )
  }
  lines.push('')
  lines.push(`load average at start ${out.loadavg.start}, at end ${loadavg()}`)
  console.log(lines.join('\n'))
}

async function main() {
  const mode = process.argv[2] ?? 'all'
  if (mode === 'client') {
    clientMain(process.argv[3])
    return new Promise(() => {}) // runs until the bench disconnects
  }
  if (!['all', 'sqlite', 'postgres', 'consumer'].includes(mode)) {
    console.error('usage: node bench/monitoring.js [all|sqlite|postgres|consumer]')
    return 2
  }
  watchdog(envInt('BENCH_TIMEOUT_S', 3600), hygiene)
  const n = envInt('BENCH_MON_EVENTS', 1_000_000)
  console.log(machineLine('monitoring'))
  if (mode === 'consumer') {
    const r = await consumerBackend(n)
    console.log(
      `METRICS CONSUMER  ${fmtNum(n)} events (30 days, 5 versions × 2 arms): ${r.seconds.toFixed(1)} s, ${fmtNum(n / r.seconds)} events/s, ${fmtNum(n / r.cpuSeconds)} events per CPU-second; load ${loadavg()}`,
    )
    return 0
  }
  const out = { loadavg: { start: loadavg() } }
  if (mode !== 'postgres') out.sqlite = await sqliteBackend(n)
  if (mode !== 'sqlite') out.postgres = await postgresBackend(n)
  report(out, n)
  out.loadavg.end = loadavg()
  if (process.env.BENCH_JSON === '1') console.log(JSON.stringify(out))
  const bad = ['sqlite', 'postgres'].some((k) => out[k]?.rounds.some((r) => r.agree.problems.length > 0))
  return bad ? 1 : 0
}

main().then(
  (code) => {
    hygiene.cleanupSync()
    process.exit(code)
  },
  (err) => {
    process.stderr.write(`bench:monitoring ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    hygiene.cleanupSync()
    process.exit(1)
  },
)
