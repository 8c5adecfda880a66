#!/usr/bin/env node
// `verify` against a peer build in the same run: the same sealed SQLite store verified by this
// checkout's packages/server/dist and by another build (e.g. main before a change), alternately,
// on one thread and split among threads; rows per second of wall time and of CPU time (threads
// included). The numbers behind bench/README.md "Audit chain", verify before / after.
//
//   cp -r packages/server/dist /somewhere/dist-before      # before the change, built
//   BENCH_PEER_DIST=/somewhere/dist-before BENCH_SEALED=/tmp/sealed.db node bench/audit-verify-peer.js
//
// Environment: BENCH_PEER_DIST (required; a dist/ folder inside a checkout, so its packages
// resolve), BENCH_SEALED (a sealed store; made from bench:audit's cached 1M-event store when
// missing: sealing takes minutes), BENCH_ROUNDS=2, BENCH_MODES=one,jobs, BENCH_JOBS=2.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { envInt, fmtNum, loadavg, machineLine, median } from './lib/bench-util.js'
import { cacheDir, SERVER_DIST, sqliteSchemaVersion, storePageSize } from './lib/log-fixtures.js'

const peer = process.env.BENCH_PEER_DIST
if (!peer) {
  console.error('BENCH_PEER_DIST=<a built packages/server/dist to compare with> is required')
  process.exit(2)
}
const dists = { peer: path.resolve(peer), this: SERVER_DIST }
const file = process.env.BENCH_SEALED ?? path.join(os.tmpdir(), `inferlog-audit-sealed-1000000-page${await storePageSize()}.db`)
const rounds = envInt('BENCH_ROUNDS', 2)
const modes = (process.env.BENCH_MODES ?? 'one,jobs').split(',')
const jobs = envInt('BENCH_JOBS', 2)
const mod = {}
for (const [k, d] of Object.entries(dists)) mod[k] = await import(pathToFileURL(path.join(d, 'index.js')).href)

if (!fs.existsSync(file)) {
  // bench:audit's cached store (its name as bench/audit.js makes it).
  const src = path.join(cacheDir(), `audit-d1-s${await sqliteSchemaVersion()}-1000000-page${await storePageSize()}.db`)
  if (!fs.existsSync(src))
    throw new Error(`no sealed store at ${file} and no cached store to seal: run npm run bench:audit -- verify first`)
  const tmp = `${file}.${process.pid}.tmp`
  fs.copyFileSync(src, tmp)
  const s = mod.this
  const store = new s.SqliteStore({ filename: tmp, lookupIndexIntervalMs: 0 })
  await store.migrate()
  const t0 = performance.now()
  await new s.FeedRunner(store, [new s.AuditChainConsumer(store)], { maxBatches: 100 }).catchUp()
  await store.close()
  fs.renameSync(tmp, file)
  for (const x of ['-wal', '-shm']) fs.rmSync(tmp + x, { force: true })
  process.stderr.write(`sealed ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
}

console.log(machineLine('audit verify, peer vs this build'))
const out = {}
for (let r = 0; r < rounds; r++) {
  for (const mode of modes) {
    for (const k of Object.keys(dists)) {
      const m = mod[k]
      const store = new m.SqliteStore({ filename: file, lookupIndexIntervalMs: 0 })
      const c0 = process.cpuUsage()
      const t = performance.now()
      const rep =
        mode === 'one'
          ? await m.verifyChain(store)
          : await m.verifyChainParallel(store, `sqlite:${file}`, {
              jobs,
              script: pathToFileURL(path.join(dists[k], 'audit', 'verify-worker.js')),
            })
      const ms = performance.now() - t
      const c = process.cpuUsage(c0)
      await store.close()
      if (!rep.ok) throw new Error(`${k}: verify failed: ${JSON.stringify(rep.first_error)}`)
      const wall = rep.rows / (ms / 1000)
      const cpu = rep.rows / ((c.user + c.system) / 1e6)
      const key = `${mode === 'one' ? 'one thread' : `${jobs} threads`}, ${k}`
      out[key] ??= { wall: [], cpu: [] }
      out[key].wall.push(wall)
      out[key].cpu.push(cpu)
      console.log(
        `${key.padEnd(20)} ${fmtNum(rep.rows)} rows in ${(ms / 1000).toFixed(1)} s: ${fmtNum(wall)} rows/s wall, ${fmtNum(cpu)} rows per CPU-second, load ${loadavg()}`,
      )
    }
  }
}
for (const [k, v] of Object.entries(out))
  console.log(`median ${k.padEnd(20)} ${fmtNum(median(v.wall))} rows/s wall, ${fmtNum(median(v.cpu))} rows per CPU-second`)
