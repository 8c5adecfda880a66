import { createHmac } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, type ServerProcess, spawnServer } from '@inferlog/testkit'

const SECRET = 'cli-test-secret-0123456789abcdef'
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-cli-trig-'))
let s: ServerProcess
let hook: http.Server
const received: { headers: http.IncomingHttpHeaders; body: string }[] = []

beforeAll(async () => {
  hook = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      received.push({ headers: req.headers, body })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()))
  s = await spawnServer(['--data', path.join(root, 'data')], { env: { INFERLOG_TRIGGER_TICK_MS: '200' } })
  const events = Array.from({ length: 12 }, (_, i) => ({
    id: `t${i}`,
    model: { name: 'trig', version: '1' },
    input: { x: i },
    output: { label: i % 2 ? 'a' : 'b' },
  }))
  await fetch(`${s.url}/v1/events`, { method: 'POST', body: JSON.stringify(events) })
  await fetch(`${s.url}/v1/feedback`, {
    method: 'POST',
    body: JSON.stringify(events.map((e) => ({ event_id: e.id, name: 'label', value: 'a' }))),
  })
  fs.writeFileSync(
    path.join(root, 'trigger.yaml'),
    [
      'spec:',
      '  select: {model: trig}',
      '  feedback: {label: {name: label, missing: drop}}',
      '  label: {from: label}',
      '  format: jsonl',
      'schedule: {every: 1d}',
      `webhook: {url: "http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook"}`,
      '',
    ].join('\n'),
  )
  fs.writeFileSync(path.join(root, 'bad.yaml'), 'spec: {format: xlsx}\nschedule: {cron: "* *"}\n')
})
afterAll(async () => {
  s.child.kill('SIGTERM')
  await s.exited
  hook.closeAllConnections()
  await new Promise((r) => hook.close(r))
  fs.rmSync(root, { recursive: true, force: true })
})

describe('inferlog dataset trigger', () => {
  it('sets a trigger, builds on request, delivers a signed manifest, shows the runs and removes it', async () => {
    const url = ['--url', s.url]
    const set = await runCli(
      ['dataset', 'trigger', 'set', 'trig-train', path.join(root, 'trigger.yaml'), '--secret-env', 'HOOK_SECRET', ...url],
      {
        env: { HOOK_SECRET: SECRET },
      },
    )
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toMatch(/^trig-train: every 1d; next scheduled run \d{4}-\d\d-\d\dT00:00:00\.000Z/)
    expect(set.stdout).toMatch(/webhook: http:\/\/127\.0\.0\.1:\d+\/hook \(signed\)/)
    const run = await runCli(['dataset', 'trigger', 'run', 'trig-train', ...url])
    expect(run.code, run.stderr).toBe(0)
    const deadline = Date.now() + 60_000
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    expect(received).toHaveLength(1)
    const d = received[0]!
    const ts = d.headers['x-inferlog-timestamp'] as string
    expect(d.headers['x-inferlog-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(`${ts}.${d.body}`).digest('hex')}`)
    expect(JSON.parse(d.body)).toMatchObject({ id: 'trig-train@1', manifest: { counts: { written: 12 } }, trigger: { reason: 'manual' } })
    let shown = JSON.parse((await runCli(['dataset', 'trigger', 'show', 'trig-train', '--json', ...url])).stdout)
    for (let i = 0; i < 50 && shown.runs[0]?.webhook.state !== 'delivered'; i++) {
      await new Promise((r) => setTimeout(r, 200))
      shown = JSON.parse((await runCli(['dataset', 'trigger', 'show', 'trig-train', '--json', ...url])).stdout)
    }
    expect(shown.runs[0]).toMatchObject({
      reason: 'manual',
      state: 'built',
      dataset_id: 'trig-train@1',
      rows: 12,
      webhook: { state: 'delivered' },
    })
    expect(shown.trigger.webhook.has_secret).toBe(true)
    const text = await runCli(['dataset', 'trigger', 'show', 'trig-train', ...url])
    expect(text.stdout).toMatch(/manual {2}built {2}trig-train@1 \(12 rows\), webhook delivered after 1 attempts/)

    const bad = await runCli(['dataset', 'trigger', 'set', 'trig-train', path.join(root, 'bad.yaml'), ...url])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^inferlog: validation_failed: invalid dataset trigger: .*\/spec\/format/)
    const removed = await runCli(['dataset', 'trigger', 'remove', 'trig-train', ...url])
    expect(removed.code, removed.stderr).toBe(0)
    const gone = await runCli(['dataset', 'trigger', 'show', 'trig-train', ...url])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/^inferlog: not_found: dataset trig-train has no trigger/)
    // The version stays.
    expect(JSON.parse((await runCli(['dataset', 'list', '--json', ...url])).stdout).items[0].versions[0].id).toBe('trig-train@1')
  })
})
