#!/usr/bin/env node
// Interop benchmark, two parts, each compared with its baseline in the same run:
//
//   proxy   latency a request adds when it goes through `inferlog proxy` instead of straight to
//           the (fake) upstream: p50/p99 of non-streamed chat completions, and time to the first
//           chunk of streamed ones. Target: p50 added ≤ 1 ms, first chunk within 1 ms.
//   otlp    spans/s ingested through POST /v1/traces (OTLP/JSON and protobuf) versus the same
//           content as native NDJSON events on POST /v1/events. Target: ≥ 0.5× native.
//
//   npm run bench:interop                 # build, then both parts (~1–2 minutes)
//   node bench/interop.js proxy           # one part (after `npm run build`)
//   BENCH_REQUESTS=500 BENCH_SPANS=5000 node bench/interop.js   # quick smoke run
//
// Every process is separate: fake upstream, proxy, collector (`inferlog serve`), and this client.
// Requests alternate direct / proxied so drift on a shared box hits both alike. Temp dirs are
// removed and children stopped at the end, on error and on Ctrl-C.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const SELF = fileURLToPath(import.meta.url)
const ROOT = path.resolve(path.dirname(SELF), '..')
const CLI = path.join(ROOT, 'packages/cli/bin/inferlog.js')
const args = process.argv.slice(2)
const env = (k, d) => Number(process.env[k] ?? d)

// ---------------------------------------------------------------- process hygiene

const children = new Set()
let tmpRoot
function tmp(name) {
  tmpRoot ??= fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-bench-interop-'))
  const d = path.join(tmpRoot, name)
  fs.mkdirSync(d, { recursive: true })
  return d
}
function cleanup() {
  for (const c of children) c.kill('SIGKILL')
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true })
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    cleanup()
    process.exit(130)
  })
}
const watchdog = setTimeout(() => {
  process.stderr.write('bench: watchdog: still running after 900 s, giving up\n')
  cleanup()
  process.exit(2)
}, env('BENCH_TIMEOUT_S', 900) * 1000)
watchdog.unref()

/** Starts a child whose first stdout line is its URL. */
function startChild(argv, label) {
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let err = ''
  child.stderr.on('data', (d) => (err += d.toString()))
  child.once('exit', () => children.delete(child))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start within 120 s: ${err}`)), 120_000)
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer)
      resolve({
        url: line.trim(),
        stop: () =>
          new Promise((r) => {
            if (child.exitCode !== null) return r()
            child.once('exit', () => r())
            child.kill('SIGTERM')
          }),
      })
    })
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}: ${err}`)))
  })
}

const startCollector = (dir) => startChild([CLI, 'serve', '--port', '0', '--data', dir], 'collector')

// ---------------------------------------------------------------- helpers

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })

/** One request; resolves with ms to the first body byte and to the end. */
function timedRequest(url, body) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' } },
      (res) => {
        let first
        res.on('data', () => {
          first ??= process.hrtime.bigint()
        })
        res.on('end', () => {
          const end = process.hrtime.bigint()
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode} from ${url}`))
          resolve({ firstMs: Number((first ?? end) - t0) / 1e6, totalMs: Number(end - t0) / 1e6 })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b)
  const i = (s.length - 1) * q
  const lo = Math.floor(i)
  const hi = Math.ceil(i)
  return s[lo] + (s[hi] - s[lo]) * (i - lo)
}

const median = (xs) => quantile(xs, 0.5)
const f3 = (x) => x.toFixed(3)

// ---------------------------------------------------------------- part 1: proxy

async function benchProxy() {
  const n = env('BENCH_REQUESTS', 3000)
  const streams = env('BENCH_STREAMS', Math.max(100, Math.round(n / 10)))
  const upstream = await startChild([SELF, '--role=upstream'], 'fake upstream')
  const collector = await startCollector(tmp('proxy-collector'))
  const proxy = await startChild([CLI, 'proxy', '--upstream', `${upstream.url}/v1`, '--port', '0', '--url', collector.url], 'proxy')
  try {
    const chat = JSON.stringify({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'How long does shipping take to Lyon?' }],
      temperature: 0.2,
    })
    const stream = JSON.stringify({ model: 'slow-stream', messages: [{ role: 'user', content: 'Hi' }], stream: true })
    const targets = { direct: `${upstream.url}/v1/chat/completions`, proxy: `${proxy.url}/v1/chat/completions` }
    // Warm-up: connections, JIT, the collector's first batches.
    for (let i = 0; i < 200; i++) for (const t of Object.values(targets)) await timedRequest(t, chat)
    const lat = { direct: [], proxy: [] }
    for (let i = 0; i < n; i++) {
      const order = i % 2 === 0 ? ['direct', 'proxy'] : ['proxy', 'direct']
      for (const k of order) lat[k].push((await timedRequest(targets[k], chat)).totalMs)
    }
    const ttfc = { direct: [], proxy: [] }
    for (let i = 0; i < streams; i++) {
      const order = i % 2 === 0 ? ['direct', 'proxy'] : ['proxy', 'direct']
      for (const k of order) ttfc[k].push((await timedRequest(targets[k], stream)).firstMs)
    }
    // Every proxied call is logged: wait for the SDK to deliver, then count them.
    let logged = 0
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200))
      const res = await fetch(`${collector.url}/metrics`)
      const m = /inferlog_ingest_items_total\{kind="event",outcome="inserted"\} (\d+)/.exec(await res.text())
      logged = m ? Number(m[1]) : 0
      if (logged >= 200 + n + streams) break
    }
    const row = (name, xs) => `| ${name} | ${f3(median(xs))} | ${f3(quantile(xs, 0.99))} |`
    const out = [
      '',
      `### Proxy (${n} chat completions and ${streams} streams each way, alternating)`,
      '',
      '| | p50 ms | p99 ms |',
      '| --- | --- | --- |',
      row('direct to upstream', lat.direct),
      row('through inferlog proxy', lat.proxy),
      `| **added** | **${f3(median(lat.proxy) - median(lat.direct))}** | ${f3(quantile(lat.proxy, 0.99) - quantile(lat.direct, 0.99))} |`,
      row('stream, first chunk, direct', ttfc.direct),
      row('stream, first chunk, proxy', ttfc.proxy),
      `| **first chunk added** | **${f3(median(ttfc.proxy) - median(ttfc.direct))}** | ${f3(quantile(ttfc.proxy, 0.99) - quantile(ttfc.direct, 0.99))} |`,
      '',
      `Proxied calls logged by the collector: ${logged} of ${200 + n + streams}. Targets: p50 added ≤ 1 ms; first chunk within 1 ms.`,
    ]
    console.log(out.join('\n'))
  } finally {
    await proxy.stop()
    await collector.stop()
    await upstream.stop()
  }
}

