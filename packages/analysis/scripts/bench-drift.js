#!/usr/bin/env node
// Times computeDrift (exact mode) on 10 numerical + 10 categorical fields, reference and current
// windows of N rows each (default 500 000), columns already extracted (typed arrays), as the
// server holds them from its typed blobs. cpu_ms (this process's CPU time) is the figure to read on a
// shared machine, where wall time includes waiting for a core. Usage: npm run build && node packages/analysis/scripts/bench-drift.js [N] [rounds]
import * as analysis from '../dist/index.js'

const n = Number(process.argv[2] ?? 500_000)
const rounds = Number(process.argv[3] ?? 3)

function gaussian(random) {
  let u = 0
  while (u === 0) u = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}

function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function window(seed, shift) {
  const random = rng(seed)
  const cols = new Map()
  for (let f = 0; f < 10; f++) {
    const v = new Float64Array(n)
    for (let i = 0; i < n; i++) v[i] = random() < 0.01 ? Number.NaN : Math.round((gaussian(random) * (1 + f) + shift * f) * 1000) / 1000
    cols.set(`input.num${f}`, numericalColumn(v))
  }
  const cats = Array.from({ length: 50 }, (_, i) => `c${i}`)
  for (let f = 0; f < 10; f++) {
    const vals = new Array(n)
    for (let i = 0; i < n; i++) vals[i] = cats[Math.floor(random() ** (1 + shift) * (5 + 4 * f))]
    cols.set(`input.cat${f}`, categoricalColumn(vals))
  }
  return cols
}

const { categoricalColumn, computeDrift, numericalColumn } = analysis
const reference = window(1, 0)
const current = window(2, 0.05)
const fields = [...reference.keys()]
const times = []
const cpu = []
let report
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  report = computeDrift({ fields }, reference, current)
  const c1 = process.cpuUsage(c0)
  cpu.push((c1.user + c1.system) / 1000)
  times.push(performance.now() - t0)
}
const methods = {}
for (const f of report.fields) if (!('error' in f)) methods[f.method] = (methods[f.method] ?? 0) + 1
console.log(JSON.stringify({ bench: 'computeDrift exact', fields: fields.length, rows_per_window: n, wall_ms: times.map((t) => Math.round(t)), cpu_ms: cpu.map((t) => Math.round(t)), methods, drift_share: report.drift_share }))

if (typeof analysis.profileColumn === "function") {
  const { profileColumn, driftFromProfiles } = analysis
  const t0 = performance.now()
  const refProfiles = new Map(fields.map((f) => [f, profileColumn(reference.get(f))]))
  const curProfiles = new Map(fields.map((f) => [f, profileColumn(current.get(f))]))
  const build = performance.now() - t0
  const ptimes = []
  const pcpu = []
  for (let r = 0; r < rounds; r++) {
    const t1 = performance.now()
    const c0 = process.cpuUsage()
    driftFromProfiles({ fields }, refProfiles, curProfiles)
    const c1 = process.cpuUsage(c0)
    pcpu.push(Math.round((c1.user + c1.system) / 100) / 10)
    ptimes.push(performance.now() - t1)
  }
  console.log(JSON.stringify({ bench: 'driftFromProfiles', fields: fields.length, profile_build_ms: Math.round(build), wall_ms: ptimes.map((t) => Math.round(t * 10) / 10), cpu_ms: pcpu }))
}
