// A host process for the SDK integration tests, run from the built package (npm test builds first).
// Usage: node sdk-host.mjs <mode> <json options>
//   spool-then-wait: logs `count` events (ids `${prefix}${i}`) to a collector that is down, prints
//                    "spooled N" as the spool fills and "all-spooled" once everything is on disk,
//                    then waits to be killed.
//   replay:          starts a logger on a non-empty spool, waits until it is empty, prints stats.
//   exit-natural:    logs `count` events and returns without flush/close (beforeExit must flush).
//   exit-sigterm:    logs `count` events, prints "logged", and keeps running until SIGTERM.
import { createLogger } from '../../dist/index.js'

const [mode, raw] = process.argv.slice(2)
const o = JSON.parse(raw)
const model = { name: 'host', version: '1.0.0' }
const out = (s) => process.stdout.write(`${s}\n`)

if (mode === 'spool-then-wait') {
  const log = createLogger({
    url: o.url,
    model,
    spool: { dir: o.spool },
    batch: { maxItems: 100, intervalMs: 20 },
    http: { retriesBeforeSpool: 0, initialBackoffMs: 200, maxBackoffMs: 200 },
    onError: () => {},
  })
  let i = 0
  let last = -1
  const report = setInterval(() => {
    const s = log.stats().spooled
    if (s !== last) out(`spooled ${s}`)
    last = s
    if (s === o.count) out('all-spooled')
  }, 5)
  const step = () => {
    for (let k = 0; k < 50 && i < o.count; k++, i++) log.log({ id: `${o.prefix}${i}`, input: { i }, output: { ok: true } })
    if (i < o.count) setTimeout(step, 2)
  }
  step()
  void report
} else if (mode === 'replay') {
  const log = createLogger({ url: o.url, model, spool: { dir: o.spool }, http: { initialBackoffMs: 50, maxBackoffMs: 200 }, onError: (e) => out(`error ${e.code} ${e.message}`) })
  const t = setInterval(async () => {
    const s = log.stats()
    if (s.replayed > 0 && s.spoolItems === 0) {
      clearInterval(t)
      await log.close()
      out(`stats ${JSON.stringify(s)}`)
    }
  }, 20)
} else if (mode === 'exit-natural') {
  const log = createLogger({ url: o.url, model, spool: { dir: false }, batch: { intervalMs: 60_000 } })
  for (let i = 0; i < o.count; i++) log.log({ id: `${o.prefix}${i}`, input: { i }, output: 1 })
} else if (mode === 'exit-sigterm') {
  const log = createLogger({ url: o.url, model, spool: { dir: false }, batch: { intervalMs: 60_000 } })
  for (let i = 0; i < o.count; i++) log.log({ id: `${o.prefix}${i}`, input: { i }, output: 1 })
  setInterval(() => {}, 1000)
  out('logged')
}

if (mode === 'store') {
  // Direct-to-store: the same pipeline, written into a SQLite store in this process.
  const errors = []
  const log = createLogger({ store: o.store, project: o.project, model, spool: { dir: false }, onError: (e) => errors.push(`${e.code}: ${e.message}`) })
  const ids = []
  for (let i = 0; i < o.count; i++) ids.push(log.log({ input: { i }, output: { y: i % 2 }, internals: { emb: new Float32Array([i, i + 0.5]) } }))
  log.feedback(ids[0], 'thumbs', 1)
  log.log({ input: 'no model', model: undefined, output: 1 }) // model present via options: fine
  log.log({ input: 1, output: 1, sample_rate: 7 }) // rejected by the store's validation
  await log.close()
  out(`result ${JSON.stringify({ stats: log.stats(), errors, first: ids[0] })}`)
}
