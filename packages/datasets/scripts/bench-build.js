// Dataset build benchmark: `npm run bench:datasets` (builds first), or
// `node packages/datasets/scripts/bench-build.js [--events 1000000] [--format jsonl|parquet|parquet-declared|scan|parse|all]`.
// A synthetic DatasetSource generates N events (~1.2 KB of JSON each) in commit order, chunk by chunk,
// and one `label` feedback item per event, so the source holds nothing and the peak RSS measured is the
// compiler's. Each format runs in its own child process (clean peak RSS); `scan` measures the source alone.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildDataset } from '../dist/index.js'

const args = process.argv.slice(2)
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : def
}
const N = Number(opt('events', '1000000'))
const format = opt('format', 'all')
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

/** Batches of 1000 events; event i's label is committed in the next batch. */
function syntheticSource(n) {
  const perBatch = 1000
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
        if (batch > upToBatch || j % 10 === 9) continue // 10% never labeled
        const ts = new Date(T0 + j * 1000 + 3_600_000).toISOString()
        const fid = `fb-${j}`
        out.push({ id: fid, eventId: id, name: 'label', tsMs: T0 + j * 1000 + 3_600_000, batch, seq: n + j + 1, body: `{"id":"${fid}","event_id":"${id}","name":"label","value":${j % 3 === 0},"ts":"${ts}","source":{"type":"user"}}` })
      }
      return out
    },
  }
}

const SPEC = {
  select: { model: 'churn-clf' },
  feedback: { label: { name: 'label', window: '7d', aggregate: 'latest', missing: 'drop' } },
  label: { from: 'label' },
  weight: 'inverse_sample_rate',
  split: { by: 'trace.session_id', ratios: { train: 0.8, validation: 0.1, test: 0.1 }, seed: 'bench' },
}

async function runOne(kind) {
  const source = syntheticSource(N)
  const t0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  let rows = 0
  let bytes = 0
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
      const spec = { ...SPEC, format: kind === 'jsonl' ? 'jsonl' : 'parquet' }
      if (kind === 'parquet-declared') {
        spec.columns = Object.fromEntries(
          ['age', 'tenure_months', 'monthly_spend', 'logins_30d', 'support_tickets', 'score_a', 'score_b'].map((k) => [`input.${k}`, 'double'])
            .concat(['plan', 'region', 'device', 'segment', 'note'].map((k) => [`input.${k}`, 'string']))
            .concat([['input.is_annual', 'boolean'], ['feedback.label', 'boolean'], ['label', 'boolean']]),
        )
      }
      const m = await buildDataset({ source, project: 'p', spec, outDir: join(dir, 'out'), chunkSize: Number(opt('chunk', '500')), ...(opt('row-group') ? { rowGroupSize: Number(opt('row-group')) } : {}) })
      rows = m.counts.written
      bytes = m.files.reduce((a, f) => a + f.bytes, 0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  const cpuS = (cpu.user + cpu.system) / 1e6
  const rssMb = process.resourceUsage().maxRSS / 1024
  console.log(JSON.stringify({ format: kind, events: N, rows, seconds: +s.toFixed(2), events_per_s: Math.round(N / s), rows_per_s: Math.round(rows / s), cpu_seconds: +cpuS.toFixed(2), rows_per_cpu_s: Math.round(rows / cpuS), load_1m: +loadavg()[0].toFixed(1), output_mb: +(bytes / 1e6).toFixed(1), peak_rss_mb: Math.round(rssMb) }))
}

if (format === 'all') {
  const self = fileURLToPath(import.meta.url)
  for (const kind of ['scan', 'parse', 'jsonl', 'parquet-declared', 'parquet']) {
    const r = spawnSync(process.execPath, [self, '--events', String(N), '--format', kind], { stdio: 'inherit' })
    if (r.status !== 0) process.exit(r.status ?? 1)
  }
} else {
  await runOne(format)
}
