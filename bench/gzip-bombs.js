#!/usr/bin/env node
// Peak RSS of a collector under concurrent gzip bodies that inflate a thousandfold (the attack of
// test/http-hardening.int.test.ts), for one or more builds, runs interleaved so load hits them alike.
//
//   node bench/gzip-bombs.js [REPO_ROOT ...]     (default this checkout; each must be built)
//
// Each run starts `inferlog serve` on a fresh data directory, sends BENCH_CLIENTS simultaneous
// `POST /v1/events` of a ~25 KB gzip body inflating to 5 MB of NDJSON (every item rejected, so
// nothing is written) and prints the child's peak RSS (VmHWM), its idle RSS and the statuses. With
// BENCH_SUSTAIN_S set, each client sends again as soon as it is answered, for that many seconds.
//
// Environment (all optional): BENCH_RUNS=5 BENCH_CLIENTS=100 BENCH_SUSTAIN_S=0

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipBomb, postGzipNdjson, procStatusBytes } from '@inferlog/testkit'

const roots = process.argv.length > 2 ? process.argv.slice(2) : [fileURLToPath(new URL('..', import.meta.url))]
const runs = Number(process.env.BENCH_RUNS ?? 5)
const clients = Number(process.env.BENCH_CLIENTS ?? 100)
const sustainMs = Number(process.env.BENCH_SUSTAIN_S ?? 0) * 1000
const MiB = 1048576

// The test's attack body (this checkout's testkit, built), sent the test's way to every build.
const { body } = gzipBomb()

async function run(root) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bombs-'))
  const child = spawn(process.execPath, [path.join(root, 'packages/cli/bin/inferlog.js'), 'serve', '--port', '0', '--data', dir], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  try {
    const url = await new Promise((resolve, reject) => {
      let out = ''
      child.on('exit', (code) => reject(new Error(`serve exited (${code}) before printing its URL`)))
      child.stdout.on('data', (d) => {
        out += d
        const m = /^(http:\S+)$/m.exec(out)
        if (m) resolve(m[1])
      })
    })
    const idle = procStatusBytes(child.pid, 'VmRSS')
    const send = () => postGzipNdjson(url, body)
    const t0 = Date.now()
    const client = async () => {
      const got = [await send()]
      while (Date.now() - t0 < sustainMs) got.push(await send())
      return got
    }
    const statuses = (await Promise.all(Array.from({ length: clients }, client))).flat()
    const counts = {}
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1
    return { peak: procStatusBytes(child.pid, 'VmHWM'), idle, counts, ms: Date.now() - t0 }
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => (child.exitCode === null ? child.on('exit', r) : r()))
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

console.log(
  `gzip bombs: ${clients} clients, body ${body.length} B gzip, ${runs} runs, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
const peaks = new Map(roots.map((r) => [r, []]))
for (let i = 0; i < runs; i++) {
  for (const root of roots) {
    const r = await run(root)
    peaks.get(root).push(r.peak)
    console.log(
      `${root}  run ${i + 1}: peak RSS ${Math.round(r.peak / MiB)} MiB, idle ${Math.round(r.idle / MiB)} MiB, ${JSON.stringify(r.counts)}, ${r.ms} ms`,
    )
  }
}
for (const [root, p] of peaks) {
  const sorted = [...p].sort((a, b) => a - b)
  console.log(
    `${root}  peak RSS MiB: ${p.map((x) => Math.round(x / MiB)).join(' ')}  median ${Math.round(sorted[sorted.length >> 1] / MiB)}`,
  )
}
console.log(
  `load at the end ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
