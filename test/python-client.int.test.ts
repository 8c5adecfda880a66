/**
 * The Python client (clients/python) against the real collector: everything logged is stored
 * exactly once, also when the collector is killed (SIGKILL) mid-stream and restarted on the same
 * port and data directory while Python keeps logging with a spool. Also runs the client's own
 * unittest suite, so `npm test` covers it. Needs `python3` (3.9+); skipped without it unless CI=true.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import net from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createLogger } from '@inferlog/sdk'
import { afterAll, describe, expect, it } from 'vitest'
import { listAll, spawnServer, type ServerProcess } from '@inferlog/testkit'

const CLIENT = fileURLToPath(new URL('../clients/python', import.meta.url))
const SCRIPTS = fileURLToPath(new URL('./support/python', import.meta.url))
const hasPython = spawnSync('python3', ['--version']).status === 0
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-py-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

interface PyStats {
  enqueued: number
  sent: number
  dropped: number
  failed: number
  rejected: number
  spooled: number
  replayed: number
  retried: number
  queue_depth: number
  spool_items: number
}

function python(args: string[]): ChildProcessWithoutNullStreams {
  return spawn('python3', args, { env: { ...process.env, PYTHONPATH: CLIENT }, stdio: 'pipe' })
}

/** Runs a Python command to completion. */
function runPython(args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('python3', args, { cwd, env: { ...process.env, PYTHONPATH: CLIENT }, stdio: 'pipe' })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdin.end()
    // 'close', not 'exit': stdout may still hold the last line when the process exits.
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM')
  await server.exited
}

