// Dataset build benchmark: `npm run bench:datasets` (builds first), or
// `node packages/datasets/scripts/bench-build.js [--store sqlite|postgres|synthetic] [--events 1000000]
//    [--format jsonl|jsonl-balanced|jsonl-read-ahead|jsonl-legacy|parquet|parquet-declared|parquet-read-ahead|parquet-one-thread|scan|parse|fixture|all]
//    [--read-ahead|--no-read-ahead] [--workers N] [--chunk N] [--young MB] [--old MB] [--row-group N]`. --young / --old: the build
// worker's heap (DatasetBuilds youngGenerationMb / oldGenerationMb); --chunk: events per scan chunk (default the compiler's: 500, parquet 100);
// --workers: threads compiling ranges of the log (DatasetBuilds workers and parquetWorkers; default
// theirs: min(2, cores), parquet 1; 1 = the whole build on the build worker's thread).
// sqlite (default) and postgres: N events (~1.2 KB of JSON each) and N feedback items stored through the
// store's own writeBatch, as committed batches of 2 000 events plus the labels of the previous 2 000
// (10% of events never labelled, 10% labelled twice: a later correction), then built from the store
// (`storeDatasetSource`, what the server and `inferlog dataset build --data` use). The store is made once
// and kept (`$BENCH_DATASETS_DIR`, default <tmpdir>/inferlog-bench-datasets; PostgreSQL: schema
// bench_datasets_N at $INFERLOG_PG_URL or the test server). synthetic: a DatasetSource that generates the
// same events chunk by chunk, to see the compiler without a store. Each format runs in its own child
// process (clean peak RSS); `scan` measures the source alone (events and their feedback), `parse` adds a
// JSON.parse of every body: a yardstick of this machine at the moment of the run. `*-read-ahead` (or
// --read-ahead with any format) builds with `DatasetBuilds({ readAhead: true })`: the store read on a
// second thread beside the compiler, the peer of the same format without it. Parquet on SQLite reads
// ahead by default (DatasetBuilds' default); `parquet-one-thread` (or --no-read-ahead) is its peer on
// one thread. Each line's `read_ahead` says which ran.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildDataset } from '../dist/index.js'

const args = process.argv.slice(2)

/**
 * The `readAhead` a format's build asks for: true for `*-read-ahead` or `--read-ahead`, false for
 * `parquet-one-thread` or `--no-read-ahead`, else undefined (DatasetBuilds' default).
 */
function readAheadOf(kind) {
  if (kind.endsWith('-read-ahead') || args.includes('--read-ahead')) return true
  if (kind === 'parquet-one-thread' || args.includes('--no-read-ahead')) return false
  return undefined
}
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : def
}
const N = Number(opt('events', '1000000'))
const format = opt('format', 'all')
const storeKind = opt('store', 'sqlite')
const T0 = Date.parse('2026-11-01T00:00:00.000Z')
const PLANS = ['free', 'pro', 'team']
const NOTE = 'customer asked about pricing of the pro plan and a discount for annual billing; was told to contact sales. '.repeat(3)

// Bodies vary over a pool of 1000 templates; only id and ts are spliced in per event, so the source's
// own cost stays small next to the compiler's (a store's driver hands out finished strings too).
const POOL = 1000
const templates = Array.from({ length: POOL }, (_, i) => {
  const body = fullBody(i, '\u0001', '\u0002')
  const a = body.indexOf('\u0001')
  const b = body.indexOf('\u0002')
  return [body.slice(0, a), body.slice(a + 1, b), body.slice(b + 1)]
})

const scratch = Buffer.alloc(64 * 1024)
const byteTemplates = templates.map((t) => t.map((part) => Buffer.from(part)))

/** A flat string decoded from bytes, as a database driver hands out (not a rope of concatenations). */
function eventBody(i) {
  const t = byteTemplates[i % POOL]
  let n = t[0].copy(scratch, 0)
  n += scratch.write(`evt-${String(i).padStart(10, '0')}`, n, 'latin1')
  n += t[1].copy(scratch, n)
  n += scratch.write(new Date(T0 + i * 1000).toISOString(), n, 'latin1')
  n += t[2].copy(scratch, n)
  return scratch.toString('utf8', 0, n)
}

