#!/usr/bin/env node
// Scan benchmark: stream every stored event (~1.2 KB each) with its feedback joined, through the
// store's LogScanner (scanEvents in commit order + one feedbackForEvents query per chunk), on
// SQLite and on PostgreSQL, beside a bare ceiling in the same run: the same rows read with a plain
// better-sqlite3 `.iterate()` / a pg cursor, no join, no decoding.
//
//   npm run bench:scan                 (builds first)
//   node bench/scan.js [all|sqlite|postgres]
//
// Environment (all optional):
//   BENCH_SCAN_EVENTS=1000000   events in the store
//   BENCH_FEEDBACK_RATIO=0.5    share of events with one feedback item (committed one batch later)
//   BENCH_ROUNDS=3              rounds; each round runs every method once (order rotated), in a fresh child process
//   BENCH_CHUNK=1000            rows per chunk (scan chunk, feedback lookup, cursor read)
//   BENCH_CACHE_DIR=<tmp>/inferlog-bench-cache   where the generated SQLite file is kept between runs
//   BENCH_TIMEOUT_S=3600        watchdog
//   BENCH_JSON=1                also print one JSON line with every number
//   BENCH_BASE_TREE=<dir>       another built checkout (e.g. `git worktree add DIR COMMIT`, npm run build):
//                               its store's scan is measured too, as a peer in the same run (`*-base`)
//   BENCH_BASE_PAGE_SIZE=4096   with BENCH_BASE_TREE: the base peer reads a SQLite file of the same data made
//                               with this page size (as an older store made it), beside this store's own file
//
// The SQLite file is generated once through SqliteStore.writeBatch (synchronous=OFF, 10 000 events
// per batch) and cached under BENCH_CACHE_DIR, keyed by the store's schema version, the data
// version of this file and the sizes; PostgreSQL (a throwaway cluster on a free port) is filled
// from that file through PostgresStore.writeBatch, batch for batch, on every run.
//
// Each measurement runs in its own child process (`node bench/scan.js --child METHOD ...`), so its
// peak RSS (VmHWM: the whole process, Node itself included) belongs to that scan alone.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createHygiene, envInt, envNum, fmtNum, fmtSummary, loadavg, lpad, machineLine, pad, summary, watchdog } from './lib/bench-util.js'
import {
  cachedFile,
  cachedPostgres,
  fillPostgresFrom,
  postgresSchemaVersion,
  SERVER_DIST,
  serverDist,
  sqliteSchemaVersion,
  storePageSize,
} from './lib/log-fixtures.js'

/** Bump when the generated data changes shape: cached files of another version are not reused. */
const DATA_VERSION = 1
const PROJECT = 'default'
const GEN_BATCH = 10_000

// ---------------------------------------------------------------------------------------------
// Child: one measurement
// ---------------------------------------------------------------------------------------------

const EVENT_COLUMNS = `project, id, seq, batch, ts_ms AS tsMs, received_ms AS receivedMs, model, version, stage, status,
  session_id AS sessionId, user_id AS userId, arm, shadow_of AS shadowOf, body`
const FEEDBACK_COLUMNS = `project, id, seq, batch, event_id AS eventId, name, ts_ms AS tsMs, received_ms AS receivedMs, body`
const PG_EVENT_COLUMNS = `project, id, seq, batch, ts_ms AS "tsMs", received_ms AS "receivedMs", model, version, stage, status,
  session_id AS "sessionId", user_id AS "userId", arm, shadow_of AS "shadowOf", body`
const PG_FEEDBACK_COLUMNS = `project, id, seq, batch, event_id AS "eventId", name, ts_ms AS "tsMs", received_ms AS "receivedMs", body`

/**
 * Through the port: chunks of events in commit order, one feedback query per chunk, joined by
 * event id (what a dataset build or a raw-row metric does).
 */
async function scanThroughStore(store, chunk) {
  const head = await store.commitHead()
  let events = 0
  let feedback = 0
  let joined = 0
  let bytes = 0
  for await (const rows of store.scanEvents(PROJECT, {}, { upTo: head }, chunk)) {
    const ids = new Array(rows.length)
    for (let i = 0; i < rows.length; i++) {
      ids[i] = rows[i].id
      bytes += rows[i].body.length
    }
    const fb = await store.feedbackForEvents(PROJECT, ids, head)
    const byEvent = new Map()
    for (const f of fb) {
      const l = byEvent.get(f.eventId)
      if (l) l.push(f)
      else byEvent.set(f.eventId, [f])
    }
    for (const e of rows) if (byEvent.has(e.id)) joined++
    events += rows.length
    feedback += fb.length
  }
  return { events, feedback, joined, bytes }
}