// ---------------------------------------------------------------- part 2: OTLP vs NDJSON

function words(n, seed) {
  const w = ['the', 'order', 'ships', 'tomorrow', 'from', 'our', 'warehouse', 'in', 'Lyon', 'refund', 'policy', 'customer']
  let s = ''
  let x = seed
  while (s.length < n) s += `${w[((x = (x * 1103515245 + 12345) & 0x7fffffff)) % w.length]} `
  return s.slice(0, n)
}

/** `n` hex digits determined by `seed` (never all zeros). */
const hex = (n, seed) => createHash('sha256').update(String(seed)).digest('hex').slice(0, n).replace(/^0/, '1')

/** `count` GenAI chat spans (~1.3 KB each as OTLP/JSON) in export requests of `batch` spans, as OTLP/JSON objects. */
function makeSpans(count, batch, salt) {
  const requests = []
  for (let start = 0; start < count; start += batch) {
    const spans = []
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const seed = i + 1
      const t = BigInt(Date.now() - 60_000) * 1_000_000n + BigInt(i) * 1000n
      const str = (key, v) => ({ key, value: { stringValue: v } })
      spans.push({
        traceId: hex(32, `t${salt}-${seed}`),
        spanId: hex(16, `s${salt}-${seed}`),
        name: 'chat gpt-4o',
        kind: 3,
        startTimeUnixNano: String(t),
        endTimeUnixNano: String(t + 850_000_000n),
        attributes: [
          str('gen_ai.operation.name', 'chat'),
          str('gen_ai.provider.name', 'openai'),
          str('gen_ai.request.model', 'gpt-4o'),
          str('gen_ai.response.model', 'gpt-4o-2024-08-06'),
          { key: 'gen_ai.request.temperature', value: { doubleValue: 0.2 } },
          { key: 'gen_ai.request.max_tokens', value: { intValue: '256' } },
          { key: 'gen_ai.usage.input_tokens', value: { intValue: String(100 + (i % 50)) } },
          { key: 'gen_ai.usage.output_tokens', value: { intValue: String(40 + (i % 30)) } },
          str('gen_ai.response.id', `chatcmpl-${seed}`),
          str('gen_ai.conversation.id', `conv-${i % 1000}`),
          str('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: words(400, seed) }] }])),
          str(
            'gen_ai.output.messages',
            JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: words(300, seed + 1) }], finish_reason: 'stop' }]),
          ),
        ],
        status: { code: 1 },
      })
    }
    requests.push({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop-assistant' } }] },
          scopeSpans: [{ scope: { name: 'bench' }, spans }],
        },
      ],
    })
  }
  return requests
}

async function encoders() {
  const { default: protobuf } = await import(path.join(ROOT, 'node_modules/protobufjs/index.js'))
  const { readExportRequest } = await import(path.join(ROOT, 'packages/server/dist/otlp/read-export-request.js'))
  const { mapSpan } = await import(path.join(ROOT, 'packages/server/dist/otlp/genai-span-mapping.js'))
  const root = new protobuf.Root()
  const protoDir = path.join(ROOT, 'packages/server/proto')
  root.resolvePath = (_o, t) => path.join(protoDir, t)
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto')
  const Req = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
  const toBytes = (v) => Buffer.from(v, 'hex')
  return {
    protobuf(reqObj) {
      const copy = structuredClone(reqObj)
      for (const rs of copy.resourceSpans)
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) {
            s.traceId = toBytes(s.traceId)
            s.spanId = toBytes(s.spanId)
          }
      return Buffer.from(Req.encode(Req.fromObject(copy)).finish())
    },
    /** The same content as the events the server makes from these spans. */
    ndjson(reqObj) {
      return `${readExportRequest(reqObj)
        .spans.map((s) => JSON.stringify(mapSpan(s).event))
        .join('\n')}\n`
    },
  }
}

