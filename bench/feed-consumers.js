#!/usr/bin/env node
// What each commit-feed consumer costs ingest, in CPU per event, in one process: the embedded app
// (`createApp` on the store the server opens: writer thread, commit tap) takes NDJSON batches
// through `app.fetch` (three requests in flight, as bench/ingest.js's clients; no sockets), with
// one consumer set running, until every consumer has applied the last batch. Process CPU (every
// thread: main, SQLite writer, checkpointer) per event is what other work on a shared box hardly
// changes, so settings are compared by it, and by the throughput ratio it implies on a CPU-bound
// box: ratio = CPU(none) / CPU(setting). Rounds alternate the settings' order.
//
//   npm run bench:consumers            (= npm run build && node bench/feed-consumers.js)
//   ROOT=/path/to/other/checkout node bench/feed-consumers.js     (that tree's packages/server/dist)
//
//   BENCH_CONSUMERS=none,metrics,profiles,audit,all   settings (consumer names, `none`, `all`; `+` joins names)
//   BENCH_EVENTS=60000        events per setting and round (1000 per request)
//   BENCH_FEEDBACK=0.3        share of events that get a label (sent after their batch)
//   BENCH_ROUNDS=3            rounds; the median is reported
//   BENCH_INTERNALS=0         floats of an `internals.embedding` in every event (e.g. 768: ~13 KB more
//                             JSON per event, as a model logging its embeddings; no consumer reads it)
//   BENCH_SHARED_ROWS=        the runner's batch cache bound in rows (FeedRunnerOptions.sharedRows; default its own)
//   BENCH_FEED=thread         where the consumers run: `thread` (FeedThread, as the embedded server runs
//                             them, at nice 0 here) or `inline` (FeedRunner on this event loop, with the commit tap)
//
// Events: bench/lib/classifier-bodies.js (a classifier, 20 monitored input fields, ~1 KB each).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { envInt, median } from './lib/bench-util.js'
import { classifierBodies, MODEL, MODEL_CONFIG, postNdjson } from './lib/classifier-bodies.js'

const root = process.env.ROOT || fileURLToPath(new URL('..', import.meta.url))
const s = await import(path.join(root, 'packages/server/dist/index.js'))
const N = Math.max(1000, Math.floor(envInt('BENCH_EVENTS', 60_000) / 1000) * 1000)
const ROUNDS = envInt('BENCH_ROUNDS', 3)
const FEEDBACK = Number(process.env.BENCH_FEEDBACK ?? 0.3)
const FEED = process.env.BENCH_FEED || 'thread'
const INTERNALS = envInt('BENCH_INTERNALS', 0, 0)
const SETTINGS = (process.env.BENCH_CONSUMERS || 'none,metrics,profiles,audit,all').split(',').map((x) => x.trim())
const quiet = { info() {}, warn() {}, error() {} }

async function runOnce(setting, round) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-bench-feedc-'))
  const store = s.openStore(`sqlite:${path.join(dir, 'app.db')}`)
  await store.migrate()
  await new s.ModelConfigs(store.derived).put('default', MODEL, MODEL_CONFIG)
  const only = setting === 'all' ? 'all' : setting === 'none' ? 'none' : setting.split('+')
  const consumers = s.defaultConsumers(store, only)
  // As the server runs them: in their own thread (nice 0 here: CPU is what is measured), or inline.
  const threaded = FEED === 'thread' && consumers.length > 0
  const runner = process.env.BENCH_SHARED_ROWS ? { sharedRows: Number(process.env.BENCH_SHARED_ROWS) } : {}
  const feed = threaded
    ? new s.FeedThread(store, { consumers: only, nice: 0, logger: quiet, runner })
    : new s.FeedRunner(store, consumers, { logger: quiet, ...runner })
  const core = s.createApp({ store, logger: quiet, onCommit: () => feed.poke() })
  const bodies = classifierBodies(`r${round}`, N / 1000 + 2, { feedback: FEEDBACK, internals: INTERNALS })
  const post = (body, kind) => postNdjson(core, kind, body)
  const caughtUp = async () => {
    const head = await store.commitHead()
    for (;;) {
      let behind = false
      for (const c of consumers) if ((await store.derived.watermark(c.name)) < head) behind = true
      if (!behind) return
      feed.poke()
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  feed.start()
  try {
    // Warm-up: two batches, not counted.
    for (const b of bodies.slice(0, 2)) {
      for (const e of b.events) await post(e, 'events')
      if (b.labels) await post(b.labels, 'feedback')
    }
    await caughtUp()
    const work = bodies.slice(2)
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    let next = 0
    await Promise.all(
      [0, 1, 2].map(async () => {
        while (next < work.length) {
          const b = work[next++]
          for (const e of b.events) await post(e, 'events')
          if (b.labels) await post(b.labels, 'feedback')
        }
      }),
    )
    const ackS = (performance.now() - t0) / 1000
    const cAck = process.cpuUsage(c0)
    await caughtUp()
    const doneS = (performance.now() - t0) / 1000
    const c1 = process.cpuUsage(c0)
    const cpuUs = c1.user + c1.system
    // Rows the consumers read back from the store (the cache no longer held them, or never did).
    const readBack = threaded ? feed.rowsReadBack : feed.readBack
    return { setting, events: N, ackS, doneS, cpuUsPerEvent: cpuUs / N, ackCpuUsPerEvent: (cAck.user + cAck.system) / N, readBack }
  } finally {
    await feed.stop()
    await core.close()
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const load0 = os.loadavg()
const results = Object.fromEntries(SETTINGS.map((x) => [x, []]))
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? SETTINGS : [...SETTINGS].reverse()
  for (const setting of order) {
    const x = await runOnce(setting, r)
    results[setting].push(x)
    console.error(
      `round ${r + 1} ${setting.padEnd(24)} ${x.cpuUsPerEvent.toFixed(1)} µs CPU/event until applied (${x.ackCpuUsPerEvent.toFixed(1)} until acknowledged); acknowledged in ${x.ackS.toFixed(2)} s, applied ${(x.doneS - x.ackS).toFixed(2)} s later; ${x.readBack} rows read back`,
    )
  }
}
const base = results.none ? median(results.none.map((x) => x.cpuUsPerEvent)) : undefined
console.log(
  `\nFEED CONSUMERS  ${N.toLocaleString('en-US')} events/setting/round, ${FEEDBACK * 100}% labelled, ${ROUNDS} rounds, consumers ${FEED}, tree ${root}`,
)
console.log(`${'setting'.padEnd(26)}${'CPU µs/ev'.padStart(11)}${'consumers µs/ev'.padStart(17)}${'implied ratio'.padStart(15)}`)
for (const setting of SETTINGS) {
  const cpu = median(results[setting].map((x) => x.cpuUsPerEvent))
  const extra = base === undefined ? '' : (cpu - base).toFixed(1)
  const ratio = base === undefined ? '' : (base / cpu).toFixed(2)
  console.log(`${setting.padEnd(26)}${cpu.toFixed(1).padStart(11)}${extra.padStart(17)}${ratio.padStart(15)}`)
}
console.log(`\nimplied ratio = CPU per event without consumers / with them: the ingest throughput ratio on a box whose CPU is the limit.`)
console.log(
  `load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at end ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} (2 CPUs shared)`,
)
