#!/usr/bin/env node
// Audit-chain benchmark: what the hash chain costs ingest, how far it trails the commits, how fast
// `verify` recomputes it, how long an inclusion proof takes. Each number beside its peer in the
// same run where there is one.
//
//   npm run bench:audit                (builds first)
//   node bench/audit.js [all|ingest|lag|verify|proof]
//
// 1. ingest: HTTP ingest (bench/ingest.js's method: a real server child, 3 clients, 1.2 KB events
//    in NDJSON batches of 1000) with no feed consumer (INFERLOG_CONSUMERS=none: chain off) and with
//    the chain alone (INFERLOG_CONSUMERS=audit: chain on), rounds rotated; ratio on / off per round.
// 2. lag: an embedded server running the chain (BENCH_LAG_CONSUMERS, default `audit`), flat out for
//    BENCH_MAX_SECONDS to find the maximum rate, then BENCH_LAG_ROUNDS phases paced at half of it.
//    The bench polls the chain's watermark ("sealed up to batch N") every BENCH_POLL_MS; a batch's
//    lag is the first poll that saw the watermark at or past it minus its commit time.
// 3. verify: a SQLite store of BENCH_VERIFY_EVENTS events (1.2 KB, batches of 1000; built once and
//    cached, see bench/lib/log-fixtures.js) is sealed in-process (sealing rate), with a checkpoint
//    every 100 batches; then verifyChain in-process, and `inferlog verify --data` as a user runs it.
// 4. proof: the same store served by `inferlog serve` (once it has indexed the store's look-up
//    backlog); BENCH_PROOFS sequential GET /v1/audit/proof/{id} of random events (latency at the
//    client), and buildInclusionProof in-process; every 100th proof is checked with checkProof.
//
// Environment (all optional):
//   BENCH_EVENTS=200000 BENCH_ROUNDS=3 BENCH_CLIENTS=3 BENCH_BATCH=1000   ingest phase, as bench:ingest
//   BENCH_PEER_SCRIPT=launcher.js   ingest phase: also the chain on with another server build (a
//     launcher taking the CLI's `serve` arguments, as BENCH_SERVER_SCRIPT in bench:ingest), rotated
//     with the others; reported as peer / off beside on / off
//   BENCH_MAX_SECONDS=20 BENCH_LAG_SECONDS=30 BENCH_LAG_ROUNDS=2 BENCH_POLL_MS=10 BENCH_LAG_CONSUMERS=audit
//   BENCH_VERIFY_EVENTS=1000000  BENCH_PROOFS=2000
//   BENCH_TIMEOUT_S=3600 watchdog;  BENCH_JSON=1 also print one JSON line with every number

import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { driveLoad, runCli, spawnServer } from '@inferlog/testkit'
import Database from 'better-sqlite3'
import { buildBatches, cleanupSync as ingestCleanup, makeEvent, prng, runHttp } from './ingest.js'
import { createHygiene, envInt, fmtNum, fmtSummary, loadavg, machineLine, pct, sleep, summary, watchdog } from './lib/bench-util.js'
import { cachedFile, serverDist, sqliteSchemaVersion, storePageSize } from './lib/log-fixtures.js'

const hygiene = createHygiene()
hygiene.atExit(ingestCleanup)
const log = (s) => process.stderr.write(`bench:audit ${s}\n`)

// ---------------------------------------------------------------------------------------------
// 1. Ingest with the chain on and off
// ---------------------------------------------------------------------------------------------

