#!/usr/bin/env node
// Scale-out benchmark: the embedded single process (SQLite) against 1 collector + 1 worker and
// 2 collectors + 2 workers (collectors → NATS JetStream → workers → PostgreSQL), all in one run on
// this machine, plus end-to-end lag (client ack → visible in PostgreSQL) at half the 2 + 2 rate and
// bytes stored per event.
//
//   npm run bench:scale              (builds first)
//   BENCH_SECONDS=20 node bench/scale.js
//
// Environment (all optional):
//   BENCH_SECONDS=60        length of each throughput phase
//   BENCH_LAG_SECONDS=30    length of the lag phase (default: half of BENCH_SECONDS, at least 10)
//   BENCH_CLIENTS=8         concurrent HTTP clients (keep-alive) in throughput phases
//   BENCH_BATCH=1000        events per request in throughput phases
//   BENCH_PHASES=embedded,1+1,2+2,lag   which phases to run
//   BENCH_MAX_BACKLOG_BYTES=67108864  JetStream stream limit in the 1+1 / 2+2 phases (back-pressure)
//   BENCH_JSON=1            also print one JSON line with every number
//
// "Sustained" for the scale-out setups is the rate at which events became visible in PostgreSQL
// during the window: clients push as hard as they can, the bounded stream turns a backlog beyond
// its limit into 503s, so acknowledgements cannot run ahead of the workers for long.
//
// The benchmark starts its own nats-server (JetStream, file storage, temp dir) and its own
// PostgreSQL cluster (initdb in a temp dir; fsync and synchronous_commit on, the defaults), each on
// a free port, and removes them at the end. Events only (no feedback), ~400 bytes each, so bytes
// per event are a clean division. Plain ESM, no build step beyond the project's own.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { countStored, driveLoad, OwnNats, OwnPostgres, processCpuMs, spawnCli } from '@inferlog/testkit'
import pg from 'pg'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60)
const LAG_SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? Math.max(10, Math.round(SECONDS / 2)))
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8)
const BATCH = Number(process.env.BENCH_BATCH ?? 1000)
const PHASES = (process.env.BENCH_PHASES ?? 'embedded,1+1,2+2,lag').split(',')
const MAX_BACKLOG_BYTES = Number(process.env.BENCH_MAX_BACKLOG_BYTES ?? 64 * 1024 * 1024)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const log = (s) => process.stderr.write(`[bench:scale] ${s}\n`)

// ---------- services and processes (from @inferlog/testkit) ----------

const children = new Set()
let ownNats
function track(p) {
  children.add(p)
  void p.exited.then(() => children.delete(p))
  return p
}
process.on('exit', () => {
  for (const p of children) p.child.kill('SIGKILL')
  ownNats?.child?.kill('SIGKILL')
})
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1))

const startCli = async (args) => track(await spawnCli(args, { stderrLimit: 20_000 }))

// ---------- load ----------

/**
 * Clients send as fast as they are acknowledged (or paced to `rate` events/s) for `seconds`.
 * Resolves with the number of acknowledged events and requests refused (then retried).
 */
async function drive({ urls, seconds, clients, batch, prefix, rate, onAck }) {
  const r = await driveLoad({
    urls,
    run: prefix,
    seconds,
    clients,
    batch,
    rate,
    onAck,
    feedbackEvery: 0,
    track: false,
    retryAnyStatus: true,
    minRetryDelayMs: 100,
    maxRetryDelayMs: 100,
    retryForMs: (seconds + 30) * 1000,
  })
  return { acked: r.acked, refused: r.unavailable + r.refused + r.networkErrors, ms: r.elapsedMs }
}

async function pgCount(pgUrl, schema) {
  return (await countStored(pgUrl, schema)).events
}

