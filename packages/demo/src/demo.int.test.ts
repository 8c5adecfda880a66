/**
 * `npm run demo` end to end, accelerated: the built demo runs 20 s at 50 requests/s with time
 * compressed 3× (shift at 10 s, feedback within seconds), on a store the test keeps. Then a fresh
 * `inferlog serve` on that store answers what the demo left: both A/B versions and the shadow,
 * late feedback joined, the drift alert fired after the shift, quality metrics.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, portOpen, type ServerProcess, spawnNode, spawnServer } from '@inferlog/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const DEMO = fileURLToPath(new URL('../bin/inferlog-demo.js', import.meta.url))
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-demo-test-'))
const store = path.join(root, 'demo.db')
let server: ServerProcess | undefined
let run: { code: number | null; stdout: string; stderr: string; url: string; requests: number; backfilled: number }

interface StoredEvent {
  id: string
  ts: string
  model: { name: string; version: string; stage?: string; digest?: string; params?: Record<string, unknown> }
  shadow_of?: string
  output?: { label: string; score: number; probabilities: Record<string, number> }
  status?: string
  error?: { type: string; message: string }
  sample_rate?: number
  internals?: { attributions?: Record<string, number>; decision_path?: { feature: string; went: string }[] }
  latency_ms?: { total?: number; pre?: number; inference?: number; post?: number }
  context?: { experiment?: { arm?: string }; entities?: { city?: string }; tags?: { traffic?: string } }
}

async function countFeedback(url: string, name: string): Promise<number> {
  let n = 0
  let cursor: string | null = null
  do {
    const page: { items: unknown[]; next_cursor: string | null } = await json(
      `${url}/v1/feedback?name=${name}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
    )
    n += page.items.length
    cursor = page.next_cursor
  } while (cursor)
  return n
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init)
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

beforeAll(async () => {
  const p = spawnNode(DEMO, [
    '--duration',
    '20s',
    '--rate',
    '50',
    '--speed',
    '3',
    '--backfill',
    '30s',
    '--port',
    '0',
    '--seed',
    '7',
    '--store',
    store,
  ])
  const url = (await p.firstLine(120_000)).trim()
  const exit = await p.exited
  const stopped = /stopping after [\d.]+s: (\d+) requests \((\d+) backfilled\)/.exec(p.stderr())
  run = {
    ...exit,
    stdout: p.stdout(),
    stderr: p.stderr(),
    url,
    requests: Number(stopped?.[1] ?? -1),
    backfilled: Number(stopped?.[2] ?? -1),
  }
  server = await spawnServer(['--store', `sqlite:${store}`, '--data', path.join(root, 'data')], {})
}, 240_000)

afterAll(async () => {
  await server?.stop()
  fs.rmSync(root, { recursive: true, force: true })
})

describe('npm run demo (accelerated)', () => {
  it('prints the collector URL first, stops by itself, cleanly, and stops its collector', async () => {
    expect(run.url, run.stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(run.code, run.stderr).toBe(0)
    expect(run.requests).toBeGreaterThan(300)
    expect(/dropped 0, failed 0/.test(run.stderr), run.stderr).toBe(true)
    expect(await portOpen(Number(new URL(run.url).port))).toBe(false)
    expect(run.stdout).toMatch(/weather-input-drift\s+firing/)
  })

  it('stored every request: primaries of both A/B versions and one shadow mirroring each', async () => {
    const url = server!.url
    // The model catalog is derived from the commit feed: the fresh server's catalog consumer
    // resumes from its watermark, so its counts reach the stored rows a moment after start.
    let byVersion: Record<string, number> = {}
    for (let i = 0; i < 150; i++) {
      const model = await json<{ versions: { version: string; events: number }[] }>(`${url}/v1/models/weather-clf`)
      byVersion = Object.fromEntries(model.versions.map((v) => [v.version, v.events]))
      if (byVersion['2.1.0-rc.1'] === run.requests && (byVersion['1.4.0'] ?? 0) + (byVersion['2.0.0'] ?? 0) === run.requests) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(byVersion['1.4.0']).toBeGreaterThan(50)
    expect(byVersion['2.0.0']).toBeGreaterThan(50)
    expect((byVersion['1.4.0'] ?? 0) + (byVersion['2.0.0'] ?? 0)).toBe(run.requests)
    expect(byVersion['2.1.0-rc.1']).toBe(run.requests)

    const [first] = (await json<{ items: StoredEvent[] }>(`${url}/v1/events?model=weather-clf&stage=primary&status=ok&limit=1`)).items
    const one = await json<{ event: StoredEvent; shadows: StoredEvent[] }>(`${url}/v1/events/${first!.id}`)
    expect(one.event.model.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(one.event.context?.experiment?.arm).toBe(one.event.model.version === '1.4.0' ? 'control' : 'treatment')
    expect(Object.keys(one.event.internals?.attributions ?? {}).sort()).toEqual(['precipitation', 'temp_max', 'temp_min', 'wind'])
    expect(Object.values(one.event.output!.probabilities).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 2)
    expect(one.event.latency_ms).toEqual(expect.objectContaining({ total: expect.any(Number), inference: expect.any(Number) }))
    expect(one.shadows).toHaveLength(1)
    expect(one.shadows[0]!.model).toEqual(expect.objectContaining({ version: '2.1.0-rc.1', stage: 'shadow' }))
    expect(one.shadows[0]!.internals?.decision_path?.length).toBeGreaterThan(0)
  })

  it('a missing sensor reading is an error event of the primary and the shadow, without feedback', async () => {
    const url = server!.url
    const errors = (await json<{ items: StoredEvent[] }>(`${url}/v1/events?model=weather-clf&stage=primary&status=error&limit=100`)).items
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.length).toBeLessThan(run.requests * 0.05)
    const got = await json<{ event: StoredEvent; feedback: unknown[]; shadows: StoredEvent[] }>(`${url}/v1/events/${errors[0]!.id}`)
    expect(got.event.error).toEqual({ type: 'MissingFeatureError', message: 'missing reading: wind' })
    expect(got.event).not.toHaveProperty('output')
    expect(got.shadows[0]!.status).toBe('error')
    expect(got.feedback).toEqual([])
  })

  it('history was backfilled before the start: dated earlier, sampled, with its feedback', async () => {
    const url = server!.url
    expect(run.backfilled).toBe(150) // 30 s at 5 per second
    const alerts = await json<{ rules: { rule: { id: string; condition: { reference?: { from?: number } } } }[] }>(`${url}/v1/alerts`)
    const startMs = alerts.rules.find((r) => r.rule.id === 'weather-input-drift')!.rule.condition.reference!.from! + 30_000
    const old = (await json<{ items: StoredEvent[] }>(`${url}/v1/events?model=weather-clf&stage=primary&to=${startMs}&limit=1000`)).items
    expect(old).toHaveLength(150)
    expect(old.every((e) => e.sample_rate === 0.1 && e.context?.tags?.traffic === 'backfill')).toBe(true)
    const labelled = (
      await json<{ items: StoredEvent[] }>(`${url}/v1/events?model=weather-clf&stage=primary&to=${startMs}&feedback=label&limit=1000`)
    ).items
    expect(labelled.length).toBeGreaterThan(50)
  })

  it('feedback arrived late and partially, and is joined to its events', async () => {
    const url = server!.url
    const page = await json<{ items: StoredEvent[] }>(`${url}/v1/events?model=weather-clf&stage=primary&feedback=label&limit=40`)
    expect(page.items).toHaveLength(40)
    let late = 0
    for (const e of page.items) {
      const got = await json<{ event: StoredEvent; feedback: { name: string; value: unknown; ts: string }[] }>(`${url}/v1/events/${e.id}`)
      const label = got.feedback.find((f) => f.name === 'label')
      expect(label?.value).toEqual(expect.any(String))
      if (Date.parse(label!.ts) - Date.parse(got.event.ts) >= 1000) late++
    }
    expect(late).toBeGreaterThan(10)
    // Partial: labels on most predictions but not all, thumbs on fewer.
    const labels = await countFeedback(url, 'label')
    const thumbs = await countFeedback(url, 'thumbs')
    expect(labels).toBeGreaterThan(run.requests * 0.3)
    expect(labels).toBeLessThan(run.requests)
    expect(thumbs).toBeGreaterThan(run.requests * 0.1)
    expect(thumbs).toBeLessThan(labels)
  })

  it('the drift alert fired after the shift, and only then', async () => {
    const alerts = await json<{
      rules: { rule: { id: string; condition: { reference?: { to?: number } } }; state: string }[]
      transitions: { rule_id: string; transition: string; at: string; value: number }[]
    }>(`${server!.url}/v1/alerts`)
    const drift = alerts.rules.find((r) => r.rule.id === 'weather-input-drift')
    expect(drift?.state).toBe('firing')
    const shiftMs = drift!.rule.condition.reference!.to!
    const fired = alerts.transitions.filter((t) => t.rule_id === 'weather-input-drift' && t.transition === 'fired')
    expect(fired.length).toBeGreaterThan(0)
    for (const t of fired) expect(Date.parse(t.at)).toBeGreaterThan(shiftMs)
    expect(alerts.rules.map((r) => r.rule.id).sort()).toEqual(['control-accuracy', 'weather-input-drift'])
  })

  it('GET /v1/metrics shows label quality per version with intervals and coverage', async () => {
    const m = await json<{
      series: { group: { version: string; stage: string }; points: { n: number; quality: Record<string, any> }[] }[]
    }>(`${server!.url}/v1/metrics?model=weather-clf&bucket=all&group_by=version,stage&from=${Date.now() - 3_600_000}`)
    for (const version of ['1.4.0', '2.0.0']) {
      const s = m.series.find((x) => x.group.version === version && x.group.stage === 'primary')
      const q = s?.points[0]?.quality.label
      expect(q?.n_labeled, version).toBeGreaterThan(30)
      expect(q.coverage).toBeGreaterThan(0.2)
      expect(q.coverage).toBeLessThan(1)
      expect(q.accuracy.value).toBeGreaterThan(0.4)
      expect(q.accuracy.ci_low).toBeLessThan(q.accuracy.value)
      expect(s?.points[0]?.quality.thumbs?.n_labeled).toBeGreaterThan(0)
    }
  })
})

describe('npm run demo: stopping and bad input', () => {
  it('Ctrl-C (SIGINT) drains the logger, stops the collector and exits 0', async () => {
    const p = spawnNode(DEMO, ['--port', '0', '--rate', '40'])
    const url = (await p.firstLine(120_000)).trim()
    await new Promise((r) => setTimeout(r, 3000))
    const exit = await p.stop('SIGINT', 60_000)
    expect(exit.code, p.stderr()).toBe(0)
    expect(/SIGINT: draining/.test(p.stderr()), p.stderr()).toBe(true)
    expect(/dropped 0, failed 0/.test(p.stderr()), p.stderr()).toBe(true)
    expect(await portOpen(Number(new URL(url).port))).toBe(false)
  }, 180_000)

  it('a bad flag is exit 2 with the reason and the usage', async () => {
    const p = spawnNode(DEMO, ['--rate', 'fast'])
    const exit = await p.exited
    expect(exit.code).toBe(2)
    expect(p.stderr()).toMatch(/invalid_argument: --rate/)
    expect(p.stderr()).toMatch(/usage: npm run demo/)
  })

  it('a port in use is exit 1 naming the collector failure', async () => {
    const port = await freePort()
    const blocker = (await import('node:net')).createServer().listen(port, '127.0.0.1')
    await new Promise((r) => blocker.once('listening', r))
    try {
      const p = spawnNode(DEMO, ['--port', String(port), '--duration', '5s'])
      const exit = await p.exited
      expect(exit.code, p.stderr()).toBe(1)
      expect(p.stderr()).toMatch(/collector_failed/)
    } finally {
      blocker.close()
    }
  }, 120_000)
})