function fullBody(i, id, ts) {
  const score = (i % 100) / 100
  return (
    `{"id":"${id}","ts":"${ts}","model":{"name":"churn-clf","version":"${i % 2 ? '3.2.0' : '3.3.0'}","params":{"threshold":0.5}},` +
    `"input":{"age":${20 + (i % 50)},"tenure_months":${i % 72},"plan":"${PLANS[i % 3]}","region":"${['eu', 'us', 'apac'][i % 3]}",` +
    `"monthly_spend":${(i % 1000) / 10},"logins_30d":${i % 31},"support_tickets":${i % 5},"is_annual":${i % 2 === 0},` +
    `"device":"${['ios', 'android', 'web'][i % 3]}","score_a":${(i * 7) % 100 / 100},"score_b":${(i * 13) % 100 / 100},"segment":"seg-${i % 20}","note":"${NOTE}"},` +
    `"output":{"label":${i % 3 === 0},"score":${score},"probabilities":[${1 - score},${score}]},` +
    `"latency_ms":{"total":12.5,"inference":9.1,"pre":1.2,"post":0.4},` +
    `"trace":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","session_id":"s-${i >> 3}","user_id":"u-${i % 5000}"},` +
    `"context":{"tags":{"region":"eu","env":"prod"},"experiment":{"name":"exp1","arm":"${i % 2 ? 'A' : 'B'}"}},"sample_rate":0.5}`
  )
}

/** Batches of PER_BATCH events; event i's feedback is committed in the next batch. */
function syntheticSource(n) {
  const perBatch = PER_BATCH
  return {
    async watermark() {
      return Math.ceil(n / perBatch) + 1
    },
    async *scanEvents(_project, _filter, bounds, chunkSize = 1000) {
      const start = (bounds.afterBatch ?? 0) * perBatch
      const end = Math.min(n, bounds.upToBatch * perBatch)
      for (let i = start; i < end; i += chunkSize) {
        const chunk = []
        for (let j = i; j < Math.min(end, i + chunkSize); j++) {
          chunk.push({ id: `evt-${String(j).padStart(10, '0')}`, batch: Math.floor(j / perBatch) + 1, seq: j + 1, tsMs: T0 + j * 1000, body: eventBody(j) })
        }
        yield chunk
      }
    },
    async feedbackFor(_project, ids, upToBatch) {
      const out = []
      for (const id of ids) {
        const j = Number(id.slice(4))
        const batch = Math.floor(j / perBatch) + 2
        if (batch > upToBatch) continue
        for (const [k, f] of feedbackOf(j).entries()) out.push({ ...f, batch, seq: n + 2 * j + k + 1 })
      }
      return out
    },
  }
}

/** Feedback of event j: none (j % 10 === 9), a label and a later correction (j % 10 === 8), else one label. */
function feedbackOf(j) {
  if (j % 10 === 9) return []
  const id = `evt-${String(j).padStart(10, '0')}`
  const item = (k, value, tsMs) => ({
    id: `fb-${j}-${k}`,
    eventId: id,
    name: 'label',
    tsMs,
    body: `{"id":"fb-${j}-${k}","event_id":"${id}","name":"label","value":${value},"ts":"${new Date(tsMs).toISOString()}","source":{"type":"user"}}`,
  })
  const first = item(0, j % 3 === 0, T0 + j * 1000 + 3_600_000)
  return j % 10 === 8 ? [first, item(1, j % 3 !== 0, T0 + j * 1000 + 7_200_000)] : [first]
}

const PER_BATCH = 2000

