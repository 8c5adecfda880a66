#!/usr/bin/env node
// SDK benchmark: per-event cost on the calling thread of @inferlog/sdk, pino (async destination),
// OpenTelemetry JS (span + BatchSpanProcessor + OTLP/HTTP JSON exporter) and langfuse v3
// (trace + generation), for a 1.2 KB event and a 20 KB event with 50×5 token logprobs and a
// 384-float embedding. Every library sends to a local dummy collector in its own process.
//
//   npm run bench:sdk                 # build, then run everything (~1–2 minutes)
//   node bench/sdk.js --quick         # fewer events, for a smoke run
//   node bench/sdk.js --only=inferlog,pino
//
// Calls rotate through 256 distinct events of each kind, the same ones for every library.
//
// Two numbers per row:
//   sync µs      median over rounds of 100 calls of the time one logging call takes
//   thread µs    main-thread on-CPU time (Linux schedstat) from the first call until
//                everything is delivered, divided by the events: serialization, compression and
//                sending included, wherever the library does them on the calling thread
//   cpu µs       the whole process's CPU time per event (adds thread-pool work such as gzip)
// Each (library, event) pair runs in a fresh Node process.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const SELF = fileURLToPath(import.meta.url)
const args = process.argv.slice(2)

// ---------------------------------------------------------------- events

function text(n, seed) {
  const words = [
    'the',
    'model',
    'answered',
    'quickly',
    'order',
    'shipping',
    'tomorrow',
    'refund',
    'policy',
    'customer',
    'support',
    'ticket',
  ]
  let s = ''
  let i = seed
  while (s.length < n) s += words[(i = (i * 1103515245 + 12345) & 0x7fffffff) % words.length] + ' '
  return s.slice(0, n)
}

function rng(seed) {
  let x = seed
  return () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 2 - 1
}

const MODEL = { name: 'support-assistant', version: '3.2.0', params: { temperature: 0.2, max_tokens: 256 } }

/** The 1.2 KB chat event, as plain JSON (`seed` varies texts and numbers). */
function smallEvent(seed = 0) {
  return {
    model: MODEL,
    input: {
      messages: [
        { role: 'system', content: text(180, 1) },
        { role: 'user', content: text(420, 2 + seed * 7) },
      ],
    },
    output: { role: 'assistant', content: text(260, 3 + seed * 11), finish_reason: 'stop' },
    latency_ms: { total: 400 + (seed % 97), ttft: 90 + (seed % 13) },
    usage: { input_tokens: 142 + (seed % 50), output_tokens: 61 + (seed % 40), cost_usd: 0.000153 },
    trace: { session_id: `sess-${seed % 100}`, user_id: `u_${(seed * 7919) % 100000}` },
    context: { experiment: { name: 'prompt-v7', arm: 'treatment' }, tags: { region: 'eu-west' } },
  }
}

/** The 20 KB event: 50 generated tokens × top-5 logprobs and token ids, a 384-float embedding. */
function tensorTyped(seed = 0) {
  const r = rng(7 + seed)
  const emb = new Float32Array(384).map(() => r() * 0.1)
  const lp = new Float32Array(250).map(() => -Math.abs(r() * 8))
  const ids = new Int32Array(250).map(() => Math.floor(Math.abs(r()) * 50_000))
  return { emb, lp, ids }
}

function tensorEventPlain(seed = 0) {
  const { emb, lp, ids } = tensorTyped(seed)
  const rows = (a) => Array.from({ length: 50 }, (_, i) => Array.from(a.subarray(i * 5, i * 5 + 5)))
  return {
    ...smallEvent(seed),
    input: {
      messages: [
        { role: 'system', content: text(600, 4) },
        { role: 'user', content: text(1800, 5 + seed * 13) },
      ],
    },
    output: { role: 'assistant', content: text(700, 6 + seed * 17), finish_reason: 'stop' },
    internals: { embedding: Array.from(emb), top_logprobs: rows(lp), top_token_ids: rows(ids) },
  }
}