async function childMain(method, target, chunk) {
  const t0 = performance.now()
  let r
  if (method === 'sqlite-store') {
    // The store module alone (what a scanning worker loads), not the whole server.
    const { SqliteStore } = await import(pathToFileURL(path.join(SERVER_DIST, 'store/sqlite/sqlite-store.js')).href)
    const store = new SqliteStore({ filename: target, readonly: true })
    try {
      r = await timed(() => scanThroughStore(store, chunk))
    } finally {
      await store.close()
    }
  } else if (method === 'sqlite-bare') {
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(target, { readonly: true })
    try {
      r = await timed(async () => {
        let events = 0
        let feedback = 0
        let bytes = 0
        for (const e of db.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY seq`).iterate()) {
          events++
          bytes += e.body.length
        }
        for (const _f of db.prepare(`SELECT ${FEEDBACK_COLUMNS} FROM feedback ORDER BY seq`).iterate()) feedback++
        return { events, feedback, joined: Number.NaN, bytes }
      })
    } finally {
      db.close()
    }
  } else if (method === 'pg-store') {
    const { PostgresStore } = await import(pathToFileURL(path.join(SERVER_DIST, 'store/postgres/postgres-store.js')).href)
    const store = new PostgresStore({ connectionString: target, poolSize: 2 })
    try {
      r = await timed(() => scanThroughStore(store, chunk))
    } finally {
      await store.close()
    }
  } else if (method === 'pg-bare') {
    const { default: pg } = await import('pg')
    const { default: Cursor } = await import('pg-cursor')
    const client = new pg.Client({ connectionString: target })
    await client.connect()
    try {
      r = await timed(async () => {
        let events = 0
        let feedback = 0
        let bytes = 0
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
        for (const [table, cols, isEvents] of [
          ['events', PG_EVENT_COLUMNS, true],
          ['feedback', PG_FEEDBACK_COLUMNS, false],
        ]) {
          const cursor = client.query(new Cursor(`SELECT ${cols} FROM ${table}`))
          for (;;) {
            const rows = await cursor.read(chunk)
            if (rows.length === 0) break
            if (isEvents) {
              events += rows.length
              for (const e of rows) bytes += e.body.length
            } else feedback += rows.length
          }
          await cursor.close()
        }
        await client.query('COMMIT')
        return { events, feedback, joined: Number.NaN, bytes }
      })
    } finally {
      await client.end()
    }
  } else throw new Error(`unknown method ${method}`)
  const rssMb = peakRssMb()
  process.stdout.write(`${JSON.stringify({ ...r, peakRssMb: rssMb, totalSeconds: (performance.now() - t0) / 1000 })}\n`)
}

/**
 * This process's peak resident size, MB: `VmHWM` of /proc/self/status, which starts anew at exec.
 * (getrusage's maxrss does not on Linux: a child inherits the spawning parent's peak, so every
 * child reported at least the parent's size, e.g. 127 MB after the parent generated the data.)
 */
function peakRssMb() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
    if (m) return Number(m[1]) / 1024
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024
}

/** Runs the scan: wall time, this process's CPU time, and its resident memory before it started. */
async function timed(f) {
  const baseRssMb = process.memoryUsage().rss / 2 ** 20
  const c = process.cpuUsage()
  const t = performance.now()
  const r = await f()
  const cpu = process.cpuUsage(c)
  return { ...r, seconds: (performance.now() - t) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, baseRssMb }
}

// ---------------------------------------------------------------------------------------------
// Parent: data, rounds, report
// ---------------------------------------------------------------------------------------------

const hygiene = process.argv[2] === '--child' ? undefined : createHygiene()

/**
 * The cached SQLite store of `n` events (built when missing): 1.2 KB events from bench/ingest.js's
 * generator with time-ordered UUIDv7 ids, 10 000 per batch; each batch also carries the feedback
 * (`label`: the predicted class 90% of the time) of a `ratio` share of the previous batch's events.
 */
async function cachedSqlite(n, ratio, pageSize) {
  // The page size (a file keeps the one it was made with) is part of the name: a file made by an
  // older store is not measured as if this one had made it.
  const page = pageSize ?? (await storePageSize())
  const name = `${dataName(n, ratio, await sqliteSchemaVersion())}-page${page}.db`
  return cachedFile(name, (tmp) => generate(tmp, n, ratio, pageSize), hygiene)
}

/** What the generated log is, whatever holds it. */
function dataName(n, ratio, schema) {
  return `scan-d${DATA_VERSION}-s${schema}-${n}-${ratio}`
}

async function generate(file, n, ratio, pageSize) {
  const { SqliteStore } = await serverDist()
  const { createUuidV7 } = await import('@inferlog/schema')
  const { makeEvent, prng } = await import('./ingest.js')
  const store = new SqliteStore({ filename: file, synchronous: 'OFF', lookupIndexIntervalMs: 0, ...(pageSize ? { pageSize } : {}) })
  await store.migrate()
  const rng = prng(2026)
  const fbRng = prng(7)
  const start = Date.UTC(2026, 10, 1)
  let clock = start
  const uuid = createUuidV7(() => clock)
  const t0 = performance.now()
  let pending = [] // feedback for the next batch
  let feedbackTotal = 0
  for (let done = 0; done < n || pending.length > 0; ) {
    const k = Math.min(GEN_BATCH, n - done)
    const receivedMs = start + done * 50 + 1000
    const events = new Array(k)
    const next = []
    for (let j = 0; j < k; j++) {
      const tsMs = start + (done + j) * 50
      clock = tsMs
      const e = makeEvent(rng, tsMs)
      e.id = uuid()
      events[j] = {
        project: PROJECT,
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
        body: JSON.stringify(e),
      }
      if (fbRng() < ratio) {
        const fbTs = tsMs + 60_000
        const f = {
          id: `fb-${e.id}`,
          event_id: e.id,
          name: 'label',
          value: fbRng() < 0.9 ? e.output.label : 'other',
          ts: new Date(fbTs).toISOString(),
          source: { type: 'annotator' },
        }
        next.push({ project: PROJECT, id: f.id, eventId: e.id, name: 'label', tsMs: fbTs, receivedMs, body: JSON.stringify(f) })
      }
    }
    const res = await store.writeBatch({ events, feedback: pending })
    if (res.events.some((o) => o !== 'inserted') || res.feedback.some((o) => o !== 'inserted'))
      throw new Error('fill: an item was not inserted')
    feedbackTotal += pending.length
    pending = next
    done += k
    if (done % 100_000 === 0 && k > 0)
      process.stderr.write(
        `bench: scan fill ${fmtNum(done)}/${fmtNum(n)} events (${fmtNum(done / ((performance.now() - t0) / 1000))} ev/s)\n`,
      )
  }
  await store.close()
  process.stderr.write(
    `bench: generated ${fmtNum(n)} events, ${fmtNum(feedbackTotal)} feedback in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
  )
}

/**
 * A PostgreSQL cluster holding the same log, filled from the SQLite file through the store's writer
 * once (fsync off: only reads are measured) and cached beside it.
 */
async function filledPostgres(sqliteFile, n, ratio) {
  return cachedPostgres(
    `${dataName(n, ratio, await sqliteSchemaVersion())}-p${await postgresSchemaVersion()}.pgdata`,
    (url) => fillPostgresFrom(sqliteFile, url),
    hygiene,
    { settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } },
  )
}

/** Runs one measurement in a child process; resolves with its JSON line. */
function runChild(method, target, chunk, script = fileURLToPath(import.meta.url)) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '--child', method, target, String(chunk)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const p = { child, exited: new Promise((r) => child.once('close', r)) }
    hygiene.track(p)
    let out = ''
    let err = ''
    child.stdout.on('data', (c) => (out += c))
    child.stderr.on('data', (c) => (err = (err + c).slice(-4000)))
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${method} exited with ${code}: ${err}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()))
      } catch (e) {
        reject(new Error(`${method}: unreadable result ${JSON.stringify(out)}: ${e.message}`))
      }
    })
  })
}

