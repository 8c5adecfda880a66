import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, runCli, spawnServer, type ServerProcess } from '@inferlog/testkit'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-cli-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

async function stop(s: ServerProcess) {
  s.child.kill('SIGTERM')
  return s.exited
}

describe('inferlog serve', () => {
  it('prints the URL it listens on as its first line and shuts down cleanly on SIGTERM', async () => {
    const s = await spawnServer(['--data', path.join(root, 'serve1')])
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200)
    expect(s.stderr()).toMatch(/open mode/)
    expect(await stop(s)).toEqual({ code: 0, signal: null })
  })

  it.runIf(process.platform === 'linux')('runs node with --single-threaded-gc when the launcher is executed itself', async () => {
    // The shebang (`env -S node --single-threaded-gc`): what `npx inferlog serve` and an installed bin run.
    const child = spawn(CLI, ['serve', '--port', '0', '--data', path.join(root, 'serve-gc')], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          if (out.includes('\n')) resolve(out.trim())
        })
        child.once('exit', (code) => reject(new Error(`serve exited (${code}) before printing its URL`)))
      })
      expect((await fetch(`${url}/healthz`)).status).toBe(200)
      const argv = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')
      expect(argv).toContain('--single-threaded-gc')
      expect(argv).toContain('serve')
    } finally {
      child.kill('SIGTERM')
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)))
    }
  })

  it('refuses a non-loopback address without keys, and serves it once a key exists', async () => {
    const dir = path.join(root, 'serve2')
    const refused = await runCli(['serve', '--port', '0', '--host', '0.0.0.0', '--data', dir])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(refused.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without API keys/)

    const created = await runCli(['keys', 'create', '--project', 'shop', '--scopes', 'ingest,read', '--data', dir, '--json'])
    expect(created.code).toBe(0)
    const key = JSON.parse(created.stdout) as { key: string; project: string }
    expect(key).toMatchObject({ project: 'shop' })
    const s = await spawnServer(['--host', '0.0.0.0', '--data', dir])
    try {
      const port = new URL(s.url).port
      const local = `http://127.0.0.1:${port}`
      expect((await fetch(`${local}/v1/events`)).status).toBe(401)
      const ok = await fetch(`${local}/v1/events`, { headers: { authorization: `Bearer ${key.key}` } })
      expect(ok.status).toBe(200)
      const list = await runCli(['keys', 'list', '--data', dir, '--json'])
      expect(JSON.parse(list.stdout).items[0]).toMatchObject({ project: 'shop', scopes: ['ingest', 'read'] })
      expect(list.stdout).not.toContain(key.key)
    } finally {
      await stop(s)
    }
  })
})

describe('client commands against a running server', () => {
  let s: ServerProcess
  let url: string
  beforeAll(async () => {
    s = await spawnServer(['--data', path.join(root, 'client')])
    url = s.url
  })
  afterAll(async () => {
    await stop(s)
  })

  it('ingests an NDJSON file in batches with a summary line, reporting bad lines by line number', async () => {
    const file = path.join(root, 'events.ndjson')
    const lines = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify({ id: `f${i}`, model: { name: 'clf', version: i < 1000 ? '1' : '2' }, input: { i }, output: i % 3 }),
    )
    lines.splice(10, 0, '{not json')
    lines.splice(20, 0, '')
    fs.writeFileSync(file, lines.join('\n') + '\n')
    const r = await runCli(['ingest', file, '--url', url, '--batch', '700'])
    expect(r.code).toBe(1)
    expect(r.stdout.trim()).toMatch(
      /^ingested .*events\.ndjson: 2501 items, 2500 accepted, 0 duplicates, 1 rejected in [\d.]+s \(\d+\/s\)$/,
    )
    expect(r.stderr).toMatch(/^line 11: invalid_json: /m)
    const again = await runCli(['ingest', file, '--url', url, '--json'])
    expect(JSON.parse(again.stdout)).toMatchObject({ items: 2501, accepted: 0, duplicates: 2500, rejected: 1 })
  })

  it('gets, queries and attaches feedback', async () => {
    await fetch(`${url}/v1/events`, {
      method: 'POST',
      body: JSON.stringify({ id: 'cli-1', model: { name: 'ranker', version: '7' }, input: 'q', output: [3, 1, 2] }),
    })
    const fb = await runCli(['feedback', 'cli-1', 'rating', '4', '--url', url])
    expect(fb.code).toBe(0)
    expect(fb.stdout).toMatch(/^recorded feedback \S+ on event cli-1/)
    const fb2 = await runCli(['feedback', 'cli-1', 'label', 'relevant', '--kind', 'implicit', '--url', url, '--json'])
    expect(JSON.parse(fb2.stdout)).toMatchObject({ accepted: 1 })
    const g = await runCli(['get', 'cli-1', '--url', url, '--json'])
    const detail = JSON.parse(g.stdout)
    expect(detail.event.output).toEqual([3, 1, 2])
    expect(detail.feedback.map((f: { name: string; value: unknown }) => [f.name, f.value])).toEqual([
      ['rating', 4],
      ['label', 'relevant'],
    ])
    const q = await runCli(['query', '--model', 'ranker', '--has-feedback', 'true', '--url', url, '--json'])
    expect(JSON.parse(q.stdout).items.map((e: { id: string }) => e.id)).toEqual(['cli-1'])
    const human = await runCli(['query', '--model', 'ranker', '--url', url])
    expect(human.stdout).toMatch(/cli-1 {2}ranker@7 {2}ok/)
  })

  it('fails with one line and a non-zero code', async () => {
    const missing = await runCli(['get', 'nope', '--url', url])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe('inferlog: not_found: no event with id "nope"\n')
    const badFilter = await runCli(['query', '--limit', '0', '--url', url])
    expect(badFilter.code).toBe(1)
    expect(badFilter.stderr).toMatch(/^inferlog: invalid_parameter: /)
    const down = await runCli(['get', 'x', '--url', 'http://127.0.0.1:9'])
    expect(down.code).toBe(1)
    expect(down.stderr).toMatch(/^inferlog: unreachable: cannot reach http:\/\/127\.0\.0\.1:9/)
    const noFile = await runCli(['ingest', path.join(root, 'absent.ndjson'), '--url', url])
    expect(noFile.code).toBe(1)
    expect(noFile.stderr.trim().split('\n')).toHaveLength(1)
    const usage = await runCli(['frobnicate'])
    expect(usage.code).toBe(2)
  })
})