/** The same 20 KB event as the inferlog SDK takes it: typed arrays, sent as base64 tensors. */
function tensorEventTyped(seed = 0) {
  const { emb, lp, ids } = tensorTyped(seed)
  const plain = tensorEventPlain(seed)
  return {
    ...plain,
    internals: { embedding: emb, top_logprobs: { shape: [50, 5], data: lp }, top_token_ids: { shape: [50, 5], data: ids } },
  }
}

// ---------------------------------------------------------------- dummy collector

function serveDummy() {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const p = req.url ?? ''
      let status = 200
      let body = '{}'
      if (p.startsWith('/v1/events') || p.startsWith('/v1/feedback')) body = '{"accepted":0,"duplicates":0,"ids":[],"rejected":[]}'
      else if (p.startsWith('/api/public/ingestion')) {
        status = 207
        body = '{"successes":[],"errors":[]}'
      }
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    })
  })
  server.keepAliveTimeout = 65_000
  server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`))
}

// ---------------------------------------------------------------- one measurement

/**
 * On-CPU time of the main thread, ns (Linux schedstat: unaffected by time spent waiting for a
 * core on a busy machine). Elsewhere: event-loop busy time, which also counts such waits.
 */
function mainThreadCpuNs() {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0])
  } catch {
    return undefined
  }
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
const yieldLoop = () => new Promise((r) => setImmediate(r))

async function measure(call, flush, n) {
  const ROUND = 100
  // Warm-up: JIT (every library's code reaches its optimizing tier), connections, buffers.
  for (let r = 0; r < Math.min(100, n / ROUND / 2); r++) {
    for (let i = 0; i < ROUND; i++) call()
    await yieldLoop()
  }
  await flush()
  globalThis.gc?.()
  const elu0 = performance.eventLoopUtilization()
  const cpu0 = process.cpuUsage()
  const thread0 = mainThreadCpuNs()
  const t0 = performance.now()
  const rounds = []
  for (let r = 0; r < n / ROUND; r++) {
    const t = performance.now()
    for (let i = 0; i < ROUND; i++) call()
    rounds.push(((performance.now() - t) * 1000) / ROUND)
    await yieldLoop()
  }
  await flush()
  const wall = performance.now() - t0
  const elu = performance.eventLoopUtilization(elu0)
  const cpu = process.cpuUsage(cpu0)
  const thread1 = mainThreadCpuNs()
  return {
    syncUs: median(rounds),
    syncP90Us: [...rounds].sort((a, b) => a - b)[Math.floor(rounds.length * 0.9)],
    threadUs: thread0 !== undefined && thread1 !== undefined ? (thread1 - thread0) / 1000 / n : (elu.active * 1000) / n,
    eluUs: (elu.active * 1000) / n,
    cpuUs: (cpu.user + cpu.system) / n,
    wallMs: wall,
  }
}

// Calls rotate through this many distinct events (realistic compression, no single hot object).
const POOL = 256

async function runOne(lib, kind, url, n) {
  const plains = Array.from({ length: POOL }, (_, i) => (kind === 'small' ? smallEvent(i) : tensorEventPlain(i)))
  const bytes = Math.round(plains.reduce((a, e) => a + Buffer.byteLength(JSON.stringify(e)), 0) / POOL)
  let k = 0
  const next = () => plains[k++ & (POOL - 1)]
  let call
  let flush = async () => {}
  let close = async () => {}
  let extra = {}
  if (lib === 'JSON.stringify') {
    let sink = 0
    call = () => {
      sink += JSON.stringify(next()).length
    }
    extra = { sink: 0 }
    void sink
  } else if (lib === 'inferlog') {
    const { createLogger } = await import('@inferlog/sdk')
    const evs = kind === 'small' ? plains : Array.from({ length: POOL }, (_, i) => tensorEventTyped(i))
    const log = createLogger({
      url,
      model: MODEL,
      spool: { dir: false },
      queue: { maxItems: 1_000_000, maxBytes: 2 ** 31 },
      ...(process.env.BENCH_BATCH ? { batch: { maxItems: Number(process.env.BENCH_BATCH) } } : {}),
      ...(process.env.BENCH_GZIP ? { http: { gzipLevel: Number(process.env.BENCH_GZIP) } } : {}),
      flushOnExit: false,
    })
    call = () => log.log(evs[k++ & (POOL - 1)])
    flush = () => log.flush()
    close = async () => {
      const s = log.stats()
      extra = { sent: s.sent, dropped: s.dropped, failed: s.failed, wireBytesPerEvent: Math.round(s.bytesSent / s.sent) }
      await log.close()
    }
  } else if (lib === 'pino') {
    const { default: pino } = await import('pino')
    const dest = pino.destination({ dest: '/dev/null', sync: false })
    const logger = pino({ base: undefined }, dest)
    call = () => logger.info(next())
    flush = () => new Promise((r) => dest.flush(() => r()))
  } else if (lib === 'opentelemetry') {
    const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    const exporter = new OTLPTraceExporter({ url: `${url}/v1/traces` })
    const processor = new BatchSpanProcessor(exporter, { maxQueueSize: 1_000_000, maxExportBatchSize: 512, scheduledDelayMillis: 100 })
    const provider = new BasicTracerProvider({ spanProcessors: [processor] })
    const tracer = provider.getTracer('bench')
    call = () => {
      const plain = next()
      // What a GenAI instrumentation records: structured values as JSON strings, tensors as number arrays.
      const attributes = {
        'gen_ai.request.model': MODEL.name,
        'gen_ai.request.temperature': MODEL.params.temperature,
        'gen_ai.input.messages': JSON.stringify(plain.input.messages),
        'gen_ai.output.messages': JSON.stringify([plain.output]),
        'gen_ai.usage.input_tokens': plain.usage.input_tokens,
        'gen_ai.usage.output_tokens': plain.usage.output_tokens,
        'session.id': plain.trace.session_id,
        'user.id': plain.trace.user_id,
      }
      if (plain.internals) {
        attributes['inferlog.embedding'] = plain.internals.embedding
        attributes['inferlog.top_logprobs'] = plain.internals.top_logprobs.flat()
        attributes['inferlog.top_token_ids'] = plain.internals.top_token_ids.flat()
      }
      tracer.startSpan('chat', { attributes }).end()
    }
    flush = () => provider.forceFlush()
    close = () => provider.shutdown()
  } else if (lib === 'langfuse') {
    const { Langfuse } = await import('langfuse')
    // Shipped defaults (flushAt 15): its Node client re-serializes the whole pending queue on every
    // enqueue, so a larger flushAt costs more per event, not less.
    const lf = new Langfuse({ publicKey: 'pk-lf-bench', secretKey: 'sk-lf-bench', baseUrl: url })
    call = () => {
      const plain = next()
      const trace = lf.trace({
        name: 'chat',
        userId: plain.trace.user_id,
        sessionId: plain.trace.session_id,
        input: plain.input,
        output: plain.output,
      })
      trace.generation({
        name: 'llm',
        model: MODEL.name,
        modelParameters: MODEL.params,
        input: plain.input,
        output: plain.output,
        usage: { input: plain.usage.input_tokens, output: plain.usage.output_tokens },
        ...(plain.internals ? { metadata: { internals: plain.internals } } : {}),
      })
    }
    flush = () => lf.flushAsync()
    close = () => lf.shutdownAsync()
  } else throw new Error(`unknown library ${lib}`)
  const m = await measure(call, flush, n)
  await close()
  return { lib, kind, bytes, n, ...m, ...extra }
}

// ---------------------------------------------------------------- orchestration

function child(argv) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--expose-gc', SELF, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] })
    let result
    createInterface({ input: c.stdout }).on('line', (l) => {
      if (l.startsWith('RESULT ')) result = JSON.parse(l.slice(7))
    })
    c.once('exit', (code) => (result ? resolve(result) : reject(new Error(`${argv.join(' ')} exited ${code} without a result`))))
  })
}

function startDummy() {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [SELF, '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] })
    createInterface({ input: c.stdout }).once('line', (url) => resolve({ url: url.trim(), stop: () => c.kill() }))
    c.once('error', reject)
  })
}

const f = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))

async function main() {
  const quick = args.includes('--quick')
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice(7)
    .split(',')
  const libs = only ?? ['JSON.stringify', 'inferlog', 'pino', 'opentelemetry', 'langfuse']
  const repeat = Number(args.find((a) => a.startsWith('--repeat='))?.slice(9) ?? (quick ? 1 : 3))
  const dummy = await startDummy()
  const runs = []
  try {
    for (const kind of ['small', 'tensor']) {
      const n = quick ? 2000 : kind === 'small' ? 50_000 : 10_000
      for (let rep = 0; rep < repeat; rep++) {
        // Rotate the order each repetition so that drift on a shared machine hits every library alike.
        const order = libs.map((_, i) => libs[(i + rep) % libs.length])
        for (const lib of order) {
          const r = await child(['--run', lib, kind, dummy.url, String(n)])
          runs.push(r)
          process.stderr.write(`${lib} ${kind} #${rep + 1}: sync ${f(r.syncUs)} µs, thread ${f(r.threadUs)} µs, cpu ${f(r.cpuUs)} µs\n`)
        }
      }
    }
  } finally {
    dummy.stop()
  }
  // One row per (library, event): the median of each number over the repetitions.
  const rows = []
  for (const kind of ['small', 'tensor']) {
    for (const lib of libs) {
      const mine = runs.filter((r) => r.lib === lib && r.kind === kind)
      if (mine.length === 0) continue
      const row = { ...mine[0] }
      for (const key of ['syncUs', 'syncP90Us', 'threadUs', 'eluUs', 'cpuUs', 'wireBytesPerEvent']) {
        if (typeof row[key] === 'number') row[key] = median(mine.map((r) => r[key]))
      }
      for (const key of ['sent', 'dropped', 'failed']) row[key] = mine.reduce((a, r) => a + (r[key] ?? 0), 0)
      rows.push(row)
    }
  }
  const byKind = (k) => rows.filter((r) => r.kind === k)
  const lines = []
  lines.push(
    `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the end, ${new Date().toISOString().slice(0, 10)}.`,
  )
  lines.push('')
  for (const kind of ['small', 'tensor']) {
    const rs = byKind(kind)
    const base = rs.find((r) => r.lib === 'JSON.stringify')
    const pino = rs.find((r) => r.lib === 'pino')
    const title =
      kind === 'small'
        ? `1.2 KB chat event (${rs[0]?.bytes} B as JSON on average)`
        : `20 KB event, 50×5 logprobs + 384-float embedding (${rs[0]?.bytes} B as JSON on average)`
    lines.push(`**${title}**, ${rs[0]?.n} events per run, median of ${repeat} runs`)
    lines.push('')
    lines.push(
      '| library | sync call, median µs | calling thread, µs/event (amortized) | × JSON.stringify | × pino | process CPU, µs/event |',
    )
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |')
    for (const r of rs) {
      const xs = base ? (r.threadUs / base.threadUs).toFixed(2) : '–'
      const xp = pino ? (r.threadUs / pino.threadUs).toFixed(2) : '–'
      const name = r.lib === 'inferlog' ? '**@inferlog/sdk**' : r.lib
      lines.push(`| ${name} | ${f(r.syncUs)} | ${f(r.threadUs)} | ${xs} | ${xp} | ${f(r.cpuUs)} |`)
    }
    const ours = rs.find((r) => r.lib === 'inferlog')
    if (ours?.wireBytesPerEvent)
      lines.push(
        '',
        `@inferlog/sdk delivered ${ours.sent} events over the runs (warm-up included; dropped ${ours.dropped}, failed ${ours.failed}), ${Math.round(ours.wireBytesPerEvent)} B each on the wire (gzip level 1).`,
      )
    lines.push('')
  }
  const table = lines.join('\n')
  process.stdout.write(`${table}\n`)
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(rows)}\n`)
}

if (args[0] === '--serve') serveDummy()
else if (args[0] === '--run') {
  const [, lib, kind, url, n] = args
  runOne(lib, kind, url, Number(n)).then(
    (r) => {
      process.stdout.write(`RESULT ${JSON.stringify(r)}\n`)
      process.exit(0)
    },
    (e) => {
      process.stderr.write(`${lib} ${kind}: ${e.stack ?? e}\n`)
      process.exit(1)
    },
  )
} else
  main().catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`)
    process.exit(1)
  })
