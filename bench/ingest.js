#!/usr/bin/env node
// Ingest benchmark: end-to-end HTTP ingest against two raw ceilings, plus a point-lookup phase.
//
//   node bench/ingest.js            ingest (3 methods, interleaved rounds), then lookup
//   node bench/ingest.js ingest     ingest only
//   node bench/ingest.js lookup     lookup only (fills a store with BENCH_LOOKUP_EVENTS events)
//   node bench/ingest.js stages     in-process cost of each ingest stage, µs per event
//
// Environment (all optional):
//   BENCH_EVENTS=200000          events per method per round (rounded down to whole batches)
//   BENCH_BATCH=1000             events per request / per fdatasync / per transaction
//   BENCH_CLIENTS=3              concurrent HTTP clients (worker threads, one keep-alive connection each)
//   BENCH_ROUNDS=3               rounds; each round runs all three methods, order rotated; median reported
//   BENCH_SERVER_STDERR=1        print what the server wrote to stderr after each run
//   BENCH_THREADS=1              print every server thread's CPU and run-queue wait per event
//   BENCH_METHODS=http,http-off,file,sqlite  which ingest methods to run (e.g. only `http` while profiling);
//                                `http-off` is the same server with no commit-feed consumer (INFERLOG_CONSUMERS=none),
//                                `http-noop` with only the no-op consumer (INFERLOG_CONSUMERS=noop; not in the default set),
//                                `http-base-on` the BENCH_BASE_SCRIPT tree with its default consumers (not in the default set),
//                                `http-metrics` with only the metrics consumer (INFERLOG_CONSUMERS=metrics; not in the default set),
//                                `http-inline` with the default consumers on the event loop instead of their thread (INFERLOG_FEED_THREAD=false)
//                                `http-proc` with the default consumers in a niced child process (INFERLOG_FEED_PROCESS=true)
//                                `http-noyield` with the default consumers never yielding to a saturated ingest (INFERLOG_FEED_YIELD=off)
//                                `http-nice` with the consumers' thread at nice 10 instead of SCHED_IDLE (INFERLOG_FEED_IDLE=false)
//                                `http-pargc` / `http-off-pargc`: `http` / `http-off` with V8's parallel GC (node --no-single-threaded-gc),
//                                instead of the launcher's --single-threaded-gc that every other method runs with
//                                `http-nopretenure` / `http-off-nopretenure`: `http` / `http-off` without V8's allocation-site
//                                pretenuring (node --no-allocation-site-pretenuring; measured, not adopted: bench/README)
//   BENCH_WARMUP_BATCHES=4       untimed batches written first by every method (JIT, connections)
//   BENCH_SKIP_LOOKUP=1          skip the lookup phase in the default run
//   BENCH_LOOKUP_EVENTS=1000000  events in the lookup store
//   BENCH_LOOKUP_REQUESTS=20000  timed GET /v1/events/{id} requests
//   BENCH_SERVER_NODE_ARGS=...   extra node flags for the server child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   BENCH_SERVER_SCRIPT=path     another launcher taking the CLI's `serve --port 0 --data DIR` (A/B experiments)
//   BENCH_TIMEOUT_S=3600         watchdog: the whole run is killed (children included) after this long
//   BENCH_JSON=1                 also print one JSON line with every number at the end
//
// Plain ESM, no build step. Needs `npm run build` first (the root `npm run bench:ingest` does it).

import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { processCpuMs, spawnServer } from '@inferlog/testkit'
import Database from 'better-sqlite3'
import { prng } from './lib/bench-util.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SERVER_DIST = path.join(ROOT, 'packages', 'server', 'dist', 'index.js')

// ---------------------------------------------------------------------------------------------
// Small helpers shared by the main thread and the client workers
// ---------------------------------------------------------------------------------------------

function envInt(name, dflt, min = 1) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return dflt
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`)
  return n
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** One HTTP request over `agent`; resolves with status and the whole body. */
function request(agent, url, method, pathname, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = http.request(
      {
        agent,
        host: u.hostname,
        port: u.port,
        method,
        path: pathname,
        headers: body ? { ...headers, 'content-length': body.length } : headers,
      },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }))
        res.on('error', reject)
      },
    )
    req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${pathname}: no answer in 120 s`)))
    req.on('error', reject)
    req.end(body)
  })
}

const NDJSON = { 'content-type': 'application/x-ndjson' }

// ---------------------------------------------------------------------------------------------
// Worker thread: one HTTP ingest client
// ---------------------------------------------------------------------------------------------

async function runIngestClient() {
  const { url, sab, offsets, counterSab } = workerData
  const counter = new Int32Array(counterSab)
  const nBatches = offsets.length - 1
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const stats = { acked: 0, duplicates: 0, retries: 0, failedBatches: 0, lastError: null, requestMs: [] }
  try {
    // Open the keep-alive connection before the clock starts.
    const h = await request(agent, url, 'GET', '/healthz')
    if (h.status !== 200) throw new Error(`/healthz answered ${h.status}`)
    parentPort.postMessage({ type: 'ready' })
    await new Promise((resolve) => parentPort.once('message', resolve))
    for (;;) {
      const i = Atomics.add(counter, 0, 1)
      if (i >= nBatches) break
      const body = Buffer.from(sab, offsets[i], offsets[i + 1] - offsets[i])
      for (let attempt = 0; ; attempt++) {
        const t = performance.now()
        const res = await request(agent, url, 'POST', '/v1/events', body, NDJSON)
        stats.requestMs.push(performance.now() - t)
        if (res.status === 200) {
          const reply = JSON.parse(res.body.toString('utf8'))
          stats.acked += reply.accepted
          stats.duplicates += reply.duplicates
          break
        }
        if (res.status === 503 && attempt < 200) {
          stats.retries++
          await sleep(20)
          continue
        }
        stats.failedBatches++
        stats.lastError = `${res.status} ${res.body.toString('utf8').slice(0, 300)}`
        break
      }
    }
    parentPort.postMessage({ type: 'done', stats })
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) })
  } finally {
    agent.destroy()
  }
}

if (!isMainThread && workerData?.role === 'ingest-client') {
  await runIngestClient()
}

// ---------------------------------------------------------------------------------------------
// Realistic events (~1.2 KB of JSON each)
// ---------------------------------------------------------------------------------------------