async function postAll(url, bodies, contentType, clients) {
  let next = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (;;) {
        const i = next++
        if (i >= bodies.length) return
        for (;;) {
          const res = await fetch(url, { method: 'POST', body: bodies[i], headers: { 'content-type': contentType } })
          const text = await res.text()
          if (res.status === 503) {
            await new Promise((r) => setTimeout(r, 20))
            continue
          }
          if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${url}: ${text.slice(0, 300)}`)
          if (text.includes('rejected') && /"rejectedSpans":"[1-9]|"rejected":\[\{/.test(text))
            throw new Error(`items rejected: ${text.slice(0, 300)}`)
          break
        }
      }
    }),
  )
  return Number(process.hrtime.bigint() - t0) / 1e9
}

async function benchOtlp() {
  const count = env('BENCH_SPANS', 30000)
  const batch = env('BENCH_BATCH', 512)
  const rounds = env('BENCH_ROUNDS', 3)
  const clients = env('BENCH_CLIENTS', 3)
  const enc = await encoders()
  const results = { ndjson: [], otlpJson: [], otlpProto: [] }
  let bytes
  for (let r = 0; r < rounds; r++) {
    // Fresh ids every round (a re-send would be a duplicate, cheaper than an insert).
    const requests = makeSpans(count, batch, r * 7919)
    const bodies = {
      ndjson: requests.map((q) => enc.ndjson(q)),
      otlpJson: requests.map((q) => JSON.stringify(q)),
      otlpProto: requests.map((q) => enc.protobuf(q)),
    }
    bytes ??= Object.fromEntries(Object.entries(bodies).map(([k, v]) => [k, Math.round(v.reduce((n, b) => n + b.length, 0) / count)]))
    const methods = ['ndjson', 'otlpJson', 'otlpProto']
    const order = methods.slice(r % 3).concat(methods.slice(0, r % 3))
    for (const m of order) {
      const collector = await startCollector(tmp(`otlp-${r}-${m}`))
      try {
        const path = m === 'ndjson' ? '/v1/events' : '/v1/traces'
        const type = m === 'ndjson' ? 'application/x-ndjson' : m === 'otlpJson' ? 'application/json' : 'application/x-protobuf'
        // Warm-up on other ids.
        const warm = makeSpans(2 * batch, batch, 1_000_003 + r)
        const warmBodies =
          m === 'ndjson'
            ? warm.map((q) => enc.ndjson(q))
            : m === 'otlpJson'
              ? warm.map((q) => JSON.stringify(q))
              : warm.map((q) => enc.protobuf(q))
        await postAll(collector.url + path, warmBodies, type, clients)
        const secs = await postAll(collector.url + path, bodies[m], type, clients)
        results[m].push(count / secs)
        process.stderr.write(`round ${r + 1} ${m}: ${Math.round(count / secs)} items/s\n`)
      } finally {
        await collector.stop()
      }
    }
  }
  const nd = median(results.ndjson)
  const lines = [
    '',
    `### OTLP vs native (${count} GenAI spans, batches of ${batch}, ${clients} clients, median of ${rounds} rounds)`,
    '',
    '| body | bytes/item | items/s (median) | every round | ratio to NDJSON |',
    '| --- | --- | --- | --- | --- |',
    ...[
      ['native NDJSON events', 'ndjson'],
      ['OTLP/JSON spans', 'otlpJson'],
      ['OTLP/protobuf spans', 'otlpProto'],
    ].map(
      ([name, k]) =>
        `| ${name} | ${bytes[k]} | ${Math.round(median(results[k]))} | ${results[k].map((x) => Math.round(x)).join(', ')} | ${(median(results[k]) / nd).toFixed(2)} |`,
    ),
    '',
    'Target: OTLP ≥ 0.5× native NDJSON for the same content.',
  ]
  console.log(lines.join('\n'))
}

// ---------------------------------------------------------------- main

async function main() {
  if (args.includes('--role=upstream')) {
    const { startFakeOpenAI } = await import(path.join(ROOT, 'packages/sdk/src/test-support/fake-openai-upstream.mjs'))
    const fake = await startFakeOpenAI({ chunkDelayMs: 2 })
    console.log(fake.url)
    process.once('SIGTERM', () => fake.close().then(() => process.exit(0)))
    return
  }
  const parts = args.filter((a) => !a.startsWith('-'))
  const which = parts.length > 0 ? parts : ['proxy', 'otlp']
  console.log(`# bench:interop  (${os.cpus().length} cores, Node ${process.version})`)
  try {
    if (which.includes('proxy')) await benchProxy()
    if (which.includes('otlp')) await benchOtlp()
  } finally {
    agent.destroy()
    cleanup()
  }
}

main().catch((e) => {
  console.error(e)
  cleanup()
  process.exit(1)
})
