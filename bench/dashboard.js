// Dashboard benchmark (npm run bench:dashboard), three budgets from issue 12:
//   1. bytes: JavaScript + CSS the browser downloads for the first page (/), gzipped, <= 250 KB;
//   2. explorer: GET /v1/events first page over 1M events, p95 <= 150 ms (the explorer's only read);
//   3. overview: 30 days of hourly points for 5 versions, rendered <= 300 ms in the browser.
// Plain ESM over the built packages; Debian's Chromium through playwright-core.
//
//   node bench/dashboard.js [all|bytes|explorer|overview]
//   BENCH_EXPLORER_EVENTS=1000000   events in the explorer store (filled through the store port)
//   BENCH_REQUESTS=200              requests per explorer query shape
//   BENCH_OVERVIEW_ROUNDS=10        overview renders measured
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnServer } from '@inferlog/testkit'
import { chromium } from 'playwright-core'
import { seedDashboard, waitAggregated } from '../packages/dashboard/scripts/seed.js'
import { makeEvent, prng, sortKeys } from './ingest.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SERVER_DIST = path.join(ROOT, 'packages', 'server', 'dist', 'index.js')
const CHROMIUM = process.env.INFERLOG_CHROMIUM ?? '/usr/bin/chromium'
const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']
const envInt = (k, d) => (process.env[k] ? Number(process.env[k]) : d)
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-bench-dash-'))
const children = new Set()

async function server(dir, env = {}) {
  const s = await spawnServer(['--data', dir], { env: { INFERLOG_LOG_LEVEL: 'warn', ...env }, startTimeoutMs: 120_000, stderrLimit: 8000 })
  children.add(s)
  return s
}

async function stop(s) {
  children.delete(s)
  await s.stop('SIGTERM', 30_000)
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

function get(agent, url) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, headers: { accept: 'application/json', 'accept-encoding': 'identity' } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end()
  })
}

// 1. First-page bytes ----------------------------------------------------------------------------

async function bytesPhase(browser) {
  const dir = path.join(tmpRoot, 'bytes')
  const s = await server(dir)
  try {
    const seeded = await seedDashboard(s.url, { huge: false })
    await waitAggregated(s.url, 'churn-clf', seeded.churn.length)
    const ctx = await browser.newContext({ baseURL: s.url, viewport: { width: 1280, height: 900 } })
    const page = await ctx.newPage()
    const responses = []
    page.on('requestfinished', async (req) => {
      const type = req.resourceType()
      if (type !== 'script' && type !== 'stylesheet') return
      const sizes = await req.sizes()
      const res = await req.response()
      responses.push({
        url: new URL(req.url()).pathname,
        type,
        bytes: sizes.responseBodySize,
        encoding: res?.headers()['content-encoding'] ?? 'identity',
      })
    })
    await page.goto('/')
    await page.locator('.chart .uplot').first().waitFor({ timeout: 120_000 })
    await page.waitForLoadState('networkidle')
    await ctx.close()
    const total = responses.reduce((a, r) => a + r.bytes, 0)
    return { files: responses, total_bytes: total, budget_bytes: 250 * 1024, ok: total <= 250 * 1024 }
  } finally {
    await stop(s)
  }
}

// 2. Explorer over 1M events -------------------------------------------------------------------

