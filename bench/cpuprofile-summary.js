#!/usr/bin/env node
// Summarizes V8 .cpuprofile files (from `node --cpu-prof`): self and inclusive time per function
// and per package, without a browser.
//
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" BENCH_ROUNDS=1 BENCH_SKIP_LOOKUP=1 node bench/ingest.js ingest
//   node bench/cpuprofile-summary.js /tmp/prof/*.cpuprofile [--top 30] [--events N]
//
// With --events N (events the profiled process ingested), times are also shown in µs per event.
// Inclusive time counts a function once per sample even when it recurses.

import fs from 'node:fs'
import path from 'node:path'

const args = process.argv.slice(2)
let top = 30
let events = 0
const files = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i])
  else if (args[i] === '--events') events = Number(args[++i])
  else files.push(args[i])
}
if (files.length === 0) {
  console.error('usage: node bench/cpuprofile-summary.js FILE.cpuprofile… [--top N] [--events N]')
  process.exit(2)
}

/** Which package or layer a frame belongs to, from its script URL. */
function owner(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)'
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0]
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1]
  const p = /packages\/([^/]+)\/(?:dist|src)\/(.*)$/.exec(url)
  if (p) return `@inferlog/${p[1]}`
  return path.basename(url)
}

for (const file of files) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'))
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const dt = new Map() // node id -> summed sample time (µs)
  for (let i = 0; i < prof.samples.length; i++) {
    const d = prof.timeDeltas[i + 1] ?? 0
    dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + d)
  }
  const key = (n) => {
    const cf = n.callFrame
    const where = cf.url ? `${owner(cf.url, cf.functionName)} ${path.basename(cf.url)}:${cf.lineNumber + 1}` : ''
    return `${cf.functionName || '(anonymous)'}  ${where}`.trim()
  }
  const self = new Map()
  const incl = new Map()
  const byOwner = new Map()
  let total = 0
  let idle = 0
  for (const [id, t] of dt) {
    const n = nodes.get(id)
    total += t
    if (n.callFrame.functionName === '(idle)') idle += t
    const k = key(n)
    self.set(k, (self.get(k) ?? 0) + t)
    const o = owner(n.callFrame.url, n.callFrame.functionName)
    byOwner.set(o, (byOwner.get(o) ?? 0) + t)
    // Walk up once, crediting each distinct function on the stack.
    const seen = new Set()
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const kk = key(nodes.get(cur))
      if (seen.has(kk)) continue
      seen.add(kk)
      incl.set(kk, (incl.get(kk) ?? 0) + t)
    }
  }
  const busy = total - idle
  const show = (t) => {
    const ms = (t / 1000).toFixed(0).padStart(7) + ' ms'
    const pctBusy = ((100 * t) / busy).toFixed(1).padStart(5) + '%'
    return events ? `${ms} ${pctBusy} ${(t / events).toFixed(2).padStart(7)} µs/ev` : `${ms} ${pctBusy}`
  }
  console.log(`\n== ${file}`)
  console.log(
    `sampled ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s (percentages are of busy time)`,
  )
  console.log(`\n-- self time by package/layer --`)
  for (const [k, t] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) if (k !== '(idle)') console.log(`${show(t)}  ${k}`)
  console.log(`\n-- self time by function (top ${top}) --`)
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) if (!k.startsWith('(idle)')) console.log(`${show(t)}  ${k}`)
  console.log(`\n-- inclusive time by function (top ${top}) --`)
  for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top + 2))
    if (!k.startsWith('(root)') && !k.startsWith('(idle)')) console.log(`${show(t)}  ${k}`)
}