async function pgBytes(pgUrl, schema) {
  const c = new pg.Client({ connectionString: pgUrl })
  await c.connect()
  try {
    await c.query(`CHECKPOINT`)
    const r = await c.query(
      `SELECT coalesce(sum(pg_total_relation_size(relid)), 0) AS b FROM pg_partition_tree('${schema}.events') WHERE isleaf`,
    )
    const ids = await c.query(`SELECT pg_total_relation_size('${schema}.event_ids') AS b`)
    return { events: Number(r.rows[0].b), ids: Number(ids.rows[0].b) }
  } finally {
    await c.end()
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

// ---------- CPU accounting (Linux /proc) ----------

/** Snapshot of CPU ms per component; subtract two to get what a phase used. */
function cpuSnapshot(parts) {
  const out = {}
  for (const [name, pids, tree] of parts) out[name] = pids.reduce((a, p) => a + processCpuMs(p, tree), 0)
  const u = process.cpuUsage()
  out['load generator'] = (u.user + u.system) / 1000
  return out
}

function cpuPerEvent(before, after, events) {
  const out = {}
  for (const k of Object.keys(after)) out[k] = Math.round(((after[k] - before[k]) * 1000) / events) // µs per event
  return out
}

// ---------- phases ----------

async function embeddedPhase(tmp) {
  const dir = path.join(tmp, 'embedded')
  const server = await startCli(['serve', '--port', '0', '--data', dir])
  try {
    log(`embedded: ${SECONDS}s at full speed, ${CLIENTS} clients × ${BATCH} events`)
    const parts = [['server', [server.pid]]]
    const before = cpuSnapshot(parts)
    const r = await drive({ urls: [server.first], seconds: SECONDS, clients: CLIENTS, batch: BATCH, prefix: 'emb' })
    const cpu = cpuPerEvent(before, cpuSnapshot(parts), r.acked)
    return { rate: Math.round(r.acked / (r.ms / 1000)), events: r.acked, refused: r.refused, dir, cpuUsPerEvent: cpu }
  } finally {
    await server.stop()
  }
}

async function sqliteBytesPerEvent(dir, events) {
  const { default: Database } = await import('better-sqlite3')
  const file = path.join(dir, 'inferlog.db')
  const db = new Database(file)
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  const size = fs.statSync(file).size + (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0)
  return size / events
}

async function scaleOutPhase(name, nCollectors, nWorkers, services) {
  const store = `${services.pg}?schema=${name}`
  // A bounded stream, as in production: once the backlog holds MAX_BACKLOG_BYTES the collectors
  // answer 503 and clients back off, so the acked rate settles at what the workers store.
  const queue = `${services.nats}?stream=${name.toUpperCase()}&max_bytes=${MAX_BACKLOG_BYTES}`
  const collectors = await Promise.all(
    Array.from({ length: nCollectors }, () => startCli(['serve', '--port', '0', '--store', store, '--queue', queue])),
  )
  const workers = await Promise.all(Array.from({ length: nWorkers }, () => startCli(['worker', '--store', store, '--queue', queue])))
  try {
    log(`${nCollectors}+${nWorkers}: ${SECONDS}s at full speed, ${CLIENTS} clients × ${BATCH} events`)
    const parts = [
      ['collectors', collectors.map((c) => c.pid)],
      ['workers', workers.map((w) => w.pid)],
      ['nats-server', [services.natsPid]],
      ['postgres', [services.pgPid()], true],
    ]
    const before = await pgCount(services.pg, name)
    const cpu0 = cpuSnapshot(parts)
    const r = await drive({ urls: collectors.map((c) => c.first), seconds: SECONDS, clients: CLIENTS, batch: BATCH, prefix: name })
    const storedInWindow = (await pgCount(services.pg, name)) - before
    // Drain: the backlog the workers had not written when the clients stopped.
    const t0 = Date.now()
    let stored = storedInWindow
    while (stored < r.acked && Date.now() - t0 < 300_000) {
      await sleep(200)
      stored = await pgCount(services.pg, name)
    }
    const drainMs = Date.now() - t0
    // CPU of the whole run (window and drain) per event stored.
    const cpuUsPerEvent = cpuPerEvent(cpu0, cpuSnapshot(parts), stored)
    return {
      cpuUsPerEvent,
      ackedRate: Math.round(r.acked / (r.ms / 1000)),
      storedRate: Math.round(storedInWindow / (r.ms / 1000)),
      endToEndRate: Math.round(r.acked / ((r.ms + drainMs) / 1000)),
      events: r.acked,
      backlogAtEnd: r.acked - storedInWindow,
      drainMs,
      refused: r.refused,
    }
  } finally {
    await Promise.all([...collectors, ...workers].map((p) => p.stop()))
  }
}

async function lagPhase(services, rate) {
  const name = 'lag'
  const store = `${services.pg}?schema=${name}`
  const queue = `${services.nats}?stream=LAG`
  const collectors = await Promise.all([0, 1].map(() => startCli(['serve', '--port', '0', '--store', store, '--queue', queue])))
  const workers = await Promise.all([0, 1].map(() => startCli(['worker', '--store', store, '--queue', queue])))
  const batch = Math.max(50, Math.min(BATCH, Math.round(rate / 40))) // ~40 requests/s: fine-grained samples
  const pending = new Map() // first id of a request → ack ms
  const lags = []
  let polling = true
  let stopAt = Infinity
  const c = new pg.Client({ connectionString: services.pg })
  await c.connect()
  // Visibility poller: which acknowledged requests can a reader see now?
  const poller = (async () => {
    while (polling || pending.size > 0) {
      if (pending.size > 0) {
        const ids = [...pending.keys()]
        const r = await c.query(`SELECT id FROM ${name}.event_ids WHERE project = 'default' AND id = ANY($1)`, [ids])
        const now = Date.now()
        for (const { id } of r.rows) {
          lags.push(now - pending.get(id))
          pending.delete(id)
        }
      }
      await sleep(5)
      if (!polling && lags.length > 0 && pending.size > 0 && Date.now() > stopAt + 30_000) break
    }
  })()
  try {
    log(`lag: ${LAG_SECONDS}s at ${rate} events/s (half the 2+2 sustained rate), 2+2, ${batch} events per request`)
    const r = await drive({
      urls: collectors.map((x) => x.first),
      seconds: LAG_SECONDS,
      clients: 4,
      batch,
      prefix: 'lag',
      rate,
      onAck: (id, ms) => pending.set(id, ms),
    })
    stopAt = Date.now()
    polling = false
    await poller
    lags.sort((a, b) => a - b)
    return {
      rate,
      achievedRate: Math.round(r.acked / (r.ms / 1000)),
      samples: lags.length,
      p50: percentile(lags, 50),
      p99: percentile(lags, 99),
      max: lags[lags.length - 1],
    }
  } finally {
    polling = false
    await c.end().catch(() => {})
    await Promise.all([...collectors, ...workers].map((p) => p.stop()))
  }
}

// ---------- main ----------

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-bench-scale-'))
  fs.chmodSync(tmp, 0o755)
  const out = { seconds: SECONDS, clients: CLIENTS, batch: BATCH, cpus: os.cpus().length }
  let nats
  let pgs
  try {
    if (PHASES.includes('embedded')) {
      const e = await embeddedPhase(tmp)
      out.embedded = {
        rate: e.rate,
        events: e.events,
        refused: e.refused,
        cpuUsPerEvent: e.cpuUsPerEvent,
        bytesPerEvent: Math.round(await sqliteBytesPerEvent(e.dir, e.events)),
      }
      log(`embedded: ${e.rate} events/s`)
    }
    if (PHASES.some((p) => p !== 'embedded')) {
      ;[nats, pgs] = await Promise.all([OwnNats.start(), OwnPostgres.start({ settings: { shared_buffers: '256MB', max_wal_size: '4GB' } })])
      ownNats = nats
      const services = { nats: nats.url, natsPid: nats.pid, pg: pgs.url, pgPid: () => pgs.pid }
      for (const [phase, nc, nw] of [
        ['1+1', 1, 1],
        ['2+2', 2, 2],
      ]) {
        if (!PHASES.includes(phase)) continue
        const name = phase === '1+1' ? 'one' : 'two'
        const r = await scaleOutPhase(name, nc, nw, services)
        const bytes = await pgBytes(pgs.url, name)
        r.bytesPerEvent = Math.round((bytes.events + bytes.ids) / r.events)
        r.bytesPerEventWithoutIdGate = Math.round(bytes.events / r.events)
        out[phase] = r
        log(
          `${phase}: acked ${r.ackedRate}/s, stored ${r.storedRate}/s during the window, backlog ${r.backlogAtEnd} drained in ${r.drainMs} ms`,
        )
      }
      if (PHASES.includes('lag')) {
        const base = out['2+2']?.storedRate ?? out['1+1']?.storedRate ?? 10_000
        out.lag = await lagPhase(services, Math.max(100, Math.round(base / 2)))
        log(`lag: p50 ${out.lag.p50} ms, p99 ${out.lag.p99} ms over ${out.lag.samples} requests`)
      }
    }
  } finally {
    await nats?.destroy()
    await pgs?.destroy()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  print(out)
}

function print(o) {
  const rows = [['setup', 'acked ev/s', 'sustained ev/s (stored in window)', 'vs embedded', 'backlog at end', 'bytes/event']]
  const emb = o.embedded?.rate
  if (o.embedded) rows.push(['embedded (1 process, SQLite)', o.embedded.rate, o.embedded.rate, '100%', 0, o.embedded.bytesPerEvent])
  for (const k of ['1+1', '2+2']) {
    const r = o[k]
    if (!r) continue
    rows.push([
      `${k} (collectors+workers, JetStream, PostgreSQL)`,
      r.ackedRate,
      r.storedRate,
      emb ? `${Math.round((100 * r.storedRate) / emb)}%` : '-',
      r.backlogAtEnd,
      `${r.bytesPerEvent} (${r.bytesPerEventWithoutIdGate} without event_ids)`,
    ])
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)))
  console.log(`\nscale-out benchmark: ${o.seconds}s per phase, ${o.clients} clients × ${o.batch} events/request, ${o.cpus} CPUs`)
  for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(w[i])).join('  '))
  console.log('\nCPU per event (µs), by component:')
  for (const k of ['embedded', '1+1', '2+2']) {
    if (o[k]?.cpuUsPerEvent)
      console.log(
        `  ${k.padEnd(9)} ${Object.entries(o[k].cpuUsPerEvent)
          .map(([n, v]) => `${n} ${v}`)
          .join(', ')}`,
      )
  }
  if (o.lag)
    console.log(
      `\nlag client ack → visible in PostgreSQL at ${o.lag.rate} events/s (achieved ${o.lag.achievedRate}): p50 ${o.lag.p50} ms, p99 ${o.lag.p99} ms, max ${o.lag.max} ms (${o.lag.samples} requests)`,
    )
  if (process.env.BENCH_JSON === '1') console.log(JSON.stringify(o))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