async function explorerPhase() {
  const total = envInt('BENCH_EXPLORER_EVENTS', 1_000_000)
  const nReq = envInt('BENCH_REQUESTS', 200)
  const { SqliteStore } = await import(SERVER_DIST)
  // The store takes minutes to fill on a loaded box: cached between runs (delete the directory to
  // start over). The server migrates it on start, so a newer schema (an index) applies to it too.
  const cacheRoot = process.env.BENCH_CACHE_DIR ?? path.join(os.tmpdir(), 'inferlog-bench-cache')
  const dir = path.join(cacheRoot, `dashboard-explorer-${total}-g1`)
  const ready = path.join(dir, 'ready.json')
  fs.mkdirSync(dir, { recursive: true })
  let sample = fs.existsSync(ready) ? JSON.parse(fs.readFileSync(ready, 'utf8')) : undefined
  if (sample) process.stderr.write(`bench: explorer store from the cache ${dir}\n`)
  else {
    fs.rmSync(path.join(dir, 'inferlog.db'), { force: true })
    sample = await fillExplorerStore(SqliteStore, path.join(dir, 'inferlog.db'), total)
    fs.writeFileSync(ready, JSON.stringify(sample))
  }
  // The explorer reads raw rows only: no feed consumers, so the 1M-event catch-up of the
  // aggregates does not run beside the measurement.
  const s = await server(dir, { INFERLOG_CONSUMERS: 'none' })
  return measureExplorer(s, sample, total, nReq)
}

/** Fills a store through the store port (same schema and indexes as the server), like bench:ingest's lookup. */
async function fillExplorerStore(SqliteStore, file, total) {
  const store = new SqliteStore({ filename: file, synchronous: 'OFF', lookupIndexIntervalMs: 0 })
  await store.migrate()
  const rng = prng(4321)
  // One event every 50 ms, ending now (about 14 h for 1M).
  const start = Date.now() - total * 50
  const t0 = performance.now()
  const sample = { model: undefined, version: undefined, session: undefined, endMs: start + total * 50 }
  for (let done = 0; done < total; ) {
    const n = Math.min(10_000, total - done)
    const receivedMs = Date.now()
    const events = []
    for (let j = 0; j < n; j++) {
      const tsMs = start + (done + j) * 50
      const e = makeEvent(rng, tsMs)
      if (done + j === Math.floor(total / 2))
        Object.assign(sample, { model: e.model.name, version: e.model.version, session: e.trace.session_id })
      events.push({
        project: 'default',
        id: e.id,
        tsMs,
        receivedMs,
        model: e.model.name,
        version: e.model.version,
        stage: 'primary',
        status: (done + j) % 50 === 7 ? 'error' : 'ok',
        sessionId: e.trace.session_id,
        userId: e.trace.user_id,
        arm: e.context.experiment.arm,
        shadowOf: null,
        body: JSON.stringify(sortKeys(e)),
      })
    }
    await store.writeBatch({ events, feedback: [] })
    done += n
    if (done % 200_000 === 0 || done === total)
      process.stderr.write(`bench: explorer fill ${done}/${total} (${Math.round(done / ((performance.now() - t0) / 1000))} ev/s)\n`)
  }
  if (typeof store.indexLookups === 'function') while (store.indexLookups(100_000) > 0);
  await store.close()
  return sample
}