const MODELS = [
  { name: 'fraud-scorer', versions: ['2026.03.1', '2026.03.2'], labels: ['legit', 'fraud'] },
  { name: 'churn-gbm', versions: ['4.1.0', '4.2.0-rc1'], labels: ['stay', 'churn'] },
  { name: 'credit-limit-xgb', versions: ['1.8.3'], labels: ['approve', 'review', 'decline'] },
]
const COUNTRIES = ['DE', 'FR', 'NL', 'ES', 'IT', 'PL', 'SE', 'US', 'GB', 'BR']
const CATEGORIES = ['5411', '5812', '5999', '4111', '5732', '7011', '5912', '4829']
const REASONS = ['amount_vs_avg', 'new_device', 'velocity_1h', 'geo_distance', 'merchant_risk', 'account_age', 'night_time']

function hex(rng, n) {
  let s = ''
  for (let i = 0; i < n; i++) s += ((rng() * 16) | 0).toString(16)
  return s
}
const round = (x, d) => Math.round(x * 10 ** d) / 10 ** d

/** One inference event as a client would send it, ~1.2 KB once serialized. */
function makeEvent(rng, tsMs) {
  const m = MODELS[(rng() * MODELS.length) | 0]
  const version = m.versions[(rng() * m.versions.length) | 0]
  const user = `u_${(rng() * 500_000) | 0}`
  const session = `s_${hex(rng, 16)}`
  const merchant = `m_${(rng() * 80_000) | 0}`
  const raw = m.labels.map(() => rng() + 0.01)
  const sum = raw.reduce((a, b) => a + b, 0)
  const scores = {}
  let best = 0
  m.labels.forEach((l, i) => {
    scores[l] = round(raw[i] / sum, 5)
    if (raw[i] > raw[best]) best = i
  })
  const pre = round(0.2 + rng() * 2, 3)
  const inference = round(1 + rng() * 12, 3)
  const post = round(0.1 + rng(), 3)
  return {
    id: randomUUID(),
    ts: new Date(tsMs).toISOString(),
    model: {
      name: m.name,
      version,
      digest: `sha256:${hex(rng, 64)}`,
      endpoint: `https://models.internal/${m.name}/v1/predict`,
      stage: 'primary',
      params: { threshold: round(0.5 + rng() * 0.4, 3), n_estimators: 400, max_depth: 8 },
    },
    input: {
      features: {
        amount: round(rng() * 900, 2),
        currency: 'EUR',
        merchant_category: CATEGORIES[(rng() * CATEGORIES.length) | 0],
        country: COUNTRIES[(rng() * COUNTRIES.length) | 0],
        card_present: rng() < 0.6,
        hour_of_day: (rng() * 24) | 0,
        txn_count_24h: (rng() * 12) | 0,
        avg_amount_30d: round(rng() * 400, 2),
        account_age_days: (rng() * 3000) | 0,
        device_trust: round(rng(), 4),
        velocity_1h: (rng() * 5) | 0,
        distance_km: round(rng() * 800, 1),
        email_domain_age_days: (rng() * 5000) | 0,
      },
    },
    output: {
      label: m.labels[best],
      score: scores[m.labels[best]],
      scores,
      top_reasons: [REASONS[(rng() * REASONS.length) | 0], REASONS[(rng() * REASONS.length) | 0]],
    },
    latency_ms: { total: round(pre + inference + post, 3), pre, inference, post },
    trace: { trace_id: hex(rng, 32), span_id: hex(rng, 16), session_id: session, user_id: user },
    context: {
      entities: { user_id: user, merchant_id: merchant, card_id: `c_${hex(rng, 12)}` },
      feature_pipeline: 'features-v12',
      experiment: { name: 'threshold-2026q1', arm: rng() < 0.5 ? 'control' : 'treatment' },
      tags: { region: 'eu-west-1', channel: rng() < 0.7 ? 'web' : 'app' },
    },
    status: 'ok',
  }
}

/** Recursively key-sorted copy (JSON.stringify of it is canonical enough for filler). */
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v === null || typeof v !== 'object') return v
  const o = {}
  for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k])
  return o
}

/**
 * Builds `nBatches` NDJSON batches. Bytes go into one SharedArrayBuffer so client workers read
 * them without copies; the parsed columns are kept for the bare-SQLite ceiling.
 */
function buildBatches(nBatches, batchSize, seed) {
  const rng = prng(seed)
  const t0 = Date.UTC(2026, 2, 1)
  const rows = new Array(nBatches * batchSize)
  const lineBufs = []
  let total = 0
  for (let i = 0; i < rows.length; i++) {
    const tsMs = t0 + i * 37
    const e = makeEvent(rng, tsMs)
    const line = JSON.stringify(e)
    rows[i] = { id: e.id, tsMs, model: e.model.name, version: e.model.version, line }
    const b = Buffer.from(line + '\n')
    lineBufs.push(b)
    total += b.length
  }
  const sab = new SharedArrayBuffer(total)
  const all = Buffer.from(sab)
  const offsets = new Array(nBatches + 1)
  let pos = 0
  for (let i = 0; i < rows.length; i++) {
    if (i % batchSize === 0) offsets[i / batchSize] = pos
    lineBufs[i].copy(all, pos)
    pos += lineBufs[i].length
  }
  offsets[nBatches] = pos
  return {
    sab,
    offsets,
    rows,
    batchSize,
    nBatches,
    bytes: total,
    batch: (i) => Buffer.from(sab, offsets[i], offsets[i + 1] - offsets[i]),
    batchRows: (i) => rows.slice(i * batchSize, (i + 1) * batchSize),
  }
}

// ---------------------------------------------------------------------------------------------
// Process hygiene: temp dirs, child processes, watchdog
// ---------------------------------------------------------------------------------------------

const children = new Set()
let tmpRoot

function tmpDir(name) {
  tmpRoot ??= fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-bench-'))
  const d = path.join(tmpRoot, `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`)
  fs.mkdirSync(d, { recursive: true })
  return d
}

function rmrf(d) {
  try {
    fs.rmSync(d, { recursive: true, force: true })
  } catch {
    // best effort
  }
}

function cleanupSync() {
  for (const c of children) {
    try {
      c.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  children.clear()
  if (tmpRoot) rmrf(tmpRoot)
  tmpRoot = undefined
}

if (isMainThread && process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.on('exit', cleanupSync)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`bench: ${sig}, stopping\n`)
      cleanupSync()
      process.exit(130)
    })
  }
}

