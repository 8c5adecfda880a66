import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, type ServerProcess, spawnServer } from '@inferlog/testkit'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-cli-ds-'))
const data = path.join(root, 'data')
let s: ServerProcess
beforeAll(async () => {
  s = await spawnServer(['--data', data])
  const t = Date.UTC(2026, 10, 2)
  const events = Array.from({ length: 30 }, (_, i) => ({
    id: `e${i}`,
    ts: new Date(t + i * 1000).toISOString(),
    model: { name: 'ds', version: '1' },
    input: { x: i },
    output: { label: i % 2 ? 'a' : 'b' },
  }))
  await fetch(`${s.url}/v1/events`, { method: 'POST', body: JSON.stringify(events) })
  await fetch(`${s.url}/v1/feedback`, {
    method: 'POST',
    body: JSON.stringify(events.map((e, i) => ({ event_id: e.id, name: 'label', value: i % 3 ? 'a' : 'b' }))),
  })
  fs.writeFileSync(
    path.join(root, 'spec.yaml'),
    'name: ds-train\nselect: {model: ds}\nfeedback:\n  label: {name: label, aggregate: latest, missing: drop}\nlabel: {from: label}\nsplit: {ratios: {train: 0.7, test: 0.3}, seed: s}\nformat: jsonl\n',
  )
  fs.writeFileSync(
    path.join(root, 'reward.mjs'),
    'export const name = "len"\nexport const version = "1"\nexport function score(e) { if (e.input.x === 7) throw new Error("no"); return e.input.x / 10 }\n',
  )
})
afterAll(async () => {
  s.child.kill('SIGTERM')
  await s.exited
  fs.rmSync(root, { recursive: true, force: true })
})

describe('datasets and scoring from the CLI', () => {
  it('builds through the server (in its worker thread) and straight from the store, lists and downloads', async () => {
    const url = ['--url', s.url]
    const out = path.join(root, 'out1')
    const b = await runCli(['dataset', 'build', path.join(root, 'spec.yaml'), '--out', out, ...url])
    expect(b.code, b.stderr).toBe(0)
    expect(b.stdout).toMatch(/^ds-train@1: 30 rows \(/)
    const lines = fs
      .readdirSync(out)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => fs.readFileSync(path.join(out, f), 'utf8').trim().split('\n'))
    expect(lines).toHaveLength(30)
    expect(JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'))).toMatchObject({ name: 'ds-train', version: 1 })
    const list = await runCli(['dataset', 'list', ...url, '--json'])
    expect(JSON.parse(list.stdout).items[0].versions[0].id).toBe('ds-train@1')
    // Straight from the store into out/<dir>, with extra flags.
    const direct = (dir: string, ...flags: string[]) =>
      runCli(['dataset', 'build', path.join(root, 'spec.yaml'), '--data', data, '--out', path.join(root, dir), ...flags])
    const same = (dir: string, f: string) => fs.readFileSync(path.join(root, 'out1', f)).equals(fs.readFileSync(path.join(root, dir, f)))
    const one = await direct('out2')
    expect(one.code, one.stderr).toBe(0)
    for (const f of fs.readdirSync(out).filter((x) => x.endsWith('.jsonl'))) expect(same('out2', f)).toBe(true)
    // Three compilers (this thread and two range threads): the same bytes again.
    const three = await direct('out3', '--workers', '3')
    expect(three.code, three.stderr).toBe(0)
    for (const f of fs.readdirSync(out).filter((x) => x.endsWith('.jsonl'))) expect(same('out3', f)).toBe(true)
    const zero = await direct('out4', '--workers', '0')
    expect(zero.code).toBe(1)
    expect(zero.stderr).toMatch(/--workers must be a positive integer/)
    const bad = await runCli(['dataset', 'build', path.join(root, 'reward.mjs'), ...url])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^inferlog: validation_failed: /)
  })

  it('scores events with a reward module and writes feedback once, recording failures per event', async () => {
    const args = ['score', '--scorer', path.join(root, 'reward.mjs'), '--name', 'reward', '--model', 'ds', '--url', s.url]
    const first = await runCli(args)
    expect(first.code).toBe(1) // one event's scorer threw
    expect(first.stdout).toMatch(/scored 29 events with len@1: 29 new, 0 already there, 1 errors/)
    expect(first.stderr).toMatch(/event e7: no/)
    const again = await runCli(args)
    expect(again.stdout).toMatch(/29 events with len@1: 0 new, 29 already there/)
    const fb = (await (await fetch(`${s.url}/v1/events/e3`)).json()) as {
      feedback: { name: string; value: number; source: { type: string; id: string } }[]
    }
    expect(fb.feedback.find((f) => f.name === 'reward')).toMatchObject({ value: 0.3, source: { type: 'model', id: 'len@1' } })
  })
})