describe.skipIf(!hasPython && process.env.CI !== 'true')('Python client', () => {
  it('passes its unittest suite', async () => {
    const run = await runPython(['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], CLIENT)
    expect(run.code, run.stderr).toBe(0)
  }, 120_000)

  it('stores every logged event and feedback item exactly once', async () => {
    const server = await spawnServer(['--data', path.join(root, 'a')])
    try {
      const n = 300
      const run = await runPython([path.join(SCRIPTS, 'log_and_feedback.py'), server.url, String(n)])
      expect(run.code, run.stderr).toBe(0)
      const out = JSON.parse(run.stdout) as {
        events: string[]
        feedback: [string, string][]
        closed: boolean
        stats: PyStats
        errors: string[]
      }
      expect(out.closed).toBe(true)
      expect(out.errors).toEqual([])
      expect(out.stats).toMatchObject({ enqueued: 2 * n, sent: 2 * n, dropped: 0, failed: 0, rejected: 0, queue_depth: 0 })

      // The client's project header is honoured: the events are in project pyproj, not default.
      const headers = { 'x-inferlog-project': 'pyproj' }
      expect((await fetch(`${server.url}/v1/events/${out.events[0]}`)).status).toBe(404)
      for (const [i, id] of out.events.entries()) {
        const res = await fetch(`${server.url}/v1/events/${id}`, { headers })
        expect(res.status).toBe(200)
        const body = (await res.json()) as {
          event: { id: string; model: { name: string }; input: { x: number }; latency_ms: { total: number; inference: number } }
          feedback: { id: string; name: string; value: unknown }[]
        }
        expect(body.event).toMatchObject({ id, model: { name: 'py-clf', version: '1.0.0' }, input: { x: i } })
        expect(body.event.latency_ms.total).toBeGreaterThanOrEqual(body.event.latency_ms.inference)
        expect(body.feedback.map((f) => [f.id, f.name, f.value])).toEqual([[out.feedback[i]![0], 'label', i % 2 === 1]])
      }
      const listed = await listAllIn(server.url, '/v1/events', headers)
      expect(listed.length).toBe(n)
      expect(new Set(listed).size).toBe(n)
    } finally {
      await stop(server)
    }
  }, 120_000)

  it('delivers exactly once across a collector kill -9 and restart on the same port and data', async () => {
    const data = path.join(root, 'b')
    const spool = path.join(root, 'b-spool')
    let server = await spawnServer(['--data', data])
    const port = new URL(server.url).port
    const py = python([path.join(SCRIPTS, 'log_through_restart.py'), server.url, spool])
    let stderr = ''
    py.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const lines = createInterface({ input: py.stdout })
    let progress: { logged: number; stats: PyStats } = { logged: 0, stats: {} as PyStats }
    let done: { events: string[]; feedback: string[]; closed: boolean; stats: PyStats; errors: string[] } | undefined
    const finished = new Promise<void>((resolve) => py.once('close', () => resolve()))
    lines.on('line', (line) => {
      if (line.startsWith('progress ')) progress = JSON.parse(line.slice(9)) as typeof progress
      else if (line.startsWith('done ')) done = JSON.parse(line.slice(5)) as NonNullable<typeof done>
    })
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 50))
      if (!ok()) throw new Error(`timed out waiting for ${what}; python stderr: ${stderr}`)
    }
    try {
      await until('events acknowledged before the kill', () => progress.stats.sent >= 300)
      server.child.kill('SIGKILL')
      expect((await server.exited).signal).toBe('SIGKILL')
      const atKill = progress.logged
      await until('logging to go on into the spool', () => progress.logged >= atKill + 300 && progress.stats.spooled > 0)
      server = await spawnServer(['--data', data, '--port', port])
      expect(server.url).toBe(`http://127.0.0.1:${port}`)
      const atRestart = progress.logged
      await until('logging after the restart', () => progress.logged >= atRestart + 300)
      py.stdin.write('stop\n')
      await finished
      expect(done, stderr).toBeDefined()
      const out = done!
      expect(out.closed).toBe(true)
      const total = out.events.length + out.feedback.length
      expect(out.stats).toMatchObject({ enqueued: total, sent: total, dropped: 0, failed: 0, rejected: 0, queue_depth: 0, spool_items: 0 })
      expect(out.stats.spooled).toBeGreaterThan(0)
      expect(out.stats.replayed).toBeGreaterThan(0)

      const count = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>())
      const stored = count((await listAll(server.url, '/v1/events')).map((e) => e.id))
      const notOnce = out.events.filter((id) => stored.get(id) !== 1)
      expect({ logged: out.events.length, stored: stored.size, notOnce: notOnce.length }).toEqual({
        logged: out.events.length,
        stored: out.events.length,
        notOnce: 0,
      })
      const fb = count((await listAll(server.url, '/v1/feedback')).map((f) => f.id))
      expect(out.feedback.filter((id) => fb.get(id) !== 1)).toEqual([])
      expect(fb.size).toBe(out.feedback.length)
      expect(fs.readdirSync(spool)).toEqual([])
      console.log(
        `python client through kill -9: ${out.events.length} events + ${out.feedback.length} feedback, ` +
          `${out.stats.spooled} spooled, ${out.stats.replayed} replayed, ${out.stats.retried} retries; each stored once`,
      )
    } finally {
      if (py.exitCode === null) py.kill('SIGKILL')
      await stop(server)
    }
  }, 120_000)

  it('replays what the TypeScript SDK spooled, and the SDK replays what it spooled', async () => {
    const dead = await deadUrl()
    const model = { name: 'spool-interop', version: '1' }
    const fromPy = path.join(root, 'c-from-py')
    const fromTs = path.join(root, 'c-from-ts')
    const spoolScript = [
      'import inferlog, json, sys',
      'log = inferlog.Logger(sys.argv[1], model={"name": "spool-interop", "version": "1"}, spool_dir=sys.argv[2], on_error=lambda e: None)',
      'ids = [log.log(input={"py": i}, output=i) for i in range(50)]',
      'log.close(10)',
      'print(json.dumps({"ids": ids, "stats": log.stats()}))',
    ].join('\n')
    const spooled = await runPython(['-c', spoolScript, dead, fromPy])
    expect(spooled.code, spooled.stderr).toBe(0)
    const py = JSON.parse(spooled.stdout) as { ids: string[]; stats: PyStats }
    expect(py.stats).toMatchObject({ spooled: 50, sent: 0, failed: 0, spool_items: 50 })

    const tsDown = createLogger({ url: dead, model, spool: { dir: fromTs }, flushOnExit: false, onError: () => undefined })
    const tsIds = Array.from({ length: 50 }, (_, i) => tsDown.log({ input: { ts: i }, output: i }))
    await tsDown.close()
    expect(tsDown.stats()).toMatchObject({ spooled: 50, sent: 0, failed: 0 })

    const server = await spawnServer(['--data', path.join(root, 'c')])
    try {
      const tsUp = createLogger({ url: server.url, model, spool: { dir: fromPy }, flushOnExit: false })
      for (let i = 0; i < 200 && tsUp.stats().replayed < 50; i++) await new Promise((r) => setTimeout(r, 50))
      await tsUp.close()
      expect(tsUp.stats()).toMatchObject({ replayed: 50, failed: 0 })

      const replayScript = [
        'import inferlog, json, sys',
        'log = inferlog.Logger(sys.argv[1], spool_dir=sys.argv[2])',
        'log.close(10)',
        'print(json.dumps(log.stats()))',
      ].join('\n')
      const replayed = await runPython(['-c', replayScript, server.url, fromTs])
      expect(replayed.code, replayed.stderr).toBe(0)
      expect(JSON.parse(replayed.stdout)).toMatchObject({ replayed: 50, sent: 50, failed: 0, spool_items: 0 })

      const stored = (await listAll(server.url, '/v1/events')).map((e) => e.id).sort()
      expect(stored).toEqual([...py.ids, ...tsIds].sort())
      expect(fs.readdirSync(fromPy)).toEqual([])
      expect(fs.readdirSync(fromTs)).toEqual([])
    } finally {
      await stop(server)
    }
  }, 60_000)
})

/** A URL on which nothing listens: connections are refused at once. */
async function deadUrl(): Promise<string> {
  const srv = net.createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as net.AddressInfo
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

/** Like listAll, with request headers (a project). */
async function listAllIn(url: string, p: string, headers: Record<string, string>): Promise<string[]> {
  const out: string[] = []
  let cursor: string | null = null
  do {
    const res = await fetch(`${url}${p}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers })
    if (res.status !== 200) throw new Error(`GET ${p}: HTTP ${res.status}`)
    const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null }
    out.push(...page.items.map((i) => i.id))
    cursor = page.next_cursor
  } while (cursor)
  return out
}
