#!/usr/bin/env node
// Commit-feed benchmark: what running feed consumers costs ingest, and how far they trail the
// commits, embedded (one process, SQLite) and scale-out (collector → NATS JetStream → workers →
// PostgreSQL), each number beside its peer in the same run.
//
//   npm run bench:feed                 (builds first)
//   node bench/feed.js [all|overhead|embedded|scaleout]
//
// 1. overhead: HTTP ingest (bench/ingest.js's method: real server child, 3 clients, 1.2 KB events
//    in NDJSON batches of 1000) with no consumer (INFERLOG_CONSUMERS=none) and with one no-op
//    consumer (INFERLOG_CONSUMERS=noop: reads every committed batch back and moves its watermark,
//    derives nothing), rounds rotated; ratio noop / none per round.
// 2. lag, embedded and scale-out, default consumers (catalog, metrics): first the maximum rate
//    (clients flat out for BENCH_MAX_SECONDS; scale-out: the rate stored in PostgreSQL, the stream
//    bounded so collectors push back), then BENCH_LAG_ROUNDS phases paced at half of it. The bench
//    polls every consumer's watermark (`feed_consumers.position`) every BENCH_POLL_MS; a batch's lag
//    is the first poll that saw its consumer at or past the batch's commit position, minus the
//    batch's commit time (`batches.committed_ms`, same machine clock). Resolution: one poll.
//
// Environment (all optional):
//   BENCH_EVENTS=200000 BENCH_ROUNDS=3 BENCH_CLIENTS=3 BENCH_BATCH=1000   overhead phase, as bench:ingest
//   BENCH_MAX_SECONDS=20      flat-out phase
//   BENCH_LAG_SECONDS=30      each paced phase
//   BENCH_LAG_ROUNDS=3        paced phases per mode
//   BENCH_POLL_MS=10          watermark polling interval
//   BENCH_SCRIPT=path          another checkout's packages/cli/bin/inferlog.js for the servers and workers (A/B)
//   BENCH_SERVER_NODE_ARGS=…  node flags of the embedded server (e.g. --cpu-prof --cpu-prof-dir=DIR)
//   BENCH_WORKER_NODE_ARGS=…  node flags of the scale-out workers (the same)
//   BENCH_LAG_RATE=N          pace the lag phases at N ev/s instead of half the measured maximum
//   BENCH_COLLECTORS=1 BENCH_WORKERS=2   scale-out processes
//   BENCH_TIMEOUT_S=3600      watchdog
//   BENCH_JSON=1              also print one JSON line with every number
//
// Load for the lag phases comes from @inferlog/testkit's driveLoad: ~400-byte events, one feedback
// item per 4 events sent right after its events, requests of about rate/20 events, 8 clients (so
// that slow replies on a loaded box do not cap the paced rate).

import os from 'node:os'
import path from 'node:path'
import { driveLoad, OwnNats, OwnPostgres, spawnCli, spawnServer } from '@inferlog/testkit'
import Database from 'better-sqlite3'
import pg from 'pg'
import { buildBatches, cleanupSync as ingestCleanup, runHttp } from './ingest.js'
import { createHygiene, envInt, fmtNum, fmtSummary, loadavg, machineLine, pct, sleep, summary, watchdog } from './lib/bench-util.js'

const hygiene = createHygiene()
hygiene.atExit(ingestCleanup)
const log = (s) => process.stderr.write(`bench:feed ${s}\n`)

// ---------------------------------------------------------------------------------------------
// 1. Overhead of one no-op consumer on ingest
// ---------------------------------------------------------------------------------------------