/** Writes the fixture through the store's writeBatch: events of batch k with the feedback of batch k − 1. */
async function fillStore(store, n) {
  const t0 = Date.now()
  for (let k = 0; k * PER_BATCH < n + PER_BATCH; k++) {
    const events = []
    for (let j = k * PER_BATCH; j < Math.min(n, (k + 1) * PER_BATCH); j++) {
      events.push({
        project: 'p',
        id: `evt-${String(j).padStart(10, '0')}`,
        tsMs: T0 + j * 1000,
        receivedMs: T0 + j * 1000,
        model: 'churn-clf',
        version: j % 2 ? '3.2.0' : '3.3.0',
        stage: 'primary',
        status: 'ok',
        sessionId: `s-${j >> 3}`,
        userId: `u-${j % 5000}`,
        arm: j % 2 ? 'A' : 'B',
        shadowOf: null,
        body: eventBody(j),
      })
    }
    const feedback = []
    for (let j = (k - 1) * PER_BATCH; j >= 0 && j < Math.min(n, k * PER_BATCH); j++)
      for (const f of feedbackOf(j)) feedback.push({ project: 'p', receivedMs: f.tsMs, ...f })
    if (events.length + feedback.length > 0) await store.writeBatch({ events, feedback })
  }
  // Fresh planner statistics, as autovacuum would have after a load like this (PostgreSQL).
  if (store.queryable) await store.queryable.query('ANALYZE')
  console.error(`bench:datasets: stored ${n} events and their feedback in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

/** The benchmark's store: made once (events + feedback), then reused; `close()` when done. */
async function openBenchStore(kind, n, { create }) {
  const server = await import('@inferlog/server')
  if (kind === 'sqlite') {
    const dir = process.env.BENCH_DATASETS_DIR ?? join(tmpdir(), 'inferlog-bench-datasets')
    mkdirSync(dir, { recursive: true })
    const file = join(dir, `sqlite-${n}.db`)
    if (!existsSync(`${file}.done`)) {
      if (!create) throw new Error('fixture missing')
      for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
      const store = server.openStore(`sqlite:${file}`)
      await store.migrate()
      await fillStore(store, n)
      await store.close()
      writeFileSync(`${file}.done`, '')
    }
    if (create) {
      // A store made by an older version: bring its schema up to date (a read-only open cannot).
      const writable = server.openStore(`sqlite:${file}`)
      await writable.migrate()
      await writable.close()
    }
    const store = server.openStore(`sqlite:${file}`, { readOnly: true })
    await store.migrate()
    return Object.assign(store, { url: `sqlite:${file}` })
  }
  const { PG_TEST_URL, withSchema } = await import('@inferlog/testkit')
  const url = withSchema(process.env.INFERLOG_PG_URL ?? PG_TEST_URL, `bench_datasets_${n}`)
  const store = server.openStore(url)
  await store.migrate()
  if ((await store.commitHead()) === 0) {
    if (!create) throw new Error('fixture missing')
    await fillStore(store, n)
  }
  return Object.assign(store, { url })
}

async function sourceFor(kind) {
  if (kind === 'synthetic') return { source: syntheticSource(N), close: async () => undefined }
  const { storeDatasetSource } = await import('@inferlog/server')
  const store = await openBenchStore(kind, N, { create: false })
  return { source: storeDatasetSource(store), store, close: () => store.close() }
}

const SPEC = {
  select: { model: 'churn-clf' },
  feedback: { label: { name: 'label', window: '7d', aggregate: 'latest', missing: 'drop' } },
  label: { from: 'label' },
  weight: 'inverse_sample_rate',
  split: { by: 'trace.session_id', ratios: { train: 0.8, validation: 0.1, test: 0.1 }, seed: 'bench' },
}

/**
 * The build path as it was before the bodies-only scans: full rows (`scanEvents`, every column as a
 * row object) and full feedback rows, compiled on the calling thread with V8's default heap. The
 * `jsonl-legacy` run measures it in the same run as the peer of `jsonl`.
 */
function legacySource(store) {
  return {
    watermark: () => store.commitHead(),
    async *scanEvents(project, f, bounds, chunkSize) {
      for await (const chunk of store.scanEvents(project, { model: f.model, status: f.status }, { after: bounds.afterBatch ?? 0, upTo: bounds.upToBatch }, chunkSize))
        yield chunk.map((e) => ({ id: e.id, batch: e.batch, seq: e.seq, tsMs: e.tsMs, body: e.body }))
    },
    async feedbackFor(project, ids, upTo) {
      return (await store.feedbackForEvents(project, ids, upTo)).map((f) => ({ id: f.id, eventId: f.eventId, name: f.name, tsMs: f.tsMs, batch: f.batch, seq: f.seq, body: f.body }))
    },
  }
}

/** Busy and total jiffies of the whole machine (Linux /proc/stat), to tell how much CPU other processes took during a run. */
function boxTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number)
    const total = f.reduce((a, b) => a + b, 0)
    return { busy: total - f[3] - f[4], total }
  } catch {
    return undefined
  }
}

async function runOne(kind) {
  const { source, store, close } = await sourceFor(storeKind)
  // From a store, a build runs as the server runs it (POST /v1/datasets): DatasetBuilds, in a
  // worker thread with its own connection and its young-generation setting. CPU time and peak RSS
  // below cover every thread of the process.
  const server = store ? await import('@inferlog/server') : undefined
  const t0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  const box0 = boxTicks()
  let rows = 0
  let bytes = 0
  let sha = ''
  // How the build read and compiled (DatasetBuilds' own decision, its defaults included); builds
  // without the server (synthetic, jsonl-legacy) run on one thread.
  let layout = kind === 'scan' || kind === 'parse' ? undefined : { readAhead: false, workers: 1 }
  if (kind === 'scan' || kind === 'parse') {
    // scan: the synthetic source alone. parse: plus JSON.parse of every event and feedback body, a
    // yardstick of what this machine does per stored row at the moment of the run.
    const wm = await source.watermark()
    for await (const chunk of source.scanEvents('p', {}, { upToBatch: wm }, 2000)) {
      rows += chunk.length
      const fb = await source.feedbackFor('p', chunk.map((e) => e.id), wm)
      if (kind === 'parse') {
        for (const e of chunk) bytes += JSON.parse(e.body).id.length
        for (const f of fb) bytes += JSON.parse(f.body).id.length
      }
    }
    bytes = 0
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-bench-ds-'))
    try {
      const legacy = kind === 'jsonl-legacy'
      // Explicit either way, or DatasetBuilds' default (parquet on SQLite reads ahead).
      const readAhead = readAheadOf(kind)
      const spec = { ...SPEC, format: kind.startsWith('jsonl') ? 'jsonl' : 'parquet' }
      // jsonl-balanced: class weights, so a counting pass reads the log first.
      if (kind === 'jsonl-balanced') spec.weight = 'balanced'
      if (kind === 'parquet-declared' || kind === 'parquet-read-ahead') {
        spec.columns = Object.fromEntries(
          ['age', 'tenure_months', 'monthly_spend', 'logins_30d', 'support_tickets', 'score_a', 'score_b'].map((k) => [`input.${k}`, 'double'])
            .concat(['plan', 'region', 'device', 'segment', 'note'].map((k) => [`input.${k}`, 'string']))
            .concat([['input.is_annual', 'boolean'], ['feedback.label', 'boolean'], ['label', 'boolean']]),
        )
      }
      const options = { dir, storeUrl: store?.url, ...(readAhead === undefined ? {} : { readAhead }), ...(opt('workers') ? { workers: Number(opt('workers')), parquetWorkers: Number(opt('workers')) } : {}), ...(opt('range-young') ? { rangeYoungGenerationMb: Number(opt('range-young')) } : {}), ...(opt('young') ? { youngGenerationMb: Number(opt('young')) } : {}), ...(opt('old') ? { oldGenerationMb: Number(opt('old')) } : {}), ...(opt('chunk') ? { chunkSize: Number(opt('chunk')) } : {}) }
      if (server && !legacy) layout = server.buildThreads(spec, store.url, options)
      const m = server && !legacy
        ? (await new server.DatasetBuilds(store, options).build('p', 'bench', spec, false)).manifest
        : await buildDataset({ source: legacy ? legacySource(store) : source, project: 'p', spec, outDir: join(dir, 'out'), ...(opt('chunk') ? { chunkSize: Number(opt('chunk')) } : {}), ...(opt('row-group') ? { rowGroupSize: Number(opt('row-group')) } : {}) })
      rows = m.counts.written
      bytes = m.files.reduce((a, f) => a + f.bytes, 0)
      // First 12 hex digits of each file's SHA-256: equal across peers of one format = the same bytes.
      sha = m.files.map((f) => `${f.name}:${f.sha256.slice(0, 12)}`).join(' ')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  await close()
  const cpuS = (cpu.user + cpu.system) / 1e6
  const box1 = boxTicks()
  // Cores the whole machine kept busy during the run, and the part of them that was not this process.
  const boxCores = box0 && box1 ? ((box1.busy - box0.busy) / (box1.total - box0.total)) * cpus().length : undefined
  const others = boxCores === undefined ? {} : { box_busy_cores: +boxCores.toFixed(2), others_cores: +(boxCores - cpuS / s).toFixed(2) }
  const rssMb = process.resourceUsage().maxRSS / 1024
  console.log(JSON.stringify({ store: storeKind, format: kind, workers: layout?.workers, ...(layout ? { read_ahead: layout.readAhead } : {}), events: N, rows, seconds: +s.toFixed(2), events_per_s: Math.round(N / s), rows_per_s: Math.round(rows / s), cpu_seconds: +cpuS.toFixed(2), cpu_user_seconds: +(cpu.user / 1e6).toFixed(2), cpu_sys_seconds: +(cpu.system / 1e6).toFixed(2), rows_per_cpu_s: Math.round(rows / cpuS), load_1m: +loadavg()[0].toFixed(1), output_mb: +(bytes / 1e6).toFixed(1), peak_rss_mb: Math.round(rssMb), ...others, ...(sha ? { sha256: sha } : {}) }))
}

if (format === 'all') {
  const self = fileURLToPath(import.meta.url)
  if (storeKind !== 'synthetic') await (await openBenchStore(storeKind, N, { create: true })).close()
  const kinds = ['scan', 'parse', 'jsonl', 'parquet-declared', 'parquet']
  if (storeKind !== 'synthetic') kinds.splice(2, 0, 'jsonl-legacy', 'jsonl-read-ahead')
  // parquet reads ahead by default on SQLite: its peer on one thread.
  if (storeKind !== 'synthetic') kinds.push('parquet-one-thread')
  for (const kind of kinds) {
    const pass = ['workers', 'range-young', 'chunk', 'young', 'old'].flatMap((k) => (opt(k) ? [`--${k}`, opt(k)] : []))
    for (const flag of ['--read-ahead', '--no-read-ahead']) if (args.includes(flag)) pass.push(flag)
    const r = spawnSync(process.execPath, [self, '--store', storeKind, '--events', String(N), '--format', kind, ...pass], { stdio: 'inherit' })
    if (r.status !== 0) process.exit(r.status ?? 1)
  }
} else if (format === 'fixture') {
  await (await openBenchStore(storeKind, N, { create: true })).close()
} else {
  await runOne(format)
}
