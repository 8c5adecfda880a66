#!/usr/bin/env node
// Commit-feed consumers' CPU per event in two (or more) builds, interleaved in one process: the
// paired comparison for a change to the consumers on a shared, noisy box. Each tree gets its own
// embedded store and app; block by block, each tree ingests the same events and feedback (through
// `app.fetch`, not timed), then its `FeedRunner.catchUp` applies them, timed as process CPU (this
// thread, the store's writer thread). The trees take turns within every block (order rotated), so
// a slower or faster minute of the box weighs on all of them alike; the first block warms up.
//
//   npm run build && ROOTS=/path/to/base,. node bench/feed-ab.js
//
//   ROOTS=.                   checkouts whose packages/server/dist is measured (comma-separated)
//   BENCH_CONSUMERS=metrics,profiles   consumer names (`all`: every default consumer)
//   BENCH_BLOCKS=8 BENCH_BLOCK=5000    blocks and events per block (a multiple of 1000)
//   BENCH_FEEDBACK=0.3 BENCH_INTERNALS=0   as bench/feed-consumers.js
//
// The runner is not started, so nothing is handed over as it commits: every step reads its
// batches back, without the parsed form, as a consumer thread or process gets them.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { envInt, median } from './lib/bench-util.js'
import { classifierBodies, MODEL, MODEL_CONFIG, postNdjson } from './lib/classifier-bodies.js'

const ROOTS = (process.env.ROOTS || '.').split(',').map((r) => path.resolve(r.trim()))
const ONLY = process.env.BENCH_CONSUMERS || 'metrics,profiles'
const BLOCKS = envInt('BENCH_BLOCKS', 8, 2)
const BLOCK = Math.max(1000, Math.floor(envInt('BENCH_BLOCK', 5000) / 1000) * 1000)
const FEEDBACK = Number(process.env.BENCH_FEEDBACK ?? 0.3)
const INTERNALS = envInt('BENCH_INTERNALS', 0, 0)
const quiet = { info() {}, warn() {}, error() {} }

const bodies = classifierBodies('ab', (BLOCKS * BLOCK) / 1000, { feedback: FEEDBACK, internals: INTERNALS })
const dirs = []
const trees = []
for (const root of ROOTS) {
  const s = await import(path.join(root, 'packages/server/dist/index.js'))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-bench-ab-'))
  dirs.push(dir)
  const store = s.openStore(`sqlite:${path.join(dir, 'app.db')}`)
  await store.migrate()
  await new s.ModelConfigs(store.derived).put('default', MODEL, MODEL_CONFIG)
  const consumers = s.defaultConsumers(store, ONLY === 'all' ? 'all' : ONLY.split(','))
  const runner = new s.FeedRunner(store, consumers, { logger: quiet })
  const core = s.createApp({ store, logger: quiet })
  trees.push({ root, store, core, runner, cpu: [] })
}

const post = (core, body, kind) => postNdjson(core, kind, body)

try {
  for (let b = 0; b < BLOCKS; b++) {
    const block = bodies.slice((b * BLOCK) / 1000, ((b + 1) * BLOCK) / 1000)
    const order = trees.map((_, i) => trees[(i + b) % trees.length])
    for (const t of order) {
      for (const x of block) {
        for (const e of x.events) await post(t.core, e, 'events')
        if (x.labels) await post(t.core, x.labels, 'feedback')
      }
      const c0 = process.cpuUsage()
      await t.runner.catchUp()
      const c = process.cpuUsage(c0)
      if (b > 0) t.cpu.push((c.user + c.system) / BLOCK)
    }
    process.stderr.write(`block ${b + 1}/${BLOCKS}: ${trees.map((t) => (t.cpu.at(-1) ?? Number.NaN).toFixed(1)).join(' / ')} µs/event\n`)
  }
  console.log(
    `\nFEED A/B  consumers ${ONLY}, ${BLOCKS - 1} timed blocks of ${BLOCK} events, ${FEEDBACK * 100}% labelled, internals ${INTERNALS}`,
  )
  const a = trees[0]
  for (const t of trees) {
    const ratios = t.cpu.map((x, i) => x / a.cpu[i])
    console.log(
      `${t.root.padEnd(40)} median ${median(t.cpu).toFixed(1).padStart(7)} µs/event   vs first: median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
    )
  }
  console.log(
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (2 CPUs shared)`,
  )
} finally {
  for (const t of trees) {
    await t.core.close()
    await t.store.close()
  }
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
}
