/**
 * Scale-out end to end, every part a separate process: collectors (`inferlog serve --queue`),
 * workers (`inferlog worker`), a NATS JetStream server and a PostgreSQL cluster of the test's own
 * (so they can be killed and restarted without touching the machine's shared services). Each test
 * asserts that everything acknowledged to a client is in PostgreSQL exactly once, byte for byte.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '@inferlog/sdk'
import {
  type CliProcess,
  compareCatalogPostgres,
  compareMetricsPostgres,
  driveLoad,
  type LoadResult,
  OwnNats,
  OwnPostgres,
  runCli,
  servicesAvailable,
  spawnCli,
  verifyStored,
  waitCatalog,
  waitStored,
} from '@inferlog/testkit'

const available = servicesAvailable()

describe('scale-out CLI', () => {
  it('worker without --store/--queue, and serve --queue with NATS unreachable, exit non-zero with one line', async () => {
    const w = await runCli(['worker'], { env: { INFERLOG_STORE: '', INFERLOG_QUEUE: '' } })
    expect(w.code).toBe(2)
    expect(w.stderr.trim().split('\n')).toHaveLength(1)
    expect(w.stderr).toMatch(/--store postgres:.*--queue nats:/)
    const s = await runCli(['serve', '--port', '0', '--store', 'sqlite::memory:', '--queue', 'nats://127.0.0.1:1'])
    expect(s.code).toBe(1)
    expect(s.stderr).toMatch(/^inferlog: unavailable: cannot connect to NATS/m)
  })
})

describe.skipIf(!available)('scale-out: collectors → JetStream → workers → PostgreSQL', () => {
  let pgServer: OwnPostgres
  let nats: OwnNats
  const procs: CliProcess[] = []

  beforeAll(async () => {
    ;[pgServer, nats] = await Promise.all([OwnPostgres.start(), OwnNats.start()])
  }, 60_000)

  // Each test's processes stop with it, so the next test has the machine's two cores to itself.
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop().catch(() => {})))
  }, 30_000)

  afterAll(async () => {
    await Promise.all([pgServer?.destroy(), nats?.destroy()])
  }, 60_000)

  const urls = (name: string, ackWait = '3s') => ({
    store: `${pgServer.url}?schema=${name}`,
    queue: `${nats.url}?stream=${name.toUpperCase()}&ack_wait=${ackWait}`,
  })

  async function collector(name: string): Promise<CliProcess> {
    const u = urls(name)
    const p = await spawnCli(['serve', '--port', '0', '--store', u.store, '--queue', u.queue])
    procs.push(p)
    return p
  }

  async function worker(name: string): Promise<CliProcess> {
    const u = urls(name)
    const p = await spawnCli(['worker', '--store', u.store, '--queue', u.queue, '--port', '0', '--json'])
    procs.push(p)
    return p
  }

  async function metric(w: CliProcess, name: string): Promise<number> {
    const url = (JSON.parse(w.first) as { metrics: string }).metrics
    const text = await (await fetch(`${url}/metrics`)).text()
    // Sum over label sets.
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
  }

  async function expectExactlyOnce(name: string, load: LoadResult) {
    await waitStored(pgServer.url, name, load.events.size, load.feedback.size, 60_000)
    // The workers' commit feed applied every stored row exactly once, whatever was killed.
    const c = await waitCatalog(() => compareCatalogPostgres(pgServer.url, name), 120_000)
    expect(c.catalog).toEqual(c.recount)
    expect(Object.keys(c.recount).length).toBeGreaterThan(0)
    const m = await waitCatalog(() => compareMetricsPostgres(pgServer.url, name), 120_000)
    expect(m.catalog).toEqual(m.recount)
    const v = await verifyStored(pgServer.url, name, load)
    expect(v).toMatchObject({
      missingEvents: 0,
      alteredEvents: 0,
      missingFeedback: 0,
      alteredFeedback: 0,
      duplicateEvents: 0,
      duplicateFeedback: 0,
    })
    return v
  }

  it('a collector without --queue writes PostgreSQL directly (group commit): duplicates and conflicts answered at once', async () => {
    const p = await spawnCli(['serve', '--port', '0', '--store', `${pgServer.url}?schema=e2e_direct`])
    procs.push(p)
    const post = async (body: unknown) => {
      const res = await fetch(`${p.first}/v1/events`, { method: 'POST', body: JSON.stringify(body) })
      return { status: res.status, body: (await res.json()) as { accepted: number; duplicates: number; rejected: { code: string }[] } }
    }
    const e = { id: 'd1', model: { name: 'm', version: '1' }, input: { q: 'é' }, output: 1 }
    expect((await post([e, { ...e, id: 'd2' }])).body).toMatchObject({ accepted: 2, duplicates: 0 })
    expect((await post(e)).body).toMatchObject({ accepted: 0, duplicates: 1 })
    const conflict = await post({ ...e, output: 2 })
    expect(conflict.status).toBe(207)
    expect(conflict.body.rejected[0]!.code).toBe('conflict')
    const got = (await (await fetch(`${p.first}/v1/events/d1`)).json()) as { event: typeof e }
    expect(got.event.output).toBe(1)
    const list = (await (await fetch(`${p.first}/v1/events?model=m`)).json()) as { items: unknown[] }
    expect(list.items).toHaveLength(2)
    expect(await (await fetch(`${p.first}/readyz`)).json()).toMatchObject({ status: 'ready', store: 'postgres' })
  })

  // 100 000 events (a quarter with a feedback item): enough for every collector and worker to
  // handle thousands of groups; the suite's time budget, not the claim, sets the size.
  it('2 collectors + 2 workers: 100 000 events and 25 000 feedback items, all stored exactly once', async () => {
    const name = 'e2e_main'
    const events = 100_000
    const [c1, c2] = await Promise.all([collector(name), collector(name)])
    await Promise.all([worker(name), worker(name)])
    const load = await driveLoad({ urls: [c1!.first, c2!.first], events, run: 'main', clients: 4 })
    expect(load.events.size).toBe(events)
    expect(load.feedback.size).toBe(events / 4)
    const v = await expectExactlyOnce(name, load)
    expect(v.storedEvents).toBe(events)
    console.log(
      `e2e: ${events} events + ${events / 4} feedback acknowledged in ${load.elapsedMs} ms (${Math.round(events / (load.elapsedMs / 1000))} events/s)`,
    )
  }, 300_000)

  it('kill -9 of a worker in the middle of its batches: its groups are redelivered, nothing lost or doubled', async () => {
    const name = 'e2e_kill_worker'
    const c = await collector(name)
    const [w1, w2] = await Promise.all([worker(name), worker(name)])
    const load = driveLoad({ urls: [c.first], events: 40_000, run: 'kw', clients: 3, pauseMs: 5 })
    // Kill once the victim has written some groups: it then holds fetched, unacknowledged ones.
    for (let i = 0; i < 200 && (await metric(w1!, 'inferlog_worker_groups_total')) < 3; i++) await new Promise((r) => setTimeout(r, 25))
    expect(await metric(w1!, 'inferlog_worker_groups_total')).toBeGreaterThanOrEqual(3)
    // Freeze it first while the load keeps flowing: JetStream goes on delivering to its pending
    // pulls, so at the kill it surely holds delivered, unacknowledged groups (a plain kill at an
    // idle instant holds none, and then there is nothing to redeliver).
    w1!.child.kill('SIGSTOP')
    await new Promise((r) => setTimeout(r, 400))
    w1!.child.kill('SIGKILL')
    const result = await load
    expect((await w1!.exited).signal).toBe('SIGKILL')
    await expectExactlyOnce(name, result)
    // The survivor picked up what the dead worker held (after the 3 s ack wait).
    await new Promise((r) => setTimeout(r, 500))
    expect(await metric(w2!, 'inferlog_worker_redeliveries_total')).toBeGreaterThan(0)
  }, 90_000)

  it('NATS killed (-9) and restarted during ingest: collectors answer 503 while it is down, clients and the SDK retry, everything arrives exactly once', async () => {
    const name = 'e2e_restart_nats'
    const [c1, c2] = await Promise.all([collector(name), collector(name)])
    await Promise.all([worker(name), worker(name)])
    // The load runs until told to stop, after NATS is back: however fast the machine, clients are
    // sending while NATS is down, and again once it is back.
    let restarted = false
    let ackedAfterRestart = 0
    let stopLoad = false
    let refusedWhileDown = 0
    const load = driveLoad({
      urls: [c1!.first, c2!.first],
      events: 400_000,
      run: 'rn',
      clients: 3,
      pauseMs: 10,
      stop: () => stopLoad,
      onAck: () => void (restarted && ackedAfterRestart++),
      onUnavailable: () => void refusedWhileDown++,
    })
    // And a model server using the SDK, logging all along: it retries and spools while NATS is down.
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-scale-spool-'))
    const sdk = createLogger({
      url: c2!.first,
      model: { name: 'sdk-clf', version: '1' },
      spool: { dir: spoolDir },
      batch: { maxItems: 200, intervalMs: 20 },
      queue: { overflow: 'spool' },
      http: { retriesBeforeSpool: 1, initialBackoffMs: 20, maxBackoffMs: 250, timeoutMs: 2000 },
      flushOnExit: false,
      onError: () => undefined,
    })
    const sdkIds: string[] = []
    let logging = true
    const sdkLoop = (async () => {
      for (let k = 0; logging; k++) {
        sdkIds.push(sdk.log({ input: { k }, output: k % 2 }))
        if (k % 20 === 19) await new Promise((r) => setTimeout(r, 10)) // ~2 000 events/s
      }
    })()
    await new Promise((r) => setTimeout(r, 1200))
    await nats.stop('SIGKILL')
    // While NATS is down the collectors refuse with 503 + Retry-After.
    const res = await fetch(`${c1!.first}/v1/events`, {
      method: 'POST',
      body: JSON.stringify({ model: { name: 'm', version: '1' }, input: 1, output: 1 }),
    })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBeTruthy()
    await new Promise((r) => setTimeout(r, 1500))
    // A load request sent just before the kill can wait out a short outage and then succeed;
    // keep NATS down until the load clients too have been refused (at most 20 s more).
    for (let i = 0; i < 400 && refusedWhileDown === 0; i++) await new Promise((r) => setTimeout(r, 50))
    await nats.start()
    restarted = true
    for (let i = 0; i < 600 && ackedAfterRestart < 5; i++) await new Promise((r) => setTimeout(r, 50))
    stopLoad = true
    const result = await load
    logging = false
    await sdkLoop
    await sdk.flush({ timeoutMs: 30_000 })
    // Spooled batches are replayed in the background; wait for them to be acknowledged.
    for (let i = 0; i < 300 && sdk.stats().sent < sdkIds.length; i++) await new Promise((r) => setTimeout(r, 100))
    const stats = sdk.stats()
    await sdk.close()
    fs.rmSync(spoolDir, { recursive: true, force: true })
    expect(result.unavailable).toBeGreaterThan(0)
    expect(stats).toMatchObject({ dropped: 0, failed: 0, queueDepth: 0 })
    expect(stats.sent).toBe(sdkIds.length)
    await expectExactlyOnce(name, result)
    // Every event the SDK logged is stored once (the SDK's own lines are not byte-compared here).
    const c = new pg.Client({ connectionString: pgServer.url })
    await c.connect()
    try {
      const r = await c.query<{ n: number; d: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM ${name}.events WHERE id = ANY($1)`,
        [sdkIds],
      )
      expect(r.rows[0]).toEqual({ n: sdkIds.length, d: sdkIds.length })
    } finally {
      await c.end()
    }
  }, 90_000)

  it('PostgreSQL restarted (crash stop) during ingest: workers back off and resume, nothing lost or doubled', async () => {
    const name = 'e2e_restart_pg'
    const [c1, c2] = await Promise.all([collector(name), collector(name)])
    const [w1, w2] = await Promise.all([worker(name), worker(name)])
    const load = driveLoad({ urls: [c1!.first, c2!.first], events: 40_000, run: 'rp', clients: 3, pauseMs: 10 })
    await new Promise((r) => setTimeout(r, 1200))
    await pgServer.stop('immediate')
    await new Promise((r) => setTimeout(r, 2000))
    await pgServer.start()
    const result = await load
    await expectExactlyOnce(name, result)
    // The outage was seen and ridden out by retries, not by losing groups.
    const failures =
      (await metric(w1!, 'inferlog_worker_write_failures_total')) + (await metric(w2!, 'inferlog_worker_write_failures_total'))
    expect(failures).toBeGreaterThan(0)
    expect((await metric(w1!, 'inferlog_worker_refused_items_total')) + (await metric(w2!, 'inferlog_worker_refused_items_total'))).toBe(0)
  }, 90_000)
})
