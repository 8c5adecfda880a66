import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, type ServerProcess, spawnServer } from '@inferlog/testkit'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-cli-drift-'))
let s: ServerProcess
beforeAll(async () => {
  s = await spawnServer(['--data', root])
})
afterAll(async () => {
  s.child.kill('SIGTERM')
  await s.exited
  fs.rmSync(root, { recursive: true, force: true })
})

const H = 3_600_000
const T0 = Math.floor(Date.now() / (24 * H)) * 24 * H - 3 * 24 * H
const ev = (i: number, shift: number) => ({
  id: `d${shift}-${i}`,
  ts: new Date(T0 + (shift > 0 ? 24 * H : 0) + i * 60_000).toISOString(),
  model: { name: 'drift-clf', version: '1' },
  input: { age: 30 + ((i * 7919) % 41) + shift, country: ['fr', 'de', shift ? 'it' : 'es'][i % 3] },
  output: { label: 'a' },
})
const iso = (ms: number) => new Date(ms).toISOString()
const reference = JSON.stringify({ model: 'drift-clf', from: iso(T0), to: iso(T0 + 24 * H) })
const current = JSON.stringify({ model: 'drift-clf', from: iso(T0 + 24 * H), to: iso(T0 + 48 * H) })

describe('drift and profiles from the CLI', () => {
  it('compares windows exactly and from hourly profiles, saves and lists profiles', async () => {
    const url = ['--url', s.url]
    const cfg = await runCli(['models', 'configure', 'drift-clf', '{"monitored_fields": ["input.age", "input.country"]}', ...url, '--json'])
    expect(cfg.code, cfg.stderr).toBe(0)
    const events = [...Array.from({ length: 1200 }, (_, i) => ev(i, 0)), ...Array.from({ length: 1200 }, (_, i) => ev(i, 8))]
    const res = await fetch(`${s.url}/v1/events`, { method: 'POST', body: JSON.stringify(events) })
    expect(res.status).toBe(200)

    const base = ['drift', '--reference', reference, '--current', current, '--fields', 'input.age,input.country', ...url]
    const exact = await runCli([...base, '--json'])
    expect(exact.code, exact.stderr).toBe(0)
    const e = JSON.parse(exact.stdout)
    expect(e).toMatchObject({ mode: 'exact', reference_rows: 1200, current_rows: 1200, dataset_drift: true })
    expect(e.fields.map((f: { method: string }) => f.method)).toEqual(['wasserstein', 'jensenshannon'])

    // Hourly profiles trail the commit by a moment.
    let p: { profiles?: { position: number; head: number }; fields: { statistic: number }[]; windows: Record<string, { source: string }> } =
      {
        fields: [],
        windows: {},
      }
    for (let i = 0; i < 100; i++) {
      const r = await runCli([...base, '--mode', 'profile', '--json'])
      expect(r.code, r.stderr).toBe(0)
      p = JSON.parse(r.stdout)
      // Each window answers from the hourly profiles once the consumer reached the head it saw;
      // a window read a moment before that falls back to a scan, so wait for both.
      const hourly = p.windows.reference?.source === 'hourly' && p.windows.current?.source === 'hourly'
      if (hourly && p.profiles && p.profiles.position >= p.profiles.head) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(p.windows).toMatchObject({ reference: { source: 'hourly' }, current: { source: 'hourly' } })
    p.fields.forEach((f, i) => expect(Math.abs(f.statistic - e.fields[i].statistic)).toBeLessThan(0.01))

    const human = await runCli([...base, '--mode', 'profile', '--methods', 'input.age=psi', '--thresholds', 'input.country=0.5'])
    expect(human.code, human.stderr).toBe(0)
    const lines = human.stdout.split('\n')
    expect(lines[0]).toMatch(/^field\s+kind\s+method\s+statistic\s+p-value\s+threshold\s+drift\s+n ref\s+n cur$/)
    expect(lines[1]).toMatch(/^input\.age\s+numerical\s+psi\s+[\d.]+\s+-\s+0\.1\s+DRIFT\s+1200\s+1200$/)
    expect(lines[2]).toMatch(/^input\.country\s+categorical\s+jensenshannon\s+[\d.]+\s+-\s+0\.5\s+no\s+1200\s+1200$/)
    expect(human.stdout).toMatch(/drift share 0\.5 \(1 of 2 fields\)\s+dataset drift: YES\s+mode: profile/)
    expect(human.stdout).toMatch(/reference: hourly \S+ → \S+/)

    const saved = await runCli(['profile', 'save', 'baseline', '--filter', reference, '--fields', 'input.age,input.country', ...url])
    expect(saved.code, saved.stderr + s.stderr()).toBe(0)
    expect(saved.stdout).toBe('saved profile baseline: 1200 rows, 2 fields\n')
    const list = await runCli(['profile', 'list', ...url])
    expect(list.stdout).toMatch(/^name\s+rows\s+created\s+fields\nbaseline\s+1200\s+\S+\s+input\.age,input\.country\n$/)
    const show = await runCli(['profile', 'show', 'baseline', ...url, '--json'])
    expect(JSON.parse(show.stdout)).toMatchObject({ name: 'baseline', rows: 1200 })
    const vsSaved = await runCli(['drift', '--profile', 'baseline', '--current', current, '--fields', 'input.age', ...url, '--json'])
    expect(JSON.parse(vsSaved.stdout)).toMatchObject({ mode: 'profile', windows: { reference: { source: 'saved' } } })

    // Bad input: one line on stderr, exit 1.
    for (const args of [
      ['drift', '--current', current, '--fields', 'input.age'],
      ['drift', '--reference', reference, '--profile', 'baseline', '--current', current, '--fields', 'input.age'],
      ['drift', '--reference', '{"model":', '--current', current, '--fields', 'input.age'],
      ['drift', '--reference', reference, '--current', current, '--fields', 'input.age', '--methods', 'input.age'],
      ['drift', '--profile', 'nope', '--current', current, '--fields', 'input.age'],
      ['profile', 'show', 'nope'],
      ['profile', 'save', 'x'],
    ]) {
      const r = await runCli([...args, ...url])
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr).toMatch(/^inferlog: (invalid_parameter|not_found): .*\n$/)
    }
  })
})