async function main() {
  const mode = process.argv[2] ?? 'all'
  if (!['all', 'sqlite', 'postgres'].includes(mode)) {
    console.error('usage: node bench/scan.js [all|sqlite|postgres]')
    return 2
  }
  if (!fs.existsSync(path.join(SERVER_DIST, 'index.js'))) {
    console.error('bench: packages/server/dist is missing; run `npm run build` (or `npm run bench:scan`)')
    return 2
  }
  watchdog(envInt('BENCH_TIMEOUT_S', 3600), hygiene)
  const n = envInt('BENCH_SCAN_EVENTS', 1_000_000)
  const ratio = envNum('BENCH_FEEDBACK_RATIO', 0.5)
  const rounds = envInt('BENCH_ROUNDS', 3)
  const chunk = envInt('BENCH_CHUNK', 1000)
  // Another checkout (built), e.g. the commit before a change: its store measured as a peer in the same run.
  const base = process.env.BENCH_BASE_TREE ? path.resolve(process.env.BENCH_BASE_TREE) : undefined
  console.log(machineLine('scan'))
  const startLoad = loadavg()
  const file = await cachedSqlite(n, ratio)
  // The base tree's store as it would have made the file (e.g. 4096 before stores made 16 KiB pages).
  const basePage = envInt('BENCH_BASE_PAGE_SIZE', 0, 0)
  const baseFile = base && basePage > 0 && mode !== 'postgres' ? await cachedSqlite(n, ratio, basePage) : file
  const methods = []
  if (mode !== 'postgres') {
    methods.push({ key: 'sqlite-store', label: 'SQLite  store scan + feedback join', target: file })
    if (base)
      methods.push({
        key: 'sqlite-base',
        label: `SQLite  base tree store (peer)${baseFile === file ? '' : `, ${basePage} B pages`}`,
        target: baseFile,
        base: 'sqlite-store',
      })
    methods.push({ key: 'sqlite-bare', label: 'SQLite  bare iterate (ceiling)', target: file })
  }
  let pgs
  try {
    if (mode !== 'sqlite') {
      pgs = await filledPostgres(file, n, ratio)
      methods.push({ key: 'pg-store', label: 'PostgreSQL store scan + feedback join', target: pgs.url })
      if (base) methods.push({ key: 'pg-base', label: 'PostgreSQL base tree store (peer)', target: pgs.url, base: 'pg-store' })
      methods.push({ key: 'pg-bare', label: 'PostgreSQL bare cursor (ceiling)', target: pgs.url })
    }
    const { processCpuMs } = await import('@inferlog/testkit')
    const results = Object.fromEntries(methods.map((m) => [m.key, []]))
    const loads = []
    for (let r = 0; r < rounds; r++) {
      const order = methods.map((_, i) => methods[(i + r) % methods.length])
      for (const m of order) {
        // PostgreSQL does part of the work in its own processes: count their CPU too.
        const server0 = m.key.startsWith('pg') ? processCpuMs(pgs.pid, true) : 0
        const res = m.base
          ? await runChild(m.base, m.target, chunk, path.join(base, 'bench/scan.js'))
          : await runChild(m.key, m.target, chunk)
        res.serverCpuSeconds = m.key.startsWith('pg') ? (processCpuMs(pgs.pid, true) - server0) / 1000 : 0
        res.load = os.loadavg()[0]
        loads.push(res.load)
        results[m.key].push(res)
        process.stderr.write(
          `bench: round ${r + 1}/${rounds} ${pad(m.key, 13)} ${lpad(fmtNum(res.events / res.seconds), 9)} events/s wall, ${lpad(fmtNum(res.events / (res.cpuSeconds + res.serverCpuSeconds)), 9)} per CPU-second  (${fmtNum(res.events)} events + ${fmtNum(res.feedback)} feedback in ${res.seconds.toFixed(2)} s, CPU ${res.cpuSeconds.toFixed(2)} + server ${res.serverCpuSeconds.toFixed(2)} s, RSS ${res.baseRssMb.toFixed(0)} → peak ${res.peakRssMb.toFixed(0)} MB, load ${res.load.toFixed(2)})\n`,
        )
      }
    }
    // Every method read every row; the store's join matched each feedback item to its event.
    const feedbackRows = results[methods.find((m) => m.key.endsWith('-bare')).key][0].feedback
    for (const m of methods) {
      for (const x of results[m.key]) {
        if (x.events !== n) throw new Error(`${m.key} read ${x.events} events, expected ${n}`)
        if (x.feedback !== feedbackRows) throw new Error(`${m.key} read ${x.feedback} feedback rows, expected ${feedbackRows}`)
        if ((m.key.endsWith('-store') || m.key.endsWith('-base')) && x.joined !== x.feedback)
          throw new Error(`${m.key}: ${x.feedback} feedback rows but ${x.joined} events joined`)
      }
    }
    const out = { events: n, feedbackRatio: ratio, rounds, chunk, methods: {} }
    const lines = [
      '',
      `SCAN  ${fmtNum(n)} events (${(results[methods[0].key][0].bytes / n).toFixed(0)} B of JSON each) + ${fmtNum(feedbackRows)} feedback items (${ratio * 100}% of events) · chunks of ${chunk} · ${rounds} rounds, order rotated, each in a fresh process`,
      `${pad('method', 38)}${lpad('events per CPU-second', 36)}${lpad('events/s wall', 30)}${lpad('CPU µs/event', 14)}${lpad('RSS MB base→peak', 18)}`,
    ]
    for (const m of methods) {
      const rs = results[m.key]
      const cpuRate = summary(rs.map((x) => x.events / (x.cpuSeconds + x.serverCpuSeconds)))
      const rate = summary(rs.map((x) => x.events / x.seconds))
      const cpuUs = summary(rs.map((x) => ((x.cpuSeconds + x.serverCpuSeconds) * 1e6) / x.events))
      const rss = summary(rs.map((x) => x.peakRssMb))
      const base = summary(rs.map((x) => x.baseRssMb))
      out.methods[m.key] = { eventsPerCpuS: cpuRate, eventsPerS: rate, cpuUsPerEvent: cpuUs, peakRssMb: rss, baseRssMb: base }
      lines.push(
        `${pad(m.label, 38)}${lpad(fmtSummary(cpuRate), 36)}${lpad(fmtSummary(rate), 30)}${lpad(cpuUs.median.toFixed(2), 14)}${lpad(`${base.median.toFixed(0)}→${rss.max.toFixed(0)}`, 18)}`,
      )
    }
    lines.push('')
    for (const [store, bare, name] of [
      ['sqlite-store', 'sqlite-bare', 'SQLite'],
      ['sqlite-store', 'sqlite-base', 'SQLite: store / base tree store'],
      ['pg-store', 'pg-bare', 'PostgreSQL'],
      ['pg-store', 'pg-base', 'PostgreSQL: store / base tree store'],
    ]) {
      if (!out.methods[store] || !out.methods[bare]) continue
      const r = out.methods[store].eventsPerCpuS.median / out.methods[bare].eventsPerCpuS.median
      out[`${store}/${bare}`] = r
      lines.push(`${pad(`${name.includes(':') ? name : `${name}: store / bare ceiling`} (per CPU-second)`, 50)}${r.toFixed(2)}`)
    }
    const s = out.methods['sqlite-store']
    if (s) {
      lines.push(
        `target SQLite >= 300,000 events/s: ${s.eventsPerCpuS.median >= 300_000 ? 'MET' : 'NOT MET'} per CPU-second (median ${fmtNum(s.eventsPerCpuS.median)}); wall ${fmtNum(s.eventsPerS.median)}/s on this shared box`,
      )
    }
    for (const k of ['sqlite-store', 'pg-store']) {
      if (out.methods[k])
        lines.push(
          `target ${k} peak RSS <= 200 MB: ${out.methods[k].peakRssMb.max <= 200 ? 'MET' : 'NOT MET'} (max ${out.methods[k].peakRssMb.max.toFixed(0)} MB, of which ${out.methods[k].baseRssMb.median.toFixed(0)} MB before the scan)`,
        )
    }
    const endLoad = loadavg()
    lines.push(
      `load average at start ${startLoad}, at end ${endLoad}; 1-min load during the measurements ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`,
    )
    console.log(lines.join('\n'))
    out.loadavg = { start: startLoad, end: endLoad }
    if (process.env.BENCH_JSON === '1') console.log(JSON.stringify(out))
    return 0
  } finally {
    await pgs?.destroy()
  }
}

if (process.argv[2] === '--child') {
  childMain(process.argv[3], process.argv[4], Number(process.argv[5])).then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`${e.stack ?? e}\n`)
      process.exit(1)
    },
  )
} else {
  main().then(
    (code) => {
      hygiene.cleanupSync()
      process.exit(code)
    },
    (err) => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      hygiene.cleanupSync()
      process.exit(1)
    },
  )
}
