import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, spawnServer } from '@inferlog/testkit'

// The audit chain through the command line: a collector seals what it commits; `inferlog verify`
// checks the file afterwards and names what a direct edit broke.

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-cli-audit-'))
  dirs.push(d)
  return d
}

const events = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, model: { name: 'clf', version: '1' }, input: { i }, output: i % 2 }))

/** Serves `dir`, sends `batches` requests of events, waits until the chain has sealed them all. */
async function sealedStore(dir: string, batches: number, extraArgs: string[] = []) {
  const server = await spawnServer(['--data', dir, ...extraArgs])
  try {
    for (let b = 0; b < batches; b++) {
      const r = await fetch(`${server.url}/v1/events`, { method: 'POST', body: JSON.stringify(events(20, `b${b}`)) })
      expect(r.status).toBe(200)
    }
    const deadline = Date.now() + 60_000
    for (;;) {
      const m = await (await fetch(`${server.url}/metrics`)).text()
      const sealed = Number(/^inferlog_audit_sealed_batch (\d+)/m.exec(m)?.[1] ?? -1)
      const head = Number(/^inferlog_audit_head_batch (\d+)/m.exec(m)?.[1] ?? -2)
      if (sealed === head && sealed >= batches) break
      if (Date.now() > deadline)
        throw new Error(
          `chain not sealed in time:\n${m
            .split('\n')
            .filter((l) => l.includes('audit'))
            .join('\n')}`,
        )
      await new Promise((r) => setTimeout(r, 100))
    }
    return server
  } catch (e) {
    await server.stop()
    throw e
  }
}

describe('inferlog verify', () => {
  it('passes on what the collector sealed, and names the batch and row a direct edit broke', async () => {
    const dir = tmp()
    const server = await sealedStore(dir, 5)
    await server.stop()
    const ok = await runCli(['verify', '--data', dir, '--json'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, batches: 5, rows: 100 })
    const human = await runCli(['verify', '--data', dir])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^ok: 5 batches, 100 rows verified/)

    const db = new Database(path.join(dir, 'inferlog.db'))
    db.prepare(`UPDATE events SET body = replace(body, '"output":1', '"output":0') WHERE id = 'b3-7'`).run()
    const batch = db.prepare(`SELECT batch FROM events WHERE id = 'b3-7'`).pluck().get() as number
    db.close()
    const bad = await runCli(['verify', '--data', dir, '--json'])
    expect(bad.code).toBe(1)
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, first_error: { code: 'row_mismatch', batch, row: { id: 'b3-7' } } })
    const badHuman = await runCli(['verify', '--data', dir])
    expect(badHuman.code).toBe(1)
    expect(badHuman.stdout).toContain(`FAILED: batch ${batch}: event default/b3-7 does not match`)
  })

  it('says so and fails on a store without a chain, and refuses bad ranges', async () => {
    const dir = tmp()
    const server = await spawnServer(['--data', dir], { env: { INFERLOG_CONSUMERS: 'catalog' } })
    await fetch(`${server.url}/v1/events`, { method: 'POST', body: JSON.stringify(events(3, 'x')) })
    await server.stop()
    const r = await runCli(['verify', '--data', dir])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/no audit chain/)
    const range = await runCli(['verify', '--data', dir, '--from', 'zero'])
    expect(range.code).toBe(1)
    expect(range.stderr).toMatch(/invalid_parameter: --from must be a batch number/)
  })
})