async function overheadPhase() {
  const batchSize = envInt('BENCH_BATCH', 1000)
  const nBatches = Math.max(1, Math.floor(envInt('BENCH_EVENTS', 200_000) / batchSize))
  const clients = envInt('BENCH_CLIENTS', 3)
  const rounds = envInt('BENCH_ROUNDS', 3)
  const data = buildBatches(nBatches, batchSize, 42)
  const warm = buildBatches(envInt('BENCH_WARMUP_BATCHES', 4, 0), batchSize, 7)
  const methods = [
    { key: 'none', env: { INFERLOG_CONSUMERS: 'none' } },
    { key: 'noop', env: { INFERLOG_CONSUMERS: 'noop' } },
  ]
  const evps = { none: [], noop: [] }
  const cpu = { none: [], noop: [] }
  const loads = []
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...methods].reverse() : methods
    for (const m of order) {
      const res = await runHttp(data, warm, clients, m.env)
      evps[m.key].push(res.evps)
      cpu[m.key].push(res.serverCpuUsPerEvent)
      loads.push(os.loadavg()[0])
      log(`overhead round ${r + 1}/${rounds} ${m.key.padEnd(4)} ${fmtNum(res.evps)} ev/s (${res.extra})`)
    }
  }
  const ratios = evps.noop.map((x, i) => x / evps.none[i])
  return {
    events: nBatches * batchSize,
    rounds,
    none: summary(evps.none),
    noop: summary(evps.noop),
    ratio: summary(ratios),
    // On a saturated box throughput follows the CPU share a process gets; CPU per event does not.
    cpuNone: summary(cpu.none),
    cpuNoop: summary(cpu.noop),
    cpuRatio: summary(cpu.noop.map((x, i) => cpu.none[i] / x)),
    load: [Math.min(...loads), Math.max(...loads)],
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Lag: watermark polling
// ---------------------------------------------------------------------------------------------

/** Reads positions and commit times of a store: SQLite file or PostgreSQL schema. */

/**
 * Each consumer's lag target at half the maximum rate, p99 ms: the catalog 500 (issue 8), the
 * metric buckets and drift profiles 2 s (issue 9: aggregates reflect a commit within 2 s), the
 * audit chain 1 s (issue 14); 500 for any other.
 */
function lagTargetMs(consumer) {
  return { metrics: 2000, profiles: 2000, audit: 1000 }[consumer] ?? 500
}
function sqliteProbe(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  const positions = db.prepare('SELECT name, position FROM feed_consumers')
  const head = db.prepare('SELECT coalesce(max(seq), 0) FROM batches').pluck()
  const batches = db.prepare('SELECT seq AS position, committed_ms AS committedMs FROM batches WHERE seq > ? AND seq <= ? ORDER BY seq')
  return {
    async positions() {
      return Object.fromEntries(positions.all().map((r) => [r.name, r.position]))
    },
    async head() {
      return head.get()
    },
    async batches(after, upTo) {
      return batches.all(after, upTo)
    },
    async close() {
      db.close()
    },
  }
}

async function pgProbe(url, schema) {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  await c.query(`SET search_path = ${schema}`)
  return {
    async positions() {
      const r = await c.query('SELECT name, position::float8 AS position FROM feed_consumers')
      return Object.fromEntries(r.rows.map((x) => [x.name, Number(x.position)]))
    },
    /** Which process holds each consumer's lease (its pid, the third part of the holder name). */
    async holders() {
      const r = await c.query('SELECT name, holder FROM feed_consumers ORDER BY name')
      return Object.fromEntries(r.rows.map((x) => [x.name, x.holder ? String(x.holder).split('/')[2] : null]))
    },
    async head() {
      // Stamps positions of committed batches, as every reader does.
      const r = await c.query('SELECT inferlog_stamp_commits()::float8 AS h')
      return Number(r.rows[0].h)
    },
    async batches(after, upTo) {
      const r = await c.query(
        `SELECT commit_seq::float8 AS position, committed_ms::float8 AS "committedMs" FROM batches
          WHERE commit_seq > $1 AND commit_seq <= $2 ORDER BY commit_seq`,
        [after, upTo],
      )
      return r.rows.map((x) => ({ position: Number(x.position), committedMs: Number(x.committedMs) }))
    },
    async close() {
      await c.end()
    },
  }
}

/** Polls the consumers' watermarks until `stop()`; keeps (time, position) per consumer. */
function startPolling(probe, pollMs) {
  const seen = new Map() // consumer → [{t, position}] with strictly increasing positions
  let running = true
  const done = (async () => {
    while (running) {
      const t0 = Date.now()
      const ps = await probe.positions()
      const t = Date.now()
      for (const [name, position] of Object.entries(ps)) {
        let l = seen.get(name)
        if (!l) seen.set(name, (l = []))
        if (l.length === 0 || position > l[l.length - 1].position) l.push({ t, position })
      }
      await sleep(Math.max(0, pollMs - (t - t0)))
    }
  })()
  return {
    seen,
    async stop() {
      running = false
      await done
    },
  }
}

/** Waits until every consumer has applied everything committed so far (or `ms` passed); resolves with the time it took. */
async function waitCaughtUp(probe, consumers, ms = 300_000) {
  const t0 = Date.now()
  for (;;) {
    const head = await probe.head()
    const ps = await probe.positions()
    if (consumers.every((c) => (ps[c] ?? 0) >= head)) return Date.now() - t0
    if (Date.now() - t0 > ms) throw new Error(`consumers did not catch up in ${ms} ms: head ${head}, ${JSON.stringify(ps)}`)
    await sleep(50)
  }
}

/** Per-batch lag (ms) of each consumer for batches after `after`, from the polled observations. */
function lagsOf(batches, seen) {
  const out = {}
  for (const [name, obs] of seen) {
    const lags = []
    // The worst lag of the batches committed in each 5 s of the round (when in the round it lagged).
    const slices = []
    let i = 0
    for (const b of batches) {
      while (i < obs.length && obs[i].position < b.position) i++
      if (i === obs.length) break // not applied while polling: counted as missing
      const lag = Math.max(0, obs[i].t - b.committedMs)
      lags.push(lag)
      const k = Math.floor((b.committedMs - batches[0].committedMs) / 5000)
      slices[k] = Math.max(slices[k] ?? 0, lag)
    }
    out[name] = { lags: lags.sort((a, b) => a - b), missing: batches.length - lags.length, slices: Array.from(slices, (x) => x ?? 0) }
  }
  return out
}

/**
 * Flat out, then paced phases at half the rate, against `urls`; `probe` reads the store the
 * consumers write; `storedRate` (scale-out) measures what was stored during the flat-out window.
 */
/**
 * Rows the consumers have read back from the store so far (`inferlog_feed_rows_read_back_total` on
 * the server's `/metrics`), or undefined where the server does not run them (scale-out collectors).
 */
async function readBackRows(url) {
  try {
    const text = await (await fetch(`${url}/metrics`)).text()
    const m = /^inferlog_feed_rows_read_back_total\s+(\S+)/m.exec(text)
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

async function lagMode(name, urls, probe, consumers, storedRate) {
  const maxSeconds = envInt('BENCH_MAX_SECONDS', 20)
  const lagSeconds = envInt('BENCH_LAG_SECONDS', 30)
  const lagRounds = envInt('BENCH_LAG_ROUNDS', 3)
  const pollMs = envInt('BENCH_POLL_MS', 10)
  const common = { urls, feedbackEvery: 4, track: false, retryAnyStatus: true, minRetryDelayMs: 50, maxRetryDelayMs: 200 }

  log(`${name}: flat out for ${maxSeconds} s, 4 clients × 1000 events`)
  const headBefore = await probe.head()
  const readBack0 = await readBackRows(urls[0])
  const stored0 = storedRate ? await storedRate.count() : 0
  const flat = await driveLoad({ ...common, run: `${name}-max`, seconds: maxSeconds, clients: 4, batch: 1000, retryForMs: 120_000 })
  const ackedRate = flat.acked / (flat.elapsedMs / 1000)
  const maxRate = storedRate ? ((await storedRate.count()) - stored0) / (flat.elapsedMs / 1000) : ackedRate
  // Scale-out: the backlog left in the stream is written first (else it would load the paced phases).
  const drain0 = Date.now()
  if (storedRate) {
    while ((await storedRate.count()) < stored0 + flat.acked && Date.now() - drain0 < 300_000) await sleep(200)
  }
  const headAfter = await probe.head()
  const positionsAfter = await probe.positions()
  await waitCaughtUp(probe, consumers)
  const catchUpMs = Date.now() - drain0
  const flatReadBack = readBack0 === undefined ? undefined : ((await readBackRows(urls[0])) ?? 0) - readBack0
  log(
    `${name}: max ${fmtNum(maxRate)} ev/s (acked ${fmtNum(ackedRate)}/s, ${headAfter - headBefore} batches); consumers at the end ${JSON.stringify(positionsAfter)} of ${headAfter}, caught up ${catchUpMs} ms later${flatReadBack === undefined ? '' : `; rows read back ${fmtNum(flatReadBack)} (${(flatReadBack / (flat.acked * 1.25)).toFixed(2)} per row committed)`}`,
  )

  if (probe.holders) log(`${name}: lease holders (pid) ${JSON.stringify(await probe.holders())}`)
  // BENCH_LAG_RATE paces at a given rate instead (e.g. another setting's half maximum, to compare at one rate).
  const rate = envInt('BENCH_LAG_RATE', Math.round(maxRate / 2))
  const batch = Math.max(20, Math.min(1000, Math.round(rate / 20)))
  const rounds = []
  for (let r = 0; r < lagRounds; r++) {
    const after = await probe.head()
    const rb0 = await readBackRows(urls[0])
    const poller = startPolling(probe, pollMs)
    const paced = await driveLoad({ ...common, run: `${name}-lag${r}`, seconds: lagSeconds, clients: 8, batch, rate, retryForMs: 60_000 })
    await waitCaughtUp(probe, consumers, 120_000)
    await sleep(pollMs * 3)
    await poller.stop()
    const upTo = await probe.head()
    const batches = await probe.batches(after, upTo)
    const lags = lagsOf(batches, poller.seen)
    const load = os.loadavg()[0]
    const per = {}
    for (const c of consumers) {
      const l = lags[c] ?? { lags: [], missing: batches.length }
      per[c] = {
        p50: pct(l.lags, 0.5),
        p99: pct(l.lags, 0.99),
        max: l.lags[l.lags.length - 1],
        n: l.lags.length,
        missing: l.missing,
        slices: l.slices ?? [],
      }
    }
    // Events plus their feedback (one item per 4 events): the rows the consumers read.
    const readBack = rb0 === undefined ? undefined : ((await readBackRows(urls[0])) ?? 0) - rb0
    const readBackPerRow = readBack === undefined ? undefined : readBack / (paced.acked * 1.25)
    rounds.push({ achieved: paced.acked / (paced.elapsedMs / 1000), batches: batches.length, per, load, readBackPerRow })
    log(
      `${name}: lag round ${r + 1}/${lagRounds} at ${fmtNum(rate)} ev/s (achieved ${fmtNum(rounds[r].achieved)}), ${batches.length} batches, load ${load.toFixed(2)}${readBackPerRow === undefined ? '' : `, ${readBackPerRow.toFixed(2)} rows read back per row`}: ${consumers
        .map((c) => `${c} p50 ${per[c].p50} ms p99 ${per[c].p99} ms max ${per[c].max} ms`)
        .join('; ')}; worst metrics lag per 5 s of the round: ${(per.metrics?.slices ?? []).join(' ')} ms`,
    )
  }
  const byConsumer = {}
  for (const c of consumers) {
    byConsumer[c] = {
      p50: summary(rounds.map((x) => x.per[c].p50)),
      p99: summary(rounds.map((x) => x.per[c].p99)),
      max: Math.max(...rounds.map((x) => x.per[c].max)),
      missing: rounds.reduce((a, x) => a + x.per[c].missing, 0),
    }
  }
  return {
    maxRate: Math.round(maxRate),
    ackedRate: Math.round(ackedRate),
    catchUpMs,
    rate,
    requestEvents: batch,
    achieved: summary(rounds.map((x) => x.achieved)),
    batches: rounds.map((x) => x.batches),
    byConsumer,
    readBackPerRow: rounds.map((x) => x.readBackPerRow),
    load: [Math.min(...rounds.map((x) => x.load)), Math.max(...rounds.map((x) => x.load))],
  }
}

const CONSUMERS = ['catalog', 'metrics', 'audit', 'profiles']

async function embeddedMode() {
  const dir = hygiene.tmpDir('feed-embedded')
  const srv = hygiene.track(
    await spawnServer(['--data', dir], {
      stderrLimit: 20_000,
      nodeArgs: (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
      // Another checkout's CLI (its packages/cli/bin/inferlog.js, built): A/B of two trees.
      ...(process.env.BENCH_SCRIPT ? { script: process.env.BENCH_SCRIPT } : {}),
    }),
  )
  const probe = sqliteProbe(path.join(dir, 'inferlog.db'))
  try {
    return await lagMode('embedded', [srv.url], probe, CONSUMERS)
  } finally {
    await probe.close()
    await srv.stop()
  }
}

async function scaleOutMode() {
  const nCollectors = envInt('BENCH_COLLECTORS', 1)
  const nWorkers = envInt('BENCH_WORKERS', 2)
  const [nats, pgs] = await Promise.all([
    OwnNats.start(),
    OwnPostgres.start({ settings: { shared_buffers: '256MB', max_wal_size: '4GB' } }),
  ])
  hygiene.atExit(() => {
    try {
      nats.child?.kill('SIGKILL')
    } catch {
      // gone
    }
  })
  const schema = 'feedlag'
  const store = `${pgs.url}?schema=${schema}`
  // A bounded stream: past 64 MiB of backlog collectors answer 503, so flat out measures what the
  // workers store, not what JetStream can buffer.
  const queue = `${nats.url}?stream=FEEDLAG&max_bytes=${64 * 1024 * 1024}`
  const procs = []
  let probe
  try {
    for (let i = 0; i < nCollectors; i++)
      procs.push(
        hygiene.track(
          await spawnCli(['serve', '--port', '0', '--store', store, '--queue', queue], {
            stderrLimit: 20_000,
            ...(process.env.BENCH_SCRIPT ? { script: process.env.BENCH_SCRIPT } : {}),
          }),
        ),
      )
    for (let i = 0; i < nWorkers; i++)
      procs.push(
        hygiene.track(
          await spawnCli(['worker', '--store', store, '--queue', queue], {
            stderrLimit: 20_000,
            nodeArgs: (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
            ...(process.env.BENCH_SCRIPT ? { script: process.env.BENCH_SCRIPT } : {}),
          }),
        ),
      )
    const collectors = procs.slice(0, nCollectors)
    // The consumers' watermark rows appear with their first step.
    probe = await pgProbe(pgs.url, schema)
    for (let i = 0; (await probe.positions()).metrics === undefined && i < 600; i++) await sleep(100)
    const res = await lagMode(
      `scale-out ${nCollectors}+${nWorkers}`,
      collectors.map((c) => c.first),
      probe,
      CONSUMERS,
      { count: () => pgCount(pgs.url, schema) },
    )
    return { collectors: nCollectors, workers: nWorkers, ...res }
  } finally {
    await probe?.close()
    await Promise.all(procs.map((p) => p.stop()))
    await nats.destroy()
    await pgs.destroy()
  }
}

/** Events stored in `schema` (counted on the id gate). */
async function pgCount(url, schema) {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const r = await c.query(`SELECT count(*)::float8 AS n FROM ${schema}.event_ids`)
    return Number(r.rows[0].n)
  } finally {
    await c.end()
  }
}

// ---------------------------------------------------------------------------------------------

function report(out) {
  const lines = ['']
  if (out.overhead) {
    const o = out.overhead
    lines.push(
      `OVERHEAD  HTTP ingest, ${fmtNum(o.events)} 1.2 KB events per round, ${o.rounds} rounds (order alternated), 1-min load ${o.load[0].toFixed(2)}–${o.load[1].toFixed(2)}`,
    )
    lines.push(`  no consumer (INFERLOG_CONSUMERS=none)   ${fmtSummary(o.none)} ev/s`)
    lines.push(`  one no-op consumer (=noop)              ${fmtSummary(o.noop)} ev/s`)
    lines.push(
      `  ratio noop / none, per round            ${fmtSummary(o.ratio, 2)}   (target >= 0.9: ${o.ratio.median >= 0.9 ? 'MET' : 'NOT MET'})`,
    )
    lines.push(`  server CPU per event: none ${fmtSummary(o.cpuNone, 1, ' µs')}, noop ${fmtSummary(o.cpuNoop, 1, ' µs')}`)
    lines.push(`  CPU ratio none / noop, per round        ${fmtSummary(o.cpuRatio, 2)}`)
  }
  for (const k of ['embedded', 'scaleout']) {
    const m = out[k]
    if (!m) continue
    lines.push('')
    lines.push(
      `LAG  ${k === 'embedded' ? 'embedded (1 process, SQLite)' : `scale-out (${m.collectors} collector + ${m.workers} workers, NATS JetStream, PostgreSQL)`}`,
    )
    lines.push(
      `  max rate ${fmtNum(m.maxRate)} ev/s${k === 'scaleout' ? ` stored (acked ${fmtNum(m.ackedRate)})` : ''}; consumers caught up ${fmtNum(m.catchUpMs)} ms after the flat-out phase`,
    )
    lines.push(
      `  paced at ${fmtNum(m.rate)} ev/s (achieved ${fmtSummary(m.achieved)}), ${m.requestEvents} events/request, ${m.batches.join('/')} batches per round, 1-min load ${m.load[0].toFixed(2)}–${m.load[1].toFixed(2)}`,
    )
    if (m.readBackPerRow?.every((x) => x !== undefined))
      lines.push(`  rows read back from the store per row committed, per round: ${m.readBackPerRow.map((x) => x.toFixed(2)).join(' / ')}`)
    for (const [c, s] of Object.entries(m.byConsumer)) {
      lines.push(
        `  ${c.padEnd(8)} commit → applied: p50 ${fmtSummary(s.p50, 0, ' ms')}, p99 ${fmtSummary(s.p99, 0, ' ms')}, max ${s.max} ms${s.missing ? `, ${s.missing} batches never seen applied` : ''}   (p99 target <= ${lagTargetMs(c)} ms: ${s.p99.median <= lagTargetMs(c) ? 'MET' : 'NOT MET'})`,
      )
    }
  }
  lines.push('')
  lines.push(`load average at start ${out.loadavg.start}, at end ${loadavg()}`)
  console.log(lines.join('\n'))
}

async function main() {
  const mode = process.argv[2] ?? 'all'
  if (!['all', 'overhead', 'embedded', 'scaleout'].includes(mode)) {
    console.error('usage: node bench/feed.js [all|overhead|embedded|scaleout]')
    return 2
  }
  watchdog(envInt('BENCH_TIMEOUT_S', 3600), hygiene)
  console.log(machineLine('feed'))
  const out = { loadavg: { start: loadavg() } }
  if (mode === 'all' || mode === 'overhead') out.overhead = await overheadPhase()
  if (mode === 'all' || mode === 'embedded') out.embedded = await embeddedMode()
  if (mode === 'all' || mode === 'scaleout') out.scaleout = await scaleOutMode()
  report(out)
  out.loadavg.end = loadavg()
  if (process.env.BENCH_JSON === '1') console.log(JSON.stringify(out))
  return 0
}

main().then(
  (code) => {
    hygiene.cleanupSync()
    process.exit(code)
  },
  (err) => {
    process.stderr.write(`bench:feed ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    hygiene.cleanupSync()
    process.exit(1)
  },
)