/** Starts `inferlog serve --port 0 --data DIR` as a child process; resolves once it printed its URL. */
async function startServerChild(dataDir, env = {}, script = process.env.BENCH_SERVER_SCRIPT, nodeArgs = []) {
  // spawnServer puts the launcher's own flags (SERVER_NODE_ARGS: --single-threaded-gc) first.
  const srv = await spawnServer(['--data', dataDir], {
    env,
    nodeArgs: [...nodeArgs, ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)],
    // A graceful stop (SIGTERM) drains the write queue, closes the store and writes --cpu-prof.
    ...(script ? { script: path.resolve(script) } : {}),
    stderrLimit: 8000,
    // Loading the CLI took over 30 s with load average 13 on this 2-core box.
    startTimeoutMs: 120_000,
  })
  children.add(srv.child)
  void srv.exited.then(() => children.delete(srv.child))
  return srv
}

// ---------------------------------------------------------------------------------------------
// Ingest: the three methods
// ---------------------------------------------------------------------------------------------

/** CPU seconds (user + system, all threads) a process used so far; NaN off Linux. */
function procCpuSeconds(pid) {
  const ms = processCpuMs(pid)
  return ms > 0 ? ms / 1000 : Number.NaN
}

/**
 * CPU ms (user + system) and nice value of each thread of a process so far, by thread id
 * (`/proc/PID/task`); empty off Linux. The main thread's id is the process id.
 */
function threadCpuMs(pid) {
  const out = new Map()
  let tids = []
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  const tick = 1000 / 100 // USER_HZ
  for (const tid of tids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
      let waitMs = 0
      try {
        waitMs = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6
      } catch {
        // no schedstat on this kernel
      }
      out.set(Number(tid), { ms: (Number(f[11]) + Number(f[12])) * tick, nice: Number(f[16]), waitMs })
    } catch {
      // the thread ended
    }
  }
  return out
}

/**
 * CPU ms between two {@link threadCpuMs} snapshots of the server: its main thread, its busiest
 * other thread at normal priority (the SQLite writer, during ingest), its threads at a lower
 * priority (the commit feed's thread, nice 10 by default) and the rest (WAL checkpoints, V8's
 * helpers…).
 */
function threadSplit(pid, before, after) {
  let main = 0
  let other = 0
  let niced = 0
  let all = 0
  for (const [tid, t] of after) {
    const d = t.ms - (before.get(tid)?.ms ?? 0)
    all += d
    if (tid === pid) main = d
    else if (t.nice > 0) niced += d
    else other = Math.max(other, d)
  }
  return { main, busiest: other, niced, rest: all - main - other - niced }
}

/**
 * BENCH_THREADS=1: each thread's CPU per event and its run-queue wait per event (time it was
 * ready but another thread had the core, from /proc/PID/task/TID/schedstat), busiest first; a
 * thread is named by its id minus the process id, with its nice value.
 */
function printThreads(pid, before, after, acked) {
  const rows = []
  for (const [tid, t] of after) {
    const d = t.ms - (before.get(tid)?.ms ?? 0)
    const w = t.waitMs - (before.get(tid)?.waitMs ?? 0)
    if (d > 0)
      rows.push({
        d,
        text: `+${tid - pid}${t.nice ? `(n${t.nice})` : ''} ${((d * 1e3) / acked).toFixed(1)} w${((w * 1e3) / acked).toFixed(1)}`,
      })
  }
  rows.sort((a, b) => b.d - a.d)
  process.stderr.write(`bench: threads, CPU and run-queue wait µs/ev: ${rows.map((r) => r.text).join(', ')}\n`)
}