describe('the first hour of a new user', () => {
  const fresh = (name: string) => {
    const d = path.join(root, name)
    fs.mkdirSync(d, { recursive: true })
    return d
  }

  it('exits with one line naming an unusable store instead of hanging', async () => {
    // A hang (the endless mkdir loop this guards against) is killed after a minute and fails on
    // `signal`; a normal exit takes a few seconds even on a loaded box.
    for (const store of ['sqlite:/proc/nope/x.db', `sqlite:${root}`, 'sqlite:', 'mysql://x']) {
      const r = await runCli(['serve', '--port', '0', '--store', store], { killAfterMs: 60_000 })
      expect(r.signal, store).toBeNull()
      expect(r.code, store).not.toBe(0)
      expect(r.stdout, store).toBe('')
      expect(r.stderr.trim().split('\n'), store).toHaveLength(1)
      expect(r.stderr, store).toMatch(/^inferlog: \w+: /)
    }
    expect(r0(await runCli(['serve', '--port', '0', '--store', 'sqlite:/proc/nope/x.db'], { killAfterMs: 60_000 })).stderr).toContain(
      '/proc/nope',
    )
  }, 360_000)

  it('never creates a store for a command that only reads', async () => {
    const cwd = fresh('readonly')
    const r = await runCli(['keys', 'list'], { env: { INFERLOG_DATA: '', INFERLOG_URL: '' }, cwd })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^inferlog: not_found: no store at /)
    expect(fs.existsSync(path.join(cwd, 'data'))).toBe(false)
  })

  it('finds the server running on ./data, says so, and manages keys through it', async () => {
    const cwd = fresh('discover')
    const s = await spawnServer([], { env: { INFERLOG_DATA: '' }, cwd })
    try {
      expect(JSON.parse(fs.readFileSync(path.join(cwd, 'data', 'server.json'), 'utf8'))).toMatchObject({ url: s.url, open: true })
      await fetch(`${s.url}/v1/events`, {
        method: 'POST',
        body: JSON.stringify({ id: 'found', model: { name: 'm', version: '1' }, input: 1, output: 1 }),
      })
      const env = { INFERLOG_DATA: '', INFERLOG_URL: '' }
      const g = await runCli(['get', 'found'], { env, cwd })
      expect(g.code).toBe(0)
      expect(g.stderr).toBe(`inferlog: using ${s.url} (from data/server.json)\n`)
      const created = await runCli(['keys', 'create', '--scopes', 'read', '--name', 'ci', '--json'], { env, cwd })
      const key = JSON.parse(created.stdout) as { id: string; key: string }
      expect((await fetch(`${s.url}/v1/events`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(200)
      expect((await runCli(['keys', 'revoke', key.id], { env, cwd })).code).toBe(0)
      expect((await fetch(`${s.url}/v1/events`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(401)
      const listed = JSON.parse((await runCli(['keys', 'list', '--json'], { env, cwd })).stdout)
      expect(listed.items).toEqual([expect.objectContaining({ id: key.id, name: 'ci', revoked_at: expect.stringMatching(/^\d{4}-/) })])
    } finally {
      await stop(s)
    }
    expect(fs.existsSync(path.join(cwd, 'data', 'server.json'))).toBe(false)
  })

  it('ends quietly when its reader goes away (inferlog keys list | head -1)', async () => {
    const data = fresh('pipe')
    for (let i = 0; i < 3; i++) await runCli(['keys', 'create', '--data', data, '--name', `k${i}`])
    const many = await runCli(['keys', 'list', '--data', data])
    expect(many.stdout.trim().split('\n')).toHaveLength(3)
    const { stdout, stderr } = await promisify(execFile)('sh', [
      '-c',
      `for i in 1 2 3; do "${process.execPath}" "${CLI}" keys list --data "${data}"; done | head -1`,
    ])
    expect(stdout.trim().split('\n')).toHaveLength(1)
    expect(stderr).toBe('')
  })
})

const r0 = <T>(x: T) => x

describe('npx inferlog', () => {
  it('runs from the repository root', async () => {
    const { stdout } = await promisify(execFile)('npx', ['--no-install', 'inferlog', '--help'], { cwd: path.resolve(__dirname, '..') })
    expect(stdout).toMatch(/Usage: inferlog/)
    expect(stdout).toMatch(/serve/)
  })
})
