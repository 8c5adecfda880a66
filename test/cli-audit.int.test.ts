import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
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

describe('signed checkpoints and inclusion proofs', () => {
  it('serve --audit-key signs the head; a proof checks offline against the public key only', async () => {
    const dir = tmp()
    const key = crypto.generateKeyPairSync('ed25519')
    const other = crypto.generateKeyPairSync('ed25519')
    const keyFile = path.join(dir, 'audit.pem')
    const pubFile = path.join(dir, 'audit.pub.pem')
    const otherPub = path.join(dir, 'other.pub.pem')
    fs.writeFileSync(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }))
    fs.writeFileSync(pubFile, key.publicKey.export({ type: 'spki', format: 'pem' }))
    fs.writeFileSync(otherPub, other.publicKey.export({ type: 'spki', format: 'pem' }))
    const server = await sealedStore(dir, 4, ['--audit-key', keyFile, '--checkpoint-interval-ms', '200'])
    try {
      // The next tick after sealing signs the head.
      let cp: { batch: number; index: number; rows: number; root: string; key_id: string; signature: string } | undefined
      const deadline = Date.now() + 30_000
      while (Date.now() < deadline) {
        const head = await fetch(`${server.url}/v1/audit/head`)
        if (head.status === 200) {
          cp = (await head.json()) as NonNullable<typeof cp>
          if (cp.index >= 4) break
        } else expect(head.status).toBe(404)
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(cp).toMatchObject({ batch: 4, index: 4, rows: 80 })
      const viaCli = await runCli(['audit', 'head', '--url', server.url])
      expect(viaCli.code, viaCli.stderr).toBe(0)
      expect(JSON.parse(viaCli.stdout)).toEqual(cp)

      const proof = await runCli(['audit', 'proof', 'b2-5', '--url', server.url])
      expect(proof.code, proof.stderr).toBe(0)
      const proofFile = path.join(dir, 'proof.json')
      fs.writeFileSync(proofFile, proof.stdout)
      const ok = await runCli(['audit', 'check-proof', proofFile, '--public-key', pubFile])
      expect(ok.code, ok.stdout + ok.stderr).toBe(0)
      expect(ok.stdout).toMatch(/^ok: event b2-5 is in batch 3; checkpoint signature verified/)
      const wrongKey = await runCli(['audit', 'check-proof', proofFile, '--public-key', otherPub, '--json'])
      expect(wrongKey.code).toBe(1)
      expect(JSON.parse(wrongKey.stdout)).toMatchObject({ ok: false, error: expect.stringMatching(/unknown key/) })
      const edited = JSON.parse(proof.stdout)
      edited.leaf_input.body = edited.leaf_input.body.replace('"output":1', '"output":0')
      fs.writeFileSync(proofFile, JSON.stringify(edited))
      const bad = await runCli(['audit', 'check-proof', proofFile, '--public-key', pubFile])
      expect(bad.code).toBe(1)
      expect(bad.stdout).toMatch(/FAILED: the leaf does not hash/)
      const missing = await fetch(`${server.url}/v1/audit/proof/nope`)
      expect(missing.status).toBe(404)
      expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } })
    } finally {
      await server.stop()
    }
    // The store alone: the same checkpoint, and verify checks its signature.
    const stored = await runCli(['audit', 'head', '--data', dir])
    expect(stored.code, stored.stderr).toBe(0)
    expect(JSON.parse(stored.stdout)).toMatchObject({ batch: 4 })
    const v = await runCli(['verify', '--data', dir, '--public-key', pubFile, '--json'])
    expect(v.code, v.stdout).toBe(0)
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, checkpoints: { signatures: 'checked' } })
    const unknown = await runCli(['verify', '--data', dir, '--public-key', otherPub])
    expect(unknown.code).toBe(1)
    expect(unknown.stdout).toMatch(/signed by an unknown key/)
    const noKey = await runCli(['serve', '--data', tmp(), '--port', '0', '--audit-key', path.join(dir, 'missing.pem')])
    expect(noKey.code).not.toBe(0)
    expect(noKey.stderr).toMatch(/--audit-key .*missing\.pem/)
  })
})

describe('inferlog export and import', () => {
  it('exports through the server and from the file, imports into a new store that verifies, and stops at a damaged batch', async () => {
    const dir = tmp()
    const server = await sealedStore(dir, 4)
    const viaHttp = path.join(dir, 'http.ndjson')
    try {
      const r = await runCli(['export', '--url', server.url, '--out', viaHttp])
      expect(r.code, r.stderr).toBe(0)
      const res = await fetch(`${server.url}/v1/export?after=2`)
      expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/)
      const tail = (await res.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; position?: number })
      expect(tail[0]).toMatchObject({ type: 'header', after: 2 })
      expect(tail.filter((l) => l.type === 'batch').map((l) => l.position)).toEqual([3, 4])
      const bad = await fetch(`${server.url}/v1/export?after=-1`)
      expect(bad.status).toBe(400)
      expect(await bad.json()).toMatchObject({ error: { code: 'invalid_parameter' } })
    } finally {
      await server.stop()
    }
    const direct = await runCli(['export', '--data', dir])
    expect(direct.code, direct.stderr).toBe(0)
    const strip = (t: string) => t.replace(/"exported_at":"[^"]+"/, '')
    expect(strip(direct.stdout)).toBe(strip(fs.readFileSync(viaHttp, 'utf8')))

    const copy = tmp()
    const imp = await runCli(['import', viaHttp, '--data', copy, '--json'])
    expect(imp.code, imp.stderr).toBe(0)
    expect(JSON.parse(imp.stdout)).toMatchObject({ batches: 4, first: 1, last: 4, rows: 80 })
    const v = await runCli(['verify', '--data', copy, '--json'])
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, batches: 4, rows: 80 })
    const a = new Database(path.join(dir, 'inferlog.db'), { readonly: true })
    const b = new Database(path.join(copy, 'inferlog.db'), { readonly: true })
    const rows = (db: Database.Database) => db.prepare('SELECT project, id, ts_ms, received_ms, batch, body FROM events ORDER BY id').all()
    expect(rows(b)).toEqual(rows(a))
    a.close()
    b.close()

    const damaged = fs
      .readFileSync(viaHttp, 'utf8')
      .split('\n')
      .map((l) => (l.includes('"id":"b2-3"') ? l.replace('\\"output\\":1', '\\"output\\":0') : l))
      .join('\n')
    fs.writeFileSync(viaHttp, damaged)
    const third = tmp()
    const stopped = await runCli(['import', viaHttp, '--data', third])
    expect(stopped.code).toBe(1)
    expect(stopped.stderr).toMatch(
      /import stopped at batch 3 \(line \d+\): its rows do not hash to its root .*; 2 batches imported before it/,
    )
  })
})
