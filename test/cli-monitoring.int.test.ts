import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, runCli, type ServerProcess, spawnServer } from '@inferlog/testkit'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-cli-mon-'))
let s: ServerProcess
beforeAll(async () => {
  s = await spawnServer(['--data', root])
})
afterAll(async () => {
  s.child.kill('SIGTERM')
  await s.exited
  fs.rmSync(root, { recursive: true, force: true })
})

const now = Date.now()
const ev = (i: number, version: string) => ({
  id: `c${version}-${i}`,
  ts: new Date(now - 60_000 - i * 1000).toISOString(),
  model: { name: 'cli-clf', version },
  input: { i },
  output: { label: i % 2 ? 'a' : 'b' },
  latency_ms: { total: 10 + i },
  ...(i % 5 === 0 ? { status: 'error', error: { type: 'x', message: 'y' }, output: undefined } : {}),
})

describe('monitoring from the CLI', () => {
  it('shows the label-free estimate beside the realized accuracy', async () => {
    const url = ['--url', s.url]
    const events = Array.from({ length: 40 }, (_, i) => ({
      id: `est-${i}`,
      ts: new Date(now - 120_000 - i * 1000).toISOString(),
      model: { name: 'cli-est', version: '1' },
      input: { i },
      output: { label: i % 4 !== 0, score: i % 4 !== 0 ? 0.9 : 0.2 },
    }))
    await fetch(`${s.url}/v1/events`, { method: 'POST', body: JSON.stringify(events) })
    await fetch(`${s.url}/v1/feedback`, {
      method: 'POST',
      body: JSON.stringify(events.slice(0, 20).map((e) => ({ event_id: e.id, name: 'label', value: e.output.label }))),
    })
    const args = ['metrics', '--model', 'cli-est', '--bucket', 'all', '--estimate', 'label', '--score', 'output.score', ...url]
    let out = ''
    for (let i = 0; i < 50 && !/n 40 /.test(out); i++) {
      out = (await runCli(args)).stdout
      if (!/n 40 /.test(out)) await new Promise((r) => setTimeout(r, 200))
    }
    expect(out).toMatch(/n 40 .* label: est acc [0-9.]+ f1 [0-9.]+/)
    const json = JSON.parse((await runCli([...args, '--json'])).stdout)
    expect(json.series[0].points[0].estimated.label).toMatchObject({ n: 40, n_reference: 20, realized: { n: 20, accuracy: 1 } })
    const bad = await runCli(['metrics', '--model', 'cli-est', '--estimate', 'label', ...url])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^inferlog: invalid_parameter: estimate needs exactly one of score/)
  })

  it('configures a model, reads metrics, compares versions, and tails new events', async () => {
    const url = ['--url', s.url]
    const cfg = await runCli([
      'models',
      'configure',
      'cli-clf',
      '{"labels": {"label": {"output": "label", "type": "class"}}}',
      ...url,
      '--json',
    ])
    expect(cfg.code).toBe(0)
    expect(JSON.parse(cfg.stdout).config.labels.label.type).toBe('class')
    await fetch(`${s.url}/v1/events`, {
      method: 'POST',
      body: JSON.stringify([...Array.from({ length: 20 }, (_, i) => ev(i, '1')), ...Array.from({ length: 10 }, (_, i) => ev(i, '2'))]),
    })
    // The aggregates trail the commit by a moment.
    let reply: { series: { group: { version: string }; points: { n: number; errors: number }[] }[] } = { series: [] }
    for (let i = 0; i < 50; i++) {
      const m = await runCli(['metrics', '--model', 'cli-clf', '--bucket', 'all', '--group-by', 'version', ...url, '--json'])
      expect(m.stderr).toBe('')
      reply = JSON.parse(m.stdout)
      if (reply.series.reduce((n, x) => n + x.points[0]!.n, 0) === 30) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(Object.fromEntries(reply.series.map((x) => [x.group.version, [x.points[0]!.n, x.points[0]!.errors]]))).toEqual({
      '1': [20, 4],
      '2': [10, 2],
    })
    const human = await runCli(['metrics', '--model', 'cli-clf', '--bucket', 'all', ...url])
    expect(human.stdout).toMatch(/^# all\n\S+ {2}n 30 {2}count 30 {2}err 0\.2 /)
    const models = await runCli(['models', 'list', ...url])
    expect(models.stdout).toMatch(/^cli-clf {2}1 \(20, last .*\), 2 \(10, last/)
    const cmp = await runCli([
      'compare',
      '--a',
      '{"model":"cli-clf","version":"1"}',
      '--b',
      '{"model":"cli-clf","version":"2"}',
      ...url,
      '--json',
    ])
    expect(JSON.parse(cmp.stdout)).toMatchObject({ a: { n: 20 }, b: { n: 10 }, metrics: { error_rate: { a: 0.2, b: 0.2 } } })
    const bad = await runCli(['compare', '--a', '{"model":'], { env: { INFERLOG_URL: s.url } })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^inferlog: invalid_parameter: /)

    const tail = spawn(process.execPath, [CLI, 'tail', '--model', 'cli-clf', '--json', ...url], { stdio: 'pipe' })
    let out = ''
    let err = ''
    tail.stdout.on('data', (d: Buffer) => (out += d.toString()))
    tail.stderr.on('data', (d: Buffer) => (err += d.toString()))
    for (let i = 0; i < 200 && !err.includes('following'); i++) await new Promise((r) => setTimeout(r, 50))
    await fetch(`${s.url}/v1/events`, { method: 'POST', body: JSON.stringify(ev(99, '3')) })
    for (let i = 0; i < 50 && !out.includes('c3-99'); i++) await new Promise((r) => setTimeout(r, 100))
    tail.kill('SIGTERM')
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(['c3-99'])
  })
})