async function ingestPhase() {
  const batchSize = envInt('BENCH_BATCH', 1000)
  const nBatches = Math.max(1, Math.floor(envInt('BENCH_EVENTS', 200_000) / batchSize))
  const clients = envInt('BENCH_CLIENTS', 3)
  const rounds = envInt('BENCH_ROUNDS', 3)
  const data = buildBatches(nBatches, batchSize, 42)
  const warm = buildBatches(envInt('BENCH_WARMUP_BATCHES', 4, 0), batchSize, 7)
  const peer = process.env.BENCH_PEER_SCRIPT
  const methods = [
    { key: 'off', env: { INFERLOG_CONSUMERS: 'none' } },
    { key: 'on', env: { INFERLOG_CONSUMERS: 'audit' } },
    ...(peer ? [{ key: 'peer', env: { INFERLOG_CONSUMERS: 'audit' }, script: peer }] : []),
  ]
  const evps = { off: [], on: [], peer: [] }
  const cpu = { off: [], on: [], peer: [] }
  const writer = { off: [], on: [], peer: [] }
  const feed = { off: [], on: [], peer: [] }
  const loads = []
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...methods].reverse() : methods
    for (const m of order) {
      const res = await runHttp(data, warm, clients, m.env, m.script)
      evps[m.key].push(res.evps)
      cpu[m.key].push(res.serverCpuUsPerEvent)
      writer[m.key].push(res.busiestThreadUsPerEvent)
      feed[m.key].push(res.nicedThreadsUsPerEvent)
      loads.push(os.loadavg()[0])
      log(`ingest round ${r + 1}/${rounds} chain ${m.key.padEnd(4)} ${fmtNum(res.evps)} ev/s (${res.extra})`)
    }
  }
  return {
    events: nBatches * batchSize,
    rounds,
    off: summary(evps.off),
    on: summary(evps.on),
    ratio: summary(evps.on.map((x, i) => x / evps.off[i])),
    cpuUsPerEvent: { off: summary(cpu.off), on: summary(cpu.on) },
    writerUsPerEvent: { off: summary(writer.off), on: summary(writer.on) },
    feedThreadUsPerEvent: { on: summary(feed.on) },
    ...(peer
      ? {
          peer: summary(evps.peer),
          peerRatio: summary(evps.peer.map((x, i) => x / evps.off[i])),
          cpuUsPerEventPeer: summary(cpu.peer),
          writerUsPerEventPeer: summary(writer.peer),
        }
      : {}),
    load: [Math.min(...loads), Math.max(...loads)],
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Chain lag at half the maximum rate
// ---------------------------------------------------------------------------------------------

function sqliteProbe(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  const sealed = db.prepare("SELECT position FROM feed_consumers WHERE name = 'audit'").pluck()
  const head = db.prepare('SELECT coalesce(max(seq), 0) FROM batches').pluck()
  const batches = db.prepare('SELECT seq AS position, committed_ms AS committedMs FROM batches WHERE seq > ? AND seq <= ? ORDER BY seq')
  return {
    sealed: () => sealed.get() ?? 0,
    head: () => head.get(),
    batches: (after, upTo) => batches.all(after, upTo),
    close: () => db.close(),
  }
}

async function waitSealed(probe, ms = 300_000) {
  const t0 = Date.now()
  for (;;) {
    const head = probe.head()
    if (probe.sealed() >= head) return Date.now() - t0
    if (Date.now() - t0 > ms) throw new Error(`the chain did not catch up in ${ms} ms: head ${head}, sealed ${probe.sealed()}`)
    await sleep(20)
  }
}

async function lagPhase() {
  const maxSeconds = envInt('BENCH_MAX_SECONDS', 20)
  const lagSeconds = envInt('BENCH_LAG_SECONDS', 30)
  const lagRounds = envInt('BENCH_LAG_ROUNDS', 2)
  const pollMs = envInt('BENCH_POLL_MS', 10)
  const consumers = process.env.BENCH_LAG_CONSUMERS || 'audit'
  const dir = hygiene.tmpDir('audit-lag')
  const srv = hygiene.track(await spawnServer(['--data', dir], { env: { INFERLOG_CONSUMERS: consumers }, stderrLimit: 20_000 }))
  // The watermark row appears with the consumer's first lease.
  for (let i = 0; i < 300 && !fs.existsSync(path.join(dir, 'inferlog.db')); i++) await sleep(100)
  const probe = sqliteProbe(path.join(dir, 'inferlog.db'))
  const common = { urls: [srv.url], feedbackEvery: 4, track: false, retryAnyStatus: true, minRetryDelayMs: 50, maxRetryDelayMs: 200 }
  try {
    log(`lag: flat out for ${maxSeconds} s (consumers ${consumers})`)
    const flat = await driveLoad({ ...common, run: 'audit-max', seconds: maxSeconds, clients: 4, batch: 1000, retryForMs: 120_000 })
    const maxRate = flat.acked / (flat.elapsedMs / 1000)
    const catchUpMs = await waitSealed(probe)
    log(`lag: max ${fmtNum(maxRate)} ev/s; the chain caught up ${catchUpMs} ms after the flat-out phase`)
    const rate = Math.round(maxRate / 2)
    const batch = Math.max(20, Math.min(1000, Math.round(rate / 20)))
    const rounds = []
    for (let r = 0; r < lagRounds; r++) {
      const after = probe.head()
      const seen = [] // {t, position}, strictly increasing positions
      let polling = true
      const poller = (async () => {
        while (polling) {
          const p = probe.sealed()
          const t = Date.now()
          if (seen.length === 0 || p > seen[seen.length - 1].position) seen.push({ t, position: p })
          await sleep(pollMs)
        }
      })()
      const paced = await driveLoad({ ...common, run: `audit-lag${r}`, seconds: lagSeconds, clients: 8, batch, rate, retryForMs: 60_000 })
      await waitSealed(probe, 120_000)
      await sleep(pollMs * 3)
      polling = false
      await poller
      const batches = probe.batches(after, probe.head())
      const lags = []
      let i = 0
      for (const b of batches) {
        while (i < seen.length && seen[i].position < b.position) i++
        if (i === seen.length) break
        lags.push(Math.max(0, seen[i].t - b.committedMs))
      }
      lags.sort((a, b) => a - b)
      const res = {
        achieved: paced.acked / (paced.elapsedMs / 1000),
        batches: batches.length,
        p50: pct(lags, 0.5),
        p99: pct(lags, 0.99),
        max: lags[lags.length - 1],
        load: os.loadavg()[0],
      }
      rounds.push(res)
      log(
        `lag round ${r + 1}/${lagRounds} at ${fmtNum(rate)} ev/s (achieved ${fmtNum(res.achieved)}), ${res.batches} batches, load ${res.load.toFixed(2)}: p50 ${res.p50} ms p99 ${res.p99} ms max ${res.max} ms`,
      )
    }
    return {
      consumers,
      maxRate: Math.round(maxRate),
      catchUpMs,
      rate,
      requestEvents: batch,
      achieved: summary(rounds.map((x) => x.achieved)),
      p50: summary(rounds.map((x) => x.p50)),
      p99: summary(rounds.map((x) => x.p99)),
      max: Math.max(...rounds.map((x) => x.max)),
      load: [Math.min(...rounds.map((x) => x.load)), Math.max(...rounds.map((x) => x.load))],
    }
  } finally {
    probe.close()
    await srv.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// 3. verify over a large store, and 4. proofs
// ---------------------------------------------------------------------------------------------

const DATA_VERSION = 1
const PROJECT = 'default'

/** The cached, unsealed store: `n` events of 1.2 KB in batches of 1000, in the store's current page size. */
async function cachedStore(n) {
  const name = `audit-d${DATA_VERSION}-s${await sqliteSchemaVersion()}-${n}-page${await storePageSize()}.db`
  return cachedFile(
    name,
    async (file) => {
      const { SqliteStore } = await serverDist()
      const store = new SqliteStore({ filename: file, synchronous: 'OFF', lookupIndexIntervalMs: 0 })
      await store.migrate()
      const rng = prng(2026)
      const start = Date.UTC(2026, 10, 1)
      const t0 = performance.now()
      for (let done = 0; done < n; done += 1000) {
        const events = []
        for (let j = 0; j < Math.min(1000, n - done); j++) {
          const tsMs = start + (done + j) * 50
          const e = makeEvent(rng, tsMs)
          events.push({
            project: PROJECT,
            id: e.id,
            tsMs,
            receivedMs: tsMs + 5,
            model: e.model.name,
            version: e.model.version,
            stage: 'primary',
            status: 'ok',
            sessionId: e.trace.session_id,
            userId: e.trace.user_id,
            arm: e.context.experiment.arm,
            shadowOf: null,
            body: JSON.stringify(e),
          })
        }
        await store.writeBatch({ events, feedback: [] })
        if ((done + 1000) % 100_000 === 0)
          log(`fill ${fmtNum(done + 1000)}/${fmtNum(n)} (${fmtNum((done + 1000) / ((performance.now() - t0) / 1000))} ev/s)`)
      }
      await store.close()
    },
    hygiene,
  )
}

async function verifyPhase() {
  const n = envInt('BENCH_VERIFY_EVENTS', 1_000_000)
  const cached = await cachedStore(n)
  const dir = hygiene.tmpDir('audit-verify')
  const file = path.join(dir, 'inferlog.db')
  fs.copyFileSync(cached, file)
  const s = await serverDist()
  const key = crypto.generateKeyPairSync('ed25519')
  fs.writeFileSync(path.join(dir, 'audit.pem'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }))
  fs.writeFileSync(path.join(dir, 'audit.pub.pem'), key.publicKey.export({ type: 'spki', format: 'pem' }))

  // Sealing: the chain consumer over the whole log, as a server catching up would; a checkpoint
  // every 100 batches, as a 10 s interval at ~10 batches a second would make.
  const store = new s.SqliteStore({ filename: file, lookupIndexIntervalMs: 0 })
  await store.migrate()
  const head = await store.commitHead()
  const runner = new s.FeedRunner(store, [new s.AuditChainConsumer(store)], { maxBatches: 100 })
  const cp = new s.AuditCheckpointer(store.derived, { key: key.privateKey })
  const t0 = performance.now()
  await runner.catchUp()
  const sealMs = performance.now() - t0
  // Checkpoints at every 100th batch, signed over the sealed heads (as if made while sealing).
  const db = store.derived.db
  const heads = (await db.selectFrom('audit_batches').select(['n', 'position', 'rows_total', 'head']).execute()).filter(
    (h) => Number(h.n) % 100 === 0,
  )
  for (const h of heads) {
    const c = s.signCheckpoint(
      {
        batch: Number(h.position),
        index: Number(h.n),
        rows: Number(h.rows_total),
        root: Buffer.from(h.head).toString('hex'),
        time: new Date().toISOString(),
      },
      key.privateKey,
    )
    await store.derived.write([
      db
        .insertInto('audit_checkpoints')
        .values({
          n: h.n,
          position: h.position,
          rows_total: h.rows_total,
          head: h.head,
          signed_ms: Date.parse(c.time),
          key_id: c.key_id,
          signature: Buffer.from(c.signature, 'base64'),
        })
        .onConflict((oc) => oc.column('n').doNothing())
        .compile(),
    ])
  }
  await cp.step()
  log(
    `sealed ${fmtNum(n)} rows in ${(sealMs / 1000).toFixed(1)} s (${fmtNum(n / (sealMs / 1000))} rows/s), ${heads.length + 1} checkpoints`,
  )

  // One thread, then split among threads (as `inferlog verify` runs), each twice; rows per second
  // of wall time and of this process's CPU time (threads included).
  const inProcess = { one: [], many: [], oneCpu: [], manyCpu: [] }
  for (let r = 0; r < 2; r++) {
    for (const mode of ['one', 'many']) {
      const c0 = process.cpuUsage()
      const t = performance.now()
      const rep =
        mode === 'one'
          ? await s.verifyChain(store, { keys: [key.publicKey] })
          : await s.verifyChainParallel(store, `sqlite:${file}`, { keys: [key.publicKey] })
      const ms = performance.now() - t
      const c = process.cpuUsage(c0)
      if (!rep.ok || rep.rows !== n) throw new Error(`verify failed: ${JSON.stringify(rep.first_error ?? rep)}`)
      inProcess[mode].push(n / (ms / 1000))
      inProcess[`${mode}Cpu`].push(n / ((c.user + c.system) / 1e6))
      log(
        `verify in-process, ${mode === 'one' ? 'one thread' : 'threads'}, ${r + 1}/2: ${fmtNum(n)} rows in ${(ms / 1000).toFixed(2)} s = ${fmtNum(n / (ms / 1000))} rows/s (${fmtNum(n / ((c.user + c.system) / 1e6))} rows per CPU-second), load ${loadavg()}`,
      )
    }
  }
  await store.close()
  const cli = []
  for (let r = 0; r < 2; r++) {
    const t = performance.now()
    const out = await runCli(['verify', '--data', dir, '--public-key', path.join(dir, 'audit.pub.pem'), '--json'])
    const ms = performance.now() - t
    const rep = JSON.parse(out.stdout)
    if (out.code !== 0 || !rep.ok) throw new Error(`inferlog verify failed: ${out.stdout} ${out.stderr}`)
    cli.push(n / (ms / 1000))
    log(`inferlog verify ${r + 1}/2: ${(ms / 1000).toFixed(2)} s wall (process start included) = ${fmtNum(n / (ms / 1000))} rows/s`)
  }
  return {
    events: n,
    dir,
    sealRowsPerS: n / (sealMs / 1000),
    one: summary(inProcess.one),
    many: summary(inProcess.many),
    oneCpu: summary(inProcess.oneCpu),
    manyCpu: summary(inProcess.manyCpu),
    cli: summary(cli),
    checkpoints: heads.length + 1,
    load: os.loadavg()[0],
  }
}

async function proofPhase(dir) {
  const proofs = envInt('BENCH_PROOFS', 2000)
  const s = await serverDist()
  const file = path.join(dir, 'inferlog.db')
  const db = new Database(file, { readonly: true })
  const ids = db.prepare('SELECT id FROM events ORDER BY random() LIMIT ?').pluck().all(proofs)
  db.close()
  // In-process first (no HTTP).
  const store = new s.SqliteStore({ filename: file, readonly: true })
  await store.migrate()
  const inProc = []
  for (let i = 0; i < ids.length; i++) {
    const t = performance.now()
    const p = await s.buildInclusionProof(store, PROJECT, ids[i])
    inProc.push(performance.now() - t)
    if (i % 100 === 0 && !s.checkProof(p).ok) throw new Error(`proof of ${ids[i]} does not check`)
  }
  await store.close()
  inProc.sort((a, b) => a - b)
  const srv = hygiene.track(await spawnServer(['--data', dir], { env: { INFERLOG_CONSUMERS: 'none' }, stderrLimit: 20_000 }))
  const http = []
  let chainLinks = 0
  try {
    // The store was filled without the session/user look-up index; a server opening it first
    // indexes the whole backlog on its writer thread (3M keys here, a minute of CPU on this box).
    // Proofs are timed once that is done, as a server in its steady state answers them.
    const idx = new Database(file, { readonly: true })
    const t0 = performance.now()
    try {
      const wm = idx.prepare("SELECT value FROM meta WHERE name = 'lookup_watermark'").pluck()
      const max = idx.prepare('SELECT coalesce(max(seq), 0) FROM events').pluck().get()
      while (wm.get() < max) {
        if (performance.now() - t0 > 600_000) throw new Error('the server did not index its look-ups in 10 minutes')
        await sleep(500)
      }
    } finally {
      idx.close()
    }
    log(`proofs: the server indexed its look-ups in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    for (let i = 0; i < 50; i++) await (await fetch(`${srv.url}/v1/audit/proof/${ids[i]}`)).arrayBuffer() // warm
    for (let i = 0; i < ids.length; i++) {
      const t = performance.now()
      const res = await fetch(`${srv.url}/v1/audit/proof/${ids[i]}`)
      const body = await res.json()
      http.push(performance.now() - t)
      if (res.status !== 200) throw new Error(`proof of ${ids[i]}: ${res.status} ${JSON.stringify(body)}`)
      chainLinks += body.chain.length
    }
  } finally {
    await srv.stop()
  }
  http.sort((a, b) => a - b)
  const r = (xs) => ({ p50: pct(xs, 0.5), p99: pct(xs, 0.99), max: xs[xs.length - 1] })
  log(
    `proofs: in-process p50 ${pct(inProc, 0.5).toFixed(2)} ms p99 ${pct(inProc, 0.99).toFixed(2)} ms; HTTP p50 ${pct(http, 0.5).toFixed(2)} ms p99 ${pct(http, 0.99).toFixed(2)} ms`,
  )
  return { proofs: ids.length, inProcess: r(inProc), http: r(http), meanChainLinks: chainLinks / ids.length, load: os.loadavg()[0] }
}

// ---------------------------------------------------------------------------------------------

function report(out) {
  const lines = ['', machineLine('audit')]
  if (out.ingest) {
    const x = out.ingest
    lines.push(
      `ingest (${fmtNum(x.events)} events × ${x.rounds} rounds, load ${x.load.map((l) => l.toFixed(1)).join('–')}):`,
      `  chain off  ${fmtSummary(x.off)} ev/s`,
      `  chain on   ${fmtSummary(x.on)} ev/s`,
      `  on / off   ${fmtSummary(x.ratio, 3)}   (target ≥ 0.95)`,
      `  server CPU per event: off ${fmtSummary(x.cpuUsPerEvent.off, 1)} µs, on ${fmtSummary(x.cpuUsPerEvent.on, 1)} µs`,
      `  writer thread CPU per event: off ${fmtSummary(x.writerUsPerEvent.off, 1)} µs, on ${fmtSummary(x.writerUsPerEvent.on, 1)} µs; feed thread (nice > 0) on ${fmtSummary(x.feedThreadUsPerEvent.on, 1)} µs`,
    )
    if (x.peer)
      lines.push(
        `  peer on    ${fmtSummary(x.peer)} ev/s, ${fmtSummary(x.cpuUsPerEventPeer, 1)} µs server CPU per event, writer thread ${fmtSummary(x.writerUsPerEventPeer, 1)} µs (BENCH_PEER_SCRIPT)`,
        `  peer / off ${fmtSummary(x.peerRatio, 3)}`,
      )
  }
  if (out.lag) {
    const x = out.lag
    lines.push(
      `lag (consumers ${x.consumers}; max ${fmtNum(x.maxRate)} ev/s, paced at ${fmtNum(x.rate)} ev/s in requests of ${x.requestEvents}, achieved ${fmtSummary(x.achieved)}, load ${x.load.map((l) => l.toFixed(1)).join('–')}):`,
      `  p50 ${fmtSummary(x.p50)} ms   p99 ${fmtSummary(x.p99)} ms   max ${x.max} ms   (target p99 ≤ 1000 ms)`,
    )
  }
  if (out.verify) {
    const x = out.verify
    lines.push(
      `verify (${fmtNum(x.events)} events, SQLite, ${x.checkpoints} checkpoints, load ${x.load.toFixed(1)}):`,
      `  sealing          ${fmtNum(x.sealRowsPerS)} rows/s`,
      `  verify, one thread   ${fmtSummary(x.one)} rows/s wall, ${fmtSummary(x.oneCpu)} rows per CPU-second`,
      `  verify, threads      ${fmtSummary(x.many)} rows/s wall, ${fmtSummary(x.manyCpu)} rows per CPU-second   (target ≥ 200 000 rows/s)`,
      `  inferlog verify  ${fmtSummary(x.cli)} rows/s (wall, process start included)`,
    )
  }
  if (out.proof) {
    const x = out.proof
    lines.push(
      `proofs (${fmtNum(x.proofs)} random events, ${x.meanChainLinks.toFixed(1)} chain links on average, load ${x.load.toFixed(1)}):`,
      `  in-process  p50 ${x.inProcess.p50.toFixed(2)} ms  p99 ${x.inProcess.p99.toFixed(2)} ms  max ${x.inProcess.max.toFixed(2)} ms`,
      `  HTTP        p50 ${x.http.p50.toFixed(2)} ms  p99 ${x.http.p99.toFixed(2)} ms  max ${x.http.max.toFixed(2)} ms   (target ≤ 5 ms)`,
    )
  }
  console.log(lines.join('\n'))
}

async function main() {
  const mode = process.argv[2] ?? 'all'
  if (!['all', 'ingest', 'lag', 'verify', 'proof'].includes(mode)) {
    console.error('usage: node bench/audit.js [all|ingest|lag|verify|proof]')
    return 2
  }
  watchdog(envInt('BENCH_TIMEOUT_S', 3600), hygiene)
  console.log(machineLine('audit'))
  const out = { loadavg: { start: loadavg() } }
  if (mode === 'all' || mode === 'ingest') out.ingest = await ingestPhase()
  if (mode === 'all' || mode === 'lag') out.lag = await lagPhase()
  if (mode === 'all' || mode === 'verify' || mode === 'proof') {
    const v = await verifyPhase()
    if (mode !== 'proof') out.verify = v
    if (mode === 'all' || mode === 'proof') out.proof = await proofPhase(v.dir)
  }
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
    process.stderr.write(`bench:audit ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    hygiene.cleanupSync()
    process.exit(1)
  },
)