/** 1. End-to-end: real server child, `clients` worker threads posting NDJSON batches. */
async function runHttp(data, warm, clients, env = {}, script = undefined, nodeArgs = []) {
  const dir = tmpDir('http')
  const srv = await startServerChild(dir, env, script, nodeArgs)
  const workers = []
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    for (let i = 0; i < warm.nBatches; i++) {
      const r = await request(agent, srv.url, 'POST', '/v1/events', warm.batch(i), NDJSON)
      if (r.status !== 200) throw new Error(`warm-up batch answered ${r.status}: ${r.body.toString().slice(0, 300)}`)
    }
    agent.destroy()

    const counterSab = new SharedArrayBuffer(4)
    const msgs = []
    for (let c = 0; c < clients; c++) {
      const w = new Worker(new URL(import.meta.url), {
        workerData: { role: 'ingest-client', url: srv.url, sab: data.sab, offsets: data.offsets, counterSab },
      })
      const d = deferreds()
      w.on('message', (m) => {
        if (m.type === 'ready') d.ready.resolve()
        else if (m.type === 'done') d.done.resolve(m.stats)
        else d.fail(new Error(`client ${c}: ${m.message}`))
      })
      w.once('error', (e) => d.fail(e))
      w.once('exit', (code) => d.fail(new Error(`client ${c} exited early (${code})`)))
      workers.push(w)
      msgs.push({ ready: d.ready.promise, done: d.done.promise })
    }
    await Promise.all(msgs.map((m) => m.ready))
    const serverCpu0 = procCpuSeconds(srv.child.pid)
    const threads0 = threadCpuMs(srv.child.pid)
    const benchCpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (const w of workers) w.postMessage('go')
    const stats = await Promise.all(msgs.map((m) => m.done))
    const seconds = (performance.now() - t0) / 1000
    const serverCpu = procCpuSeconds(srv.child.pid) - serverCpu0
    const threads1 = threadCpuMs(srv.child.pid)
    const threads = threadSplit(srv.child.pid, threads0, threads1)
    if (process.env.BENCH_THREADS === '1')
      printThreads(
        srv.child.pid,
        threads0,
        threads1,
        stats.reduce((a, s) => a + s.acked, 0),
      )
    const bc = process.cpuUsage(benchCpu0)
    const benchCpu = (bc.user + bc.system) / 1e6

    const acked = stats.reduce((a, s) => a + s.acked, 0)
    const failed = stats.reduce((a, s) => a + s.failedBatches, 0)
    const retries = stats.reduce((a, s) => a + s.retries, 0)
    const reqMs = stats.flatMap((s) => s.requestMs).sort((a, b) => a - b)
    if (failed > 0) {
      const err = stats.find((s) => s.lastError)?.lastError
      process.stderr.write(`bench: ${failed} HTTP batches failed; last error: ${err}\n`)
    }
    // Peak resident memory of the server so far (VmHWM), MB; NaN off Linux.
    let peakRssMb = Number.NaN
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${srv.child.pid}/status`, 'utf8'))
      if (m) peakRssMb = Number(m[1]) / 1024
    } catch {
      // gone or not Linux
    }
    const exit = await srv.stop()
    if (process.env.BENCH_SERVER_STDERR === '1') process.stderr.write(`bench: server stderr: ${srv.stderr()}\n`)
    if (exit.code !== 0) process.stderr.write(`bench: server exited with ${exit.code ?? exit.signal}; stderr: ${srv.stderr()}\n`)
    // Cross-check: what the server acknowledged is what the file holds.
    const db = new Database(path.join(dir, 'inferlog.db'), { readonly: true })
    const stored = db.prepare('SELECT count(*) FROM events').pluck().get()
    db.close()
    const expected = acked + warm.nBatches * warm.batchSize
    if (stored !== expected) throw new Error(`server acknowledged ${expected} events but stored ${stored}`)
    return {
      events: acked,
      seconds,
      evps: acked / seconds,
      serverCpuUsPerEvent: (serverCpu * 1e6) / acked,
      // The main thread, and the busiest other one (the SQLite writer thread, embedded).
      mainThreadUsPerEvent: (threads.main * 1e3) / acked,
      busiestThreadUsPerEvent: (threads.busiest * 1e3) / acked,
      nicedThreadsUsPerEvent: (threads.niced * 1e3) / acked,
      serverCores: serverCpu / seconds,
      clientCpuUsPerEvent: (benchCpu * 1e6) / acked,
      extra:
        `retries=${retries} failed_batches=${failed} req p50=${pct(reqMs, 0.5).toFixed(0)}ms p99=${pct(reqMs, 0.99).toFixed(0)}ms server peak RSS ${peakRssMb.toFixed(0)} MB ` +
        `cpu: server ${((serverCpu * 1e6) / acked).toFixed(1)} µs/ev (${(serverCpu / seconds).toFixed(2)} cores; main thread ${((threads.main * 1e3) / acked).toFixed(1)}, busiest other ${((threads.busiest * 1e3) / acked).toFixed(1)}, niced ${((threads.niced * 1e3) / acked).toFixed(1)}, the rest ${((threads.rest * 1e3) / acked).toFixed(1)}), clients ${((benchCpu * 1e6) / acked).toFixed(1)} µs/ev (${(benchCpu / seconds).toFixed(2)} cores)`,
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
    await srv.stop()
    rmrf(dir)
  }
}

/** Two promises (ready, done) a failure rejects together; settling twice is a no-op. */
function deferreds() {
  const mk = () => {
    const x = {}
    x.promise = new Promise((resolve, reject) => Object.assign(x, { resolve, reject }))
    x.promise.catch(() => undefined)
    return x
  }
  const ready = mk()
  const done = mk()
  return { ready, done, fail: (e) => (ready.reject(e), done.reject(e)) }
}

/** CPU used by this process since `c0`, per event and in cores. */
function cpuNote(c0, events, seconds) {
  const c = process.cpuUsage(c0)
  const cpu = (c.user + c.system) / 1e6
  return `cpu: ${((cpu * 1e6) / events).toFixed(1)} µs/ev (${(cpu / seconds).toFixed(2)} cores)`
}

function writeAll(fd, buf) {
  let off = 0
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off)
}

/** 2. Raw ceiling A: append each NDJSON batch to a file, one fdatasync per batch. */
function runFile(data, warm) {
  const dir = tmpDir('file')
  try {
    const fd = fs.openSync(path.join(dir, 'events.ndjson'), 'a')
    try {
      for (let i = 0; i < warm.nBatches; i++) {
        writeAll(fd, warm.batch(i))
        fs.fdatasyncSync(fd)
      }
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < data.nBatches; i++) {
        writeAll(fd, data.batch(i))
        fs.fdatasyncSync(fd)
      }
      const seconds = (performance.now() - t0) / 1000
      const events = data.nBatches * data.batchSize
      return { events, seconds, evps: events / seconds, extra: cpuNote(c0, events, seconds) }
    } finally {
      fs.closeSync(fd)
    }
  } finally {
    rmrf(dir)
  }
}

/**
 * Ceiling B, the one definition both the ingest rounds and the stages mode use: table
 * `events(id TEXT PRIMARY KEY, ts_ms, model, version, payload)`, WAL, synchronous=FULL, 64 MiB
 * cache; `tx(rows)` inserts one batch in one transaction.
 */
function openBareCeiling(file) {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('cache_size = -65536')
  db.exec(
    'CREATE TABLE events (id TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL, payload TEXT NOT NULL)',
  )
  const ins = db.prepare('INSERT INTO events (id, ts_ms, model, version, payload) VALUES (?, ?, ?, ?, ?)')
  const tx = db.transaction((rows) => {
    for (const r of rows) ins.run(r.id, r.tsMs, r.model, r.version, r.line)
  })
  return { db, tx }
}

/**
 * 3. Raw ceiling B: bare better-sqlite3, `id TEXT PRIMARY KEY` + ts/model/version + JSON payload,
 * WAL, synchronous=FULL, one transaction per batch. Rows are pre-extracted (no parsing timed).
 * Cache size matches the server's store (64 MiB) so the ceiling is not handicapped.
 */
function runBareSqlite(data, warm) {
  const dir = tmpDir('sqlite')
  try {
    const { db, tx } = openBareCeiling(path.join(dir, 'bare.db'))
    try {
      for (let i = 0; i < warm.nBatches; i++) tx.immediate(warm.batchRows(i))
      const batches = Array.from({ length: data.nBatches }, (_, i) => data.batchRows(i))
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      for (const rows of batches) tx.immediate(rows)
      const seconds = (performance.now() - t0) / 1000
      const events = data.nBatches * data.batchSize
      const extra = cpuNote(c0, events, seconds)
      const stored = db.prepare('SELECT count(*) FROM events').pluck().get()
      if (stored !== events + warm.nBatches * warm.batchSize) throw new Error(`bare sqlite stored ${stored} rows`)
      return { events, seconds, evps: events / seconds, extra }
    } finally {
      db.close()
    }
  } finally {
    rmrf(dir)
  }
}

function pct(sorted, q) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const fmt = (n) => Math.round(n).toLocaleString('en-US')
const pad = (s, n) => String(s).padEnd(n)
const lpad = (s, n) => String(s).padStart(n)

async function ingestPhase() {
  const batchSize = envInt('BENCH_BATCH', 1000)
  const nBatches = Math.max(1, Math.floor(envInt('BENCH_EVENTS', 200_000) / batchSize))
  const clients = envInt('BENCH_CLIENTS', 3)
  const rounds = envInt('BENCH_ROUNDS', 3)
  const warmBatches = envInt('BENCH_WARMUP_BATCHES', 4, 0)

  process.stderr.write(`bench: building ${fmt(nBatches * batchSize)} events…\n`)
  const data = buildBatches(nBatches, batchSize, 42)
  const warm = buildBatches(warmBatches, batchSize, 7)
  const avgBytes = data.bytes / (nBatches * batchSize)
  const mb = data.bytes / 1e6

  const methods = [
    { key: 'http', label: `HTTP end-to-end (${clients} clients)`, run: () => runHttp(data, warm, clients) },
    {
      key: 'http-off',
      label: '  same, no feed consumers',
      run: () => runHttp(data, warm, clients, { INFERLOG_CONSUMERS: 'none' }),
    },
    {
      key: 'http-noop',
      label: '  same, one no-op consumer',
      run: () => runHttp(data, warm, clients, { INFERLOG_CONSUMERS: 'noop' }),
    },
    {
      key: 'http-metrics',
      label: '  same, metrics consumer only',
      run: () => runHttp(data, warm, clients, { INFERLOG_CONSUMERS: 'metrics' }),
    },
    {
      key: 'http-noyield',
      label: '  same, consumers never yield to ingest',
      run: () => runHttp(data, warm, clients, { INFERLOG_FEED_YIELD: 'off' }),
    },
    {
      key: 'http-nice',
      label: '  same, consumer thread at nice 10, not SCHED_IDLE',
      run: () => runHttp(data, warm, clients, { INFERLOG_FEED_IDLE: 'false' }),
    },
    {
      // V8's default GC (helper threads shared by every heap), not the launcher's --single-threaded-gc.
      key: 'http-pargc',
      label: '  same, parallel GC (--no-single-threaded-gc)',
      run: () => runHttp(data, warm, clients, {}, undefined, ['--no-single-threaded-gc']),
    },
    {
      key: 'http-off-pargc',
      label: '  same, no consumers, parallel GC',
      run: () => runHttp(data, warm, clients, { INFERLOG_CONSUMERS: 'none' }, undefined, ['--no-single-threaded-gc']),
    },
    {
      // Without V8's allocation-site pretenuring (sites whose objects outlive young collections allocate old).
      key: 'http-nopretenure',
      label: '  same, --no-allocation-site-pretenuring',
      run: () => runHttp(data, warm, clients, {}, undefined, ['--no-allocation-site-pretenuring']),
    },
    {
      key: 'http-off-nopretenure',
      label: '  same, no consumers, --no-allocation-site-pretenuring',
      run: () => runHttp(data, warm, clients, { INFERLOG_CONSUMERS: 'none' }, undefined, ['--no-allocation-site-pretenuring']),
    },
    {
      key: 'http-proc',
      label: '  same, consumers in a child process',
      run: () => runHttp(data, warm, clients, { INFERLOG_FEED_PROCESS: 'true' }),
    },
    {
      key: 'http-inline',
      label: '  same, consumers on the event loop',
      run: () => runHttp(data, warm, clients, { INFERLOG_FEED_THREAD: 'false' }),
    },
    {
      // Another checkout's CLI (BENCH_BASE_SCRIPT=/path/to/old/packages/cli/bin/inferlog.js, built),
      // run the same way: "did this tree regress ingest?" answered in one run, on the same load.
      key: 'http-base',
      label: '  baseline tree, no feed consumers',
      run: () => {
        if (!process.env.BENCH_BASE_SCRIPT)
          throw new Error("http-base needs BENCH_BASE_SCRIPT (the older tree's packages/cli/bin/inferlog.js)")
        return runHttp(data, warm, clients, { INFERLOG_CONSUMERS: 'none' }, process.env.BENCH_BASE_SCRIPT)
      },
    },
    {
      // The same baseline tree with its default consumers: compares two trees' aggregation cost.
      key: 'http-base-on',
      label: '  baseline tree, default consumers',
      run: () => {
        if (!process.env.BENCH_BASE_SCRIPT)
          throw new Error("http-base-on needs BENCH_BASE_SCRIPT (the older tree's packages/cli/bin/inferlog.js)")
        return runHttp(data, warm, clients, {}, process.env.BENCH_BASE_SCRIPT)
      },
    },
    { key: 'file', label: 'raw file, fdatasync per batch', run: async () => runFile(data, warm) },
    { key: 'sqlite', label: 'bare better-sqlite3, tx per batch', run: async () => runBareSqlite(data, warm) },
  ]
  const only = (process.env.BENCH_METHODS ?? 'http,http-off,file,sqlite').split(',').map((x) => x.trim())
  for (let i = methods.length - 1; i >= 0; i--) if (!only.includes(methods[i].key)) methods.splice(i, 1)
  if (methods.length === 0)
    throw new Error(
      'BENCH_METHODS names none of http, http-off, http-noop, http-noyield, http-metrics, http-nice, http-pargc, http-off-pargc, http-nopretenure, http-off-nopretenure, http-proc, http-inline, http-base, http-base-on, file, sqlite',
    )
  const results = Object.fromEntries(methods.map((m) => [m.key, []]))
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round so slow drift on a shared box hits every method alike.
    const order = methods.map((_, i) => methods[(i + r) % methods.length])
    for (const m of order) {
      const res = await m.run()
      results[m.key].push(res)
      process.stderr.write(
        `bench: round ${r + 1}/${rounds} ${pad(m.key, 6)} ${lpad(fmt(res.evps), 9)} ev/s  (${res.events} events in ${res.seconds.toFixed(2)} s) ${res.extra}\n`,
      )
    }
  }

  const med = Object.fromEntries(methods.map((m) => [m.key, median(results[m.key].map((x) => x.evps))]))
  const ratio = med.http / med.sqlite // NaN when a method was left out
  const lines = []
  lines.push('')
  lines.push(
    `INGEST  ${fmt(nBatches * batchSize)} events/method/round · ${batchSize}/batch · ${avgBytes.toFixed(0)} B/event (${mb.toFixed(0)} MB) · ${rounds} rounds · ${os.cpus().length} CPUs · node ${process.version}`,
  )
  const head = `${pad('method', 36)}${Array.from({ length: rounds }, (_, i) => lpad(`round ${i + 1}`, 11)).join('')}${lpad('median ev/s', 13)}${lpad('MB/s', 8)}`
  lines.push(head)
  lines.push('-'.repeat(head.length))
  for (const m of methods) {
    const rs = results[m.key].map((x) => lpad(fmt(x.evps), 11)).join('')
    lines.push(`${pad(m.label, 36)}${rs}${lpad(fmt(med[m.key]), 13)}${lpad(((med[m.key] * avgBytes) / 1e6).toFixed(1), 8)}`)
  }
  lines.push('')
  // Server CPU per event is steadier than throughput on a shared box: other work slows a server
  // down but hardly changes what each event costs it.
  for (const m of methods) {
    const cpu = median(results[m.key].map((x) => x.serverCpuUsPerEvent ?? Number.NaN))
    const cores = median(results[m.key].map((x) => x.serverCores ?? Number.NaN))
    if (Number.isFinite(cpu))
      lines.push(
        `server CPU, ${pad(`${m.key} (median)`, 20)} ${cpu.toFixed(1)} µs per event, ${cores.toFixed(2)} cores busy of ${os.cpus().length}`,
      )
  }
  if (med.http && med.sqlite)
    lines.push(`ratio end-to-end / bare-sqlite   ${ratio.toFixed(2)}   (target >= 0.60: ${ratio >= 0.6 ? 'MET' : 'NOT MET'})`)
  if (med.http && med.file) lines.push(`ratio end-to-end / raw file      ${(med.http / med.file).toFixed(2)}`)
  if (med.sqlite && med.file) lines.push(`ratio bare-sqlite / raw file     ${(med.sqlite / med.file).toFixed(2)}`)
  // Paired ratios: the two servers of one round ran back to back, so their ratio drifts less than
  // either rate on a shared box. Median of the rounds, with their range.
  const paired = (a, b) => {
    const rs = results[a].map((x, i) => x.evps / results[b][i].evps).sort((p, q) => p - q)
    return { median: median(rs), min: rs[0], max: rs[rs.length - 1], ofMedians: med[a] / med[b] }
  }
  const ratios = {}
  for (const [a, b, label, target] of [
    ['http', 'http-off', 'ratio aggregation on / off      ', 0.85],
    ['http-noop', 'http-off', 'ratio one no-op consumer / none ', 0.9],
    ['http-metrics', 'http-off', 'ratio metrics consumer / none   ', 0.85],
    ['http-noyield', 'http-off', 'ratio never yielding / none     ', 0.85],
    ['http-nice', 'http-off', 'ratio thread at nice 10 / none  ', 0.85],
    ['http-pargc', 'http-off-pargc', 'ratio on / off, parallel GC     ', 0.85],
    ['http-off', 'http-off-pargc', 'ratio off: single / parallel GC ', 1],
    ['http-nopretenure', 'http-off-nopretenure', 'ratio on / off, no pretenuring  ', 0.85],
    ['http-nopretenure', 'http', 'ratio on: no pretenuring / V8   ', 1],
    ['http-off-nopretenure', 'http-off', 'ratio off: no pretenuring / V8  ', 1],
    ['http-proc', 'http-off', 'ratio consumers process / none  ', 0.85],
    ['http-inline', 'http-off', 'ratio consumers inline / none   ', 0.85],
    ['http-off', 'http-base', 'ratio this tree / baseline tree  ', 0.95],
    ['http-base-on', 'http-off', 'ratio baseline tree on / off   ', 0.85],
    ['http', 'http-base-on', 'ratio on: this tree / baseline  ', 1],
  ]) {
    if (!med[a] || !med[b]) continue
    const r = paired(a, b)
    ratios[`${a}/${b}`] = r
    lines.push(
      `${label}${r.median.toFixed(2)}   per round ${r.min.toFixed(2)}–${r.max.toFixed(2)}, of medians ${r.ofMedians.toFixed(2)}   (target >= ${target}: ${r.median >= target ? 'MET' : 'NOT MET'})`,
    )
  }
  console.log(lines.join('\n'))
  return {
    events: nBatches * batchSize,
    batchSize,
    bytesPerEvent: avgBytes,
    clients,
    rounds,
    evps: Object.fromEntries(methods.map((m) => [m.key, results[m.key].map((x) => Math.round(x.evps))])),
    median: Object.fromEntries(Object.entries(med).map(([k, v]) => [k, Math.round(v)])),
    ratioHttpToSqlite: Number(ratio.toFixed(3)),
    ratioHttpToFile: Number((med.http / med.file).toFixed(3)),
    ratios,
  }
}

// ---------------------------------------------------------------------------------------------
// Lookup: GET /v1/events/{id} on a store of 1M events
// ---------------------------------------------------------------------------------------------

async function lookupPhase() {
  const total = envInt('BENCH_LOOKUP_EVENTS', 1_000_000)
  const nReq = envInt('BENCH_LOOKUP_REQUESTS', 20_000)
  const fillBatch = 10_000
  const { SqliteStore } = await import(SERVER_DIST)
  const dir = tmpDir('lookup')
  try {
    // Fill through the store port directly: same schema and indexes as the server, no HTTP.
    // No background look-up indexing during the fill; it is done once at the end (below), so the
    // server starts on a store in steady state instead of indexing 1M rows while being measured.
    const store = new SqliteStore({ filename: path.join(dir, 'inferlog.db'), synchronous: 'OFF', lookupIndexIntervalMs: 0 })
    await store.migrate()
    const ids = new Array(total)
    const rng = prng(1234)
    const start = Date.UTC(2026, 0, 1)
    const t0 = performance.now()
    let lastReport = t0
    for (let done = 0; done < total; ) {
      const n = Math.min(fillBatch, total - done)
      const receivedMs = Date.now()
      const events = new Array(n)
      for (let j = 0; j < n; j++) {
        const tsMs = start + (done + j) * 50
        const e = makeEvent(rng, tsMs)
        ids[done + j] = e.id
        events[j] = {
          project: 'default',
          id: e.id,
          tsMs,
          receivedMs,
          model: e.model.name,
          version: e.model.version,
          stage: 'primary',
          status: 'ok',
          sessionId: e.trace.session_id,
          userId: e.trace.user_id,
          arm: e.context.experiment.arm,
          shadowOf: null,
          body: JSON.stringify(sortKeys(e)),
        }
      }
      const res = await store.writeBatch({ events, feedback: [] })
      if (res.events.some((o) => o !== 'inserted')) throw new Error('fill: an event was not inserted')
      done += n
      if (performance.now() - lastReport > 10_000 || done === total) {
        lastReport = performance.now()
        process.stderr.write(`bench: lookup fill ${fmt(done)}/${fmt(total)} (${fmt(done / ((lastReport - t0) / 1000))} ev/s)\n`)
      }
    }
    const fillSeconds = (performance.now() - t0) / 1000
    if (typeof store.indexLookups === 'function') {
      const ti = performance.now()
      while (store.indexLookups(100_000) > 0);
      process.stderr.write(`bench: lookup fill: look-up keys indexed in ${((performance.now() - ti) / 1000).toFixed(1)} s\n`)
    }
    await store.close()
    const dbBytes = fs.statSync(path.join(dir, 'inferlog.db')).size

    const srv = await startServerChild(dir)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const lat = new Float64Array(nReq)
    let errors = 0
    let mismatches = 0
    let seconds = 0
    try {
      const pick = prng(99)
      const warmN = Math.min(2000, nReq)
      for (let i = 0; i < warmN; i++) {
        const r = await request(agent, srv.url, 'GET', `/v1/events/${ids[(pick() * total) | 0]}`)
        if (r.status !== 200) throw new Error(`warm-up lookup answered ${r.status}: ${r.body.toString().slice(0, 300)}`)
      }
      const sample = Array.from({ length: nReq }, () => ids[(pick() * total) | 0])
      const ts = performance.now()
      for (let i = 0; i < nReq; i++) {
        const t = performance.now()
        const r = await request(agent, srv.url, 'GET', `/v1/events/${sample[i]}`)
        lat[i] = performance.now() - t
        if (r.status !== 200) errors++
        else if (i % 100 === 0 && JSON.parse(r.body.toString('utf8')).event?.id !== sample[i]) mismatches++
      }
      seconds = (performance.now() - ts) / 1000
    } finally {
      agent.destroy()
      await srv.stop()
    }
    const s = Array.from(lat).sort((a, b) => a - b)
    const p = { p50: pct(s, 0.5), p95: pct(s, 0.95), p99: pct(s, 0.99), max: s[s.length - 1] }
    const mean = s.reduce((a, b) => a + b, 0) / s.length
    const lines = []
    lines.push('')
    lines.push(
      `LOOKUP  GET /v1/events/{id} · ${fmt(total)} events in store (${(dbBytes / 1e9).toFixed(2)} GB; filled in ${fillSeconds.toFixed(0)} s = ${fmt(total / fillSeconds)} ev/s via SqliteStore.writeBatch) · ${fmt(nReq)} random ids · 1 sequential keep-alive client`,
    )
    lines.push(
      `p50 ${p.p50.toFixed(3)} ms   p95 ${p.p95.toFixed(3)} ms   p99 ${p.p99.toFixed(3)} ms   max ${p.max.toFixed(3)} ms   mean ${mean.toFixed(3)} ms   (${fmt(nReq / seconds)} req/s)`,
    )
    lines.push(`p99 target <= 2 ms: ${p.p99 <= 2 ? 'MET' : 'NOT MET'}   errors=${errors} body-mismatches=${mismatches}`)
    console.log(lines.join('\n'))
    if (errors || mismatches) process.exitCode = 1
    return {
      events: total,
      requests: nReq,
      dbBytes,
      fillEvps: Math.round(total / fillSeconds),
      ms: Object.fromEntries(Object.entries({ ...p, mean }).map(([k, v]) => [k, Number(v.toFixed(3))])),
      errors,
      mismatches,
    }
  } finally {
    rmrf(dir)
  }
}

// ---------------------------------------------------------------------------------------------
// Stages: where a 1000-event batch spends its time inside the server (in-process, no HTTP)
// ---------------------------------------------------------------------------------------------

async function stagesPhase() {
  const batchSize = envInt('BENCH_BATCH', 1000)
  const iters = envInt('BENCH_STAGE_ITERS', 30)
  const server = await import(SERVER_DIST)
  const { createValidator } = await import('@inferlog/schema/validate')
  const { default: canonicalize } = await import('canonicalize')
  // Not part of the package's public API; the stage exists only while the module does.
  const prepare = await import(path.join(ROOT, 'packages/server/dist/ingest/prepare-items.js')).catch(() => undefined)
  const data = buildBatches(iters + 3, batchSize, 4242) // 3 warm-ups + iters, each batch written once
  const body = data.batch(0)
  const maxItem = server.DEFAULT_LIMITS.maxEventBytes
  const validator = createValidator({ maxDepth: server.DEFAULT_LIMITS.maxDepth })
  const usPerEvent = (ms) => (ms * 1000) / batchSize
  const rows = []
  /** Runs `fn` `iters` times (after 3 warm-ups) and records the median in µs per event. */
  const time = async (group, label, fn, note = '') => {
    for (let i = 0; i < 3; i++) await fn(i)
    const ts = []
    for (let i = 0; i < iters; i++) {
      const t = performance.now()
      await fn(i)
      ts.push(performance.now() - t)
    }
    rows.push({ group, label, us: usPerEvent(median(ts)), note })
  }
  const lines = body.toString('utf8').split('\n').filter(Boolean)
  const parsed = server.parseNdjson(body, maxItem)
  const values = parsed.map((p) => p.value)
  const ctx = { project: 'default', receivedMs: Date.now(), maxItemBytes: maxItem, validator }

  await time('server', 'parseNdjson', () => server.parseNdjson(body, maxItem))
  await time('server', 'validator.event (depth + ajv), per item', () => {
    for (const v of values) if (validator.event(v)) throw new Error('bench event is invalid')
  })
  if (prepare?.prepareEvents) await time('server', 'prepareEvents (validate + body + record)', () => prepare.prepareEvents(parsed, ctx))
  const reply = { accepted: batchSize, duplicates: 0, ids: values.map((v) => v.id), rejected: [] }
  await time('server', 'reply JSON.stringify', () => JSON.stringify(reply))

  const dir = tmpDir('stages')
  try {
    // Store writes on the calling thread: fresh unique batches, one durable transaction each.
    const store = new server.SqliteStore({ filename: path.join(dir, 'store.db'), lookupIndexIntervalMs: 0 })
    await store.migrate()
    const recBatches = prepare?.prepareEvents
      ? Array.from({ length: data.nBatches }, (_, i) => ({
          events: prepare.prepareEvents(server.parseNdjson(data.batch(i), maxItem), ctx).records.map((r) => r.record),
          feedback: [],
        }))
      : undefined
    if (recBatches) {
      let k = 0
      await time('server', 'SqliteStore.writeBatch (inline, FULL)', () => store.writeBatch(recBatches[k++]), 'incl. fsync')
      if (typeof store.indexLookups === 'function') {
        const t = performance.now()
        const n = store.indexLookups(1_000_000)
        rows.push({
          group: 'server',
          label: 'SqliteStore.indexLookups (background)',
          us: ((performance.now() - t) * 1000) / n,
          note: `${n} rows, one pass`,
        })
      }
    }
    await store.close()

    // The whole pipeline in-process through Hono, on the store the server itself opens
    // (openStore): readBody → parse → prepare → write queue → store → reply. No sockets.
    const store2 = server.openStore(`sqlite:${path.join(dir, 'app.db')}`)
    await store2.migrate()
    const core = server.createApp({ store: store2, logger: { info() {}, warn() {}, error() {} } })
    const appBatches = buildBatches(iters + 3, batchSize, 777)
    // fetch's Request refuses SharedArrayBuffer views: copy once, outside the clock.
    const appBodies = Array.from({ length: appBatches.nBatches }, (_, i) => Buffer.from(appBatches.batch(i)))
    let a = 0
    const post = async (i) => {
      const res = await core.app.fetch(new Request('http://bench/v1/events', { method: 'POST', headers: NDJSON, body: appBodies[i] }))
      if (res.status !== 200) throw new Error(`app answered ${res.status}`)
      await res.arrayBuffer()
    }
    await time('server', 'app.fetch POST /v1/events, 1 at a time', () => post(a++), 'in-process, incl. fsync')
    // Three in flight, as the HTTP clients do: group commit can merge them.
    const more = buildBatches(3 * (iters + 3), batchSize, 778)
    const moreBodies = Array.from({ length: more.nBatches }, (_, i) => Buffer.from(more.batch(i)))
    let m = 0
    const t3 = async () => {
      await Promise.all(
        [0, 1, 2].map(() =>
          core.app
            .fetch(new Request('http://bench/v1/events', { method: 'POST', headers: NDJSON, body: moreBodies[m++] }))
            .then((r) => r.arrayBuffer()),
        ),
      )
    }
    for (let i = 0; i < 3; i++) await t3()
    const ts3 = []
    for (let i = 0; i < iters; i++) {
      const t = performance.now()
      await t3()
      ts3.push(performance.now() - t)
    }
    rows.push({
      group: 'server',
      label: 'app.fetch POST /v1/events, 3 in flight',
      us: usPerEvent(median(ts3)) / 3,
      note: 'in-process, incl. fsync',
    })
    await core.close()
    await store2.close()

    // References: what the raw operations cost on the same events.
    await time('reference', 'JSON.parse per line', () => {
      for (const l of lines) JSON.parse(l)
    })
    await time('reference', 'JSON.stringify per item', () => {
      for (const v of values) JSON.stringify(v)
    })
    await time('reference', 'canonicalize (RFC 8785) per item', () => {
      for (const v of values) canonicalize(v)
    })
    const { db, tx } = openBareCeiling(path.join(dir, 'bare.db'))
    let j = 0
    await time('reference', 'bare sqlite insert (ceiling B table, FULL)', () => tx.immediate(data.batchRows(j++)), 'incl. fsync')
    db.close()
  } finally {
    rmrf(dir)
  }

  const out = [
    '',
    `STAGES  median of ${iters} runs on ${batchSize}-event batches (${(data.bytes / data.rows.length).toFixed(0)} B/event), µs per event`,
  ]
  for (const g of ['server', 'reference']) {
    out.push(g === 'server' ? '-- server code (packages/server/dist) --' : '-- references --')
    for (const r of rows.filter((x) => x.group === g)) {
      out.push(`${pad(r.label, 48)}${lpad(r.us.toFixed(2), 8)} µs  ${lpad(fmt(1e6 / r.us), 10)} ev/s  ${r.note}`)
    }
  }
  console.log(out.join('\n'))
  return Object.fromEntries(rows.map((r) => [r.label, Number(r.us.toFixed(2))]))
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const mode = process.argv[2] ?? 'all'
  if (!['all', 'ingest', 'lookup', 'stages'].includes(mode)) {
    console.error('usage: node bench/ingest.js [all|ingest|lookup|stages]')
    return 2
  }
  if (!fs.existsSync(SERVER_DIST)) {
    console.error('bench: packages/server/dist is missing; run `npm run build` (or `npm run bench:ingest`)')
    return 2
  }
  const timeoutS = envInt('BENCH_TIMEOUT_S', 3600)
  setTimeout(() => {
    process.stderr.write(`bench: watchdog: still running after ${timeoutS} s, giving up\n`)
    cleanupSync()
    process.exit(1)
  }, timeoutS * 1000).unref()

  console.log(
    `inferlog ingest bench · ${new Date().toISOString()} · ${os.cpus().length}× ${os.cpus()[0]?.model ?? '?'} · ${os.platform()} ${os.release()}`,
  )
  const startLoad = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
  const summary = {}
  if (mode === 'all' || mode === 'ingest') summary.ingest = await ingestPhase()
  if (mode === 'stages') summary.stages = await stagesPhase()
  if (mode === 'lookup' || (mode === 'all' && process.env.BENCH_SKIP_LOOKUP !== '1')) summary.lookup = await lookupPhase()
  const endLoad = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
  console.log(
    `\nload average at start ${startLoad}, at end ${endLoad} (1/5/15 min; ${os.cpus().length} CPUs; other work on the box skews every number)`,
  )
  summary.loadavg = { start: startLoad, end: endLoad }
  if (process.env.BENCH_JSON === '1') console.log(JSON.stringify(summary))
  return process.exitCode ?? 0
}

// Run only as the entry script, so that other scripts can import the event generator.
const isEntry = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isMainThread && isEntry) {
  main().then(
    (code) => {
      cleanupSync()
      process.exit(code)
    },
    (err) => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      cleanupSync()
      process.exit(1)
    },
  )
}

export { buildBatches, cleanupSync, makeEvent, prng, runHttp, sortKeys }