async function measureExplorer(s, sample, total, nReq) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const shapes = {
    'no filter': '',
    model: `model=${encodeURIComponent(sample.model)}`,
    'model + version': `model=${encodeURIComponent(sample.model)}&version=${encodeURIComponent(sample.version)}`,
    'status=error': 'status=error',
    'model, last 1 h': `model=${encodeURIComponent(sample.model)}&from=${new Date(sample.endMs - 3_600_000).toISOString()}`,
    'model, last 7 d': `model=${encodeURIComponent(sample.model)}&from=${new Date(sample.endMs - 7 * 86_400_000).toISOString()}`,
    'model, a past hour': `model=${encodeURIComponent(sample.model)}&from=${new Date(sample.endMs - 7_200_000).toISOString()}&to=${new Date(sample.endMs - 3_600_000).toISOString()}`,
    session: `session_id=${encodeURIComponent(sample.session)}`,
  }
  const results = {}
  try {
    for (const [name, q] of Object.entries(shapes)) {
      const url = `${s.url}/v1/events?limit=50${q ? `&${q}` : ''}`
      for (let i = 0; i < 20; i++) await get(agent, url)
      const lat = []
      let rows = 0
      for (let i = 0; i < nReq; i++) {
        const t = performance.now()
        const r = await get(agent, url)
        lat.push(performance.now() - t)
        if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.body.toString().slice(0, 200)}`)
        if (i === 0) rows = JSON.parse(r.body.toString()).items.length
      }
      // Second page too: the cursor path.
      const first = JSON.parse((await get(agent, url)).body.toString())
      const lat2 = []
      if (first.next_cursor) {
        const url2 = `${url}&cursor=${encodeURIComponent(first.next_cursor)}`
        for (let i = 0; i < Math.min(nReq, 50); i++) {
          const t = performance.now()
          await get(agent, url2)
          lat2.push(performance.now() - t)
        }
      }
      lat.sort((a, b) => a - b)
      lat2.sort((a, b) => a - b)
      results[name] = {
        rows,
        p50_ms: quantile(lat, 0.5),
        p95_ms: quantile(lat, 0.95),
        p99_ms: quantile(lat, 0.99),
        next_page_p95_ms: lat2.length ? quantile(lat2, 0.95) : null,
      }
      process.stderr.write(
        `bench: explorer ${name}: p50 ${results[name].p50_ms.toFixed(1)} ms, p95 ${results[name].p95_ms.toFixed(1)} ms\n`,
      )
    }
  } finally {
    agent.destroy()
    await stop(s)
  }
  const worst = Math.max(...Object.values(results).map((r) => r.p95_ms))
  return { events: total, requests_per_shape: nReq, shapes: results, worst_p95_ms: worst, budget_ms: 150, ok: worst <= 150 }
}

// 3. Overview: 30 days hourly x 5 versions ----------------------------------------------------------

async function overviewPhase(browser) {
  const dir = path.join(tmpRoot, 'overview')
  const s = await server(dir)
  try {
    const now = Date.now()
    const hours = 30 * 24
    const versions = ['1.0', '1.1', '1.2', '2.0', '2.1']
    const rng = prng(77)
    const events = []
    const feedback = []
    for (let h = 0; h < hours; h++)
      for (const v of versions)
        for (let k = 0; k < 2; k++) {
          const id = `ov-${h}-${v}-${k}`
          const score = rng()
          events.push({
            id,
            ts: new Date(now - (hours - h) * 3_600_000 + k * 600_000).toISOString(),
            model: { name: 'month', version: v },
            input: { x: rng() },
            output: { label: score > 0.5, score },
            latency_ms: { total: 5 + rng() * 20, inference: 4 + rng() * 15 },
            usage: { cost_usd: 0.001 },
          })
          if (k === 0) feedback.push({ event_id: id, name: 'label', value: rng() > 0.3 ? score > 0.5 : score <= 0.5 })
        }
    await fetch(`${s.url}/v1/models/month`, {
      method: 'PUT',
      body: JSON.stringify({ labels: { label: { output: 'label', type: 'boolean' } } }),
    })
    for (let i = 0; i < events.length; i += 2000)
      await fetch(`${s.url}/v1/events`, { method: 'POST', body: JSON.stringify(events.slice(i, i + 2000)) })
    for (let i = 0; i < feedback.length; i += 2000)
      await fetch(`${s.url}/v1/feedback`, { method: 'POST', body: JSON.stringify(feedback.slice(i, i + 2000)) })
    await waitAggregated(s.url, 'month', events.length, {}, 300_000)
    // bypassCSP lets the peer below load uPlot into the page; the app's own assets never need it.
    const ctx = await browser.newContext({ baseURL: s.url, viewport: { width: 1280, height: 900 }, bypassCSP: true })
    const page = await ctx.newPage()
    const url = '/?window=30d&model=month'
    const rounds = envInt('BENCH_OVERVIEW_ROUNDS', 10)
    const total = []
    const render = []
    let points = 0
    let reply = {}
    for (let i = 0; i < rounds + 2; i++) {
      await page.goto('/events?model=nothing')
      await page.locator('h1').waitFor()
      // From the client-side navigation to the last chart drawn: fetch of the metrics + render.
      const m = await page.evaluate(
        (target) =>
          new Promise((resolve) => {
            performance.clearResourceTimings()
            const t0 = performance.now()
            history.pushState(null, '', target)
            dispatchEvent(new PopStateEvent('popstate'))
            const check = () => {
              const charts = document.querySelectorAll('.chart .uplot canvas').length
              if (charts >= 6) {
                const t1 = performance.now()
                const entries = performance
                  .getEntriesByType('resource')
                  .filter((e) => e.name.includes('/v1/metrics') && e.name.includes('bucket=hour'))
                const hourly = entries.map((e) => e.responseEnd)
                resolve({
                  total: t1 - t0,
                  render: hourly.length ? t1 - Math.max(...hourly) : Number.NaN,
                  charts,
                  bytes: entries[0]?.decodedBodySize,
                  sent: entries[0]?.encodedBodySize,
                  url: entries[0]?.name,
                })
              } else requestAnimationFrame(check)
            }
            requestAnimationFrame(check)
          }),
        url,
      )
      if (i >= 2) {
        total.push(m.total)
        render.push(m.render)
      }
      points = m.charts
      reply = { bytes: m.bytes, sent: m.sent, url: m.url }
    }
    const metricsUrl = `/v1/metrics?model=month&bucket=hour&group_by=version&from=${new Date(now - 30 * 86_400_000).toISOString()}`
    const series = await (await fetch(`${s.url}${metricsUrl}`)).json()
    // The peer, in the same page and run: bare uPlot (no app) drawing six charts of the same
    // series from the same reply (the app's own hourly request, its fields= included), timed from
    // the reply text in hand (JSON.parse included).
    await page.goto('/events?model=nothing')
    await page.addScriptTag({ path: path.join(ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js') })
    const peer = []
    for (let i = 0; i < rounds + 2; i++) {
      const t = await page.evaluate(async (u) => {
        const text = await (await fetch(u)).text()
        const box = document.createElement('div')
        box.style.width = '600px'
        document.body.appendChild(box)
        const t0 = performance.now()
        const reply = JSON.parse(text)
        const xs = [...new Set(reply.series.flatMap((g) => g.points.map((p) => Date.parse(p.start) / 1000)))].sort((a, b) => a - b)
        const at = new Map(xs.map((x, i) => [x, i]))
        const pick = (f) =>
          reply.series.map((g) => {
            const v = new Array(xs.length).fill(null)
            for (const p of g.points) v[at.get(Date.parse(p.start) / 1000)] = f(p) ?? null
            return v
          })
        const figs = [
          (p) => p.count,
          (p) => p.error_rate,
          (p) => p.latency_ms?.total?.p50,
          (p) => p.usage?.cost_usd,
          (p) => p.quality?.label?.accuracy?.value,
          (p) => p.quality?.label?.coverage,
        ]
        for (const f of figs) {
          const ys = pick(f)
          new window.uPlot({ width: 600, height: 180, series: [{}, ...ys.map(() => ({ stroke: 'blue' }))] }, [xs, ...ys], box)
        }
        const dt = performance.now() - t0
        box.remove()
        return dt
      }, reply.url ?? metricsUrl)
      if (i >= 2) peer.push(t)
    }
    await ctx.close()
    total.sort((a, b) => a - b)
    render.sort((a, b) => a - b)
    peer.sort((a, b) => a - b)
    return {
      versions: versions.length,
      hourly_points: series.series.reduce((a, x) => a + x.points.length, 0),
      charts: points,
      // The hourly reply's size as decoded and as sent (smaller when the server compressed it).
      reply_bytes: reply.bytes,
      reply_sent_bytes: reply.sent,
      rounds,
      render_p50_ms: quantile(render, 0.5),
      render_max_ms: render[render.length - 1],
      fetch_and_render_p50_ms: quantile(total, 0.5),
      fetch_and_render_max_ms: total[total.length - 1],
      bare_uplot_p50_ms: quantile(peer, 0.5),
      ratio_to_bare_uplot: quantile(render, 0.5) / quantile(peer, 0.5),
      budget_ms: 300,
      ok: quantile(render, 0.5) <= 300,
    }
  } finally {
    await stop(s)
  }
}

async function main() {
  const mode = process.argv[2] ?? 'all'
  const load0 = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
  const out = {}
  const browser = mode === 'explorer' ? undefined : await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS })
  try {
    if (mode === 'all' || mode === 'bytes') report({ bytes: (out.bytes = await bytesPhase(browser)) })
    if (mode === 'all' || mode === 'overview') report({ overview: (out.overview = await overviewPhase(browser)) })
    if (mode === 'all' || mode === 'explorer') report({ explorer: (out.explorer = await explorerPhase()) })
  } finally {
    await browser?.close()
  }
  const load1 = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
  console.log(`\nload average at start ${load0}, at end ${load1} (${os.cpus().length} CPUs; other work on the box skews every number)`)
  if (process.env.BENCH_JSON === '1') console.log(JSON.stringify(out))
}

/** Prints a phase's results as soon as it is done. */
function report(out) {
  if (out.bytes) {
    console.log('\nFirst page (/): JavaScript and CSS as transferred (gzip)')
    for (const f of out.bytes.files)
      console.log(`  ${f.type.padEnd(10)} ${String(f.bytes).padStart(8)} B  ${f.encoding.padEnd(8)} ${f.url}`)
    console.log(`  total ${(out.bytes.total_bytes / 1024).toFixed(1)} KB (budget 250 KB): ${out.bytes.ok ? 'OK' : 'OVER'}`)
  }
  if (out.overview) {
    const o = out.overview
    console.log(`\nOverview, 30 days hourly x ${o.versions} versions (${o.hourly_points} points, ${o.charts} charts), ${o.rounds} rounds`)
    console.log(
      `  hourly metrics reply: ${(o.reply_bytes / 1024).toFixed(0)} KB of JSON, ${(o.reply_sent_bytes / 1024).toFixed(0)} KB as sent`,
    )
    console.log(
      `  render after the metrics arrive: p50 ${o.render_p50_ms.toFixed(0)} ms, max ${o.render_max_ms.toFixed(0)} ms (budget 300 ms): ${o.ok ? 'OK' : 'OVER'}`,
    )
    console.log(
      `  navigation to charts drawn (fetch + render): p50 ${o.fetch_and_render_p50_ms.toFixed(0)} ms, max ${o.fetch_and_render_max_ms.toFixed(0)} ms`,
    )
    console.log(
      `  peer, bare uPlot drawing the same six charts from the same reply (parse included): p50 ${o.bare_uplot_p50_ms.toFixed(0)} ms; dashboard / bare = ${o.ratio_to_bare_uplot.toFixed(2)}`,
    )
  }
  if (out.explorer) {
    const e = out.explorer
    console.log(
      `\nExplorer first page (limit 50) over ${e.events.toLocaleString('en-US')} events, ${e.requests_per_shape} requests each, one keep-alive client`,
    )
    for (const [k, r] of Object.entries(e.shapes))
      console.log(
        `  ${k.padEnd(22)} rows ${String(r.rows).padStart(3)}  p50 ${r.p50_ms.toFixed(1).padStart(6)} ms  p95 ${r.p95_ms.toFixed(1).padStart(6)} ms  p99 ${r.p99_ms.toFixed(1).padStart(6)} ms  next page p95 ${r.next_page_p95_ms?.toFixed(1) ?? '–'} ms`,
      )
    console.log(`  worst p95 ${e.worst_p95_ms.toFixed(1)} ms (budget 150 ms): ${e.ok ? 'OK' : 'OVER'}`)
  }
}

let exiting = false
async function cleanup() {
  if (exiting) return
  exiting = true
  for (const c of children) await c.stop('SIGKILL', 1000).catch(() => undefined)
  fs.rmSync(tmpRoot, { recursive: true, force: true })
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)))
main().then(
  () => cleanup(),
  async (e) => {
    console.error(`bench: ${e?.stack ?? e}`)
    await cleanup()
    process.exit(1)
  },
)
