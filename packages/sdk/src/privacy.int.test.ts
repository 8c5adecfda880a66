/**
 * Privacy: with redaction and pseudonymization configured, the raw values never leave the
 * process: not in request bodies, not in the store, not in the spool. Also direct-to-store.
 */
import { createHmac } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { spawnNode } from '@inferlog/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from './index.js'
import type { LoggerOptions } from './options.js'
import { eventDetail, startCollector, storedEventIds, storedEvents, type Collector } from './test-support/collector.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-sdk-privacy-'))
let collector: Collector
beforeAll(async () => {
  collector = await startCollector(path.join(root, 'data'))
})
afterAll(async () => {
  await collector?.stop()
  fs.rmSync(root, { recursive: true, force: true })
})

const SECRETS = ['jane.doe@example.com', '+1 415 555 0132', '4111 1111 1111 1111', '078-05-1120', 'alice-user-42', 'Jane Q. Public']
const SECRET = 'project-hmac-key'

function privacyOptions(): LoggerOptions {
  return {
    model: { name: 'privacy', version: '1' },
    redact: { paths: ['input.ssn', 'input.customer.name'] },
    pseudonymize: { secret: SECRET },
    flushOnExit: false,
    onError: () => undefined,
  }
}

function logSensitive(log: ReturnType<typeof createLogger>): string {
  const id = log.log({
    input: {
      ssn: '078-05-1120',
      customer: { name: 'Jane Q. Public', tier: 'gold' },
      messages: [{ role: 'user', content: 'I am jane.doe@example.com, call +1 415 555 0132, card 4111 1111 1111 1111' }],
    },
    output: { text: 'Sure, I will email jane.doe@example.com' },
    context: { entities: { contact: 'jane.doe@example.com' } },
    trace: { user_id: 'alice-user-42', session_id: 's-1' },
  })
  log.feedback(id, 'comment', 'the bot leaked jane.doe@example.com', {
    source: { type: 'user', id: 'alice-user-42' },
    comment: 'call me: +1 415 555 0132',
  })
  return id
}

describe('privacy', () => {
  it('the collector never receives redacted or pseudonymized raw values', async () => {
    // Capture every request body on its way to the collector.
    const bodies: string[] = []
    const target = new URL(collector.url)
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const raw = Buffer.concat(chunks)
        bodies.push((req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw).toString('utf8'))
        const fwd = http.request(
          { hostname: target.hostname, port: target.port, path: req.url, method: 'POST', headers: req.headers },
          (up) => {
            res.writeHead(up.statusCode ?? 500, up.headers)
            up.pipe(res)
          },
        )
        fwd.end(raw)
      })
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    const log = createLogger({
      ...privacyOptions(),
      url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      spool: { dir: false },
    })
    const id = logSensitive(log)
    await log.flush()
    expect(log.stats()).toMatchObject({ sent: 2, rejected: 0, failed: 0 })
    await log.close()
    proxy.close()

    const detail = (await eventDetail(collector.url, id)) as { event: Record<string, any>; feedback: Record<string, any>[] }
    const wire = bodies.join('\n')
    const stored = JSON.stringify([await storedEvents(collector.url), detail.feedback])
    for (const s of SECRETS) {
      expect(wire).not.toContain(s)
      expect(stored).not.toContain(s)
    }
    const hmac = createHmac('sha256', SECRET).update('alice-user-42').digest('hex')
    expect(detail.event.trace.user_id).toBe(hmac)
    expect(detail.event.input).toEqual({
      customer: { tier: 'gold' },
      messages: [{ role: 'user', content: 'I am [REDACTED:email], call [REDACTED:phone], card [REDACTED:card]' }],
    })
    expect(detail.event.output.text).toBe('Sure, I will email [REDACTED:email]')
    expect(detail.feedback[0]).toMatchObject({
      value: 'the bot leaked [REDACTED:email]',
      comment: 'call me: [REDACTED:phone]',
      source: { type: 'user', id: hmac },
    })
  })

  it('the spool holds redacted data only', async () => {
    const spoolDir = path.join(root, 'spool')
    const log = createLogger({ ...privacyOptions(), url: 'http://127.0.0.1:9', spool: { dir: spoolDir }, http: { retriesBeforeSpool: 0 } })
    logSensitive(log)
    await log.flush()
    expect(log.stats().spooled).toBe(2)
    await log.close({ timeoutMs: 100 })
    const files = fs.readdirSync(spoolDir)
    expect(files.length).toBe(2)
    const text = files.map((f) => zlib.gunzipSync(fs.readFileSync(path.join(spoolDir, f))).toString('utf8')).join('\n')
    expect(text).toContain('[REDACTED:email]')
    for (const s of SECRETS) expect(text).not.toContain(s)
  })
})

describe('direct-to-store', () => {
  it("createLogger({ store: 'sqlite:…' }) writes through the collector's ingest pipeline in-process", async () => {
    // The layout `inferlog serve --data <dir>` uses, so a collector can read it back afterwards.
    const dataDir = path.join(root, 'embedded')
    const db = path.join(dataDir, 'inferlog.db')
    const host = fileURLToPath(new URL('./test-support/sdk-host.mjs', import.meta.url))
    const child = spawnNode(host, ['store', JSON.stringify({ store: `sqlite:${db}`, project: 'embedded', count: 500 })])
    const { code } = await child.exited
    const lines = child.lines
    expect(code, child.stderr()).toBe(0)
    const result = JSON.parse(lines.find((l) => l.startsWith('result '))!.slice(7)) as {
      stats: Record<string, number>
      errors: string[]
      first: string
    }
    expect(result.stats).toMatchObject({ sent: 502, rejected: 1, failed: 0, dropped: 0 })
    expect(result.errors.some((e) => e.startsWith('rejected') && e.includes('validation_failed'))).toBe(true)
    // Read back through a collector serving that store.
    const reader = await startCollector(dataDir)
    try {
      expect(await storedEventIds(reader.url, 'embedded')).toHaveLength(501)
      const first = await eventDetail(reader.url, result.first, 'embedded')
      expect(first?.feedback).toHaveLength(1)
      expect(first?.feedback[0]).toMatchObject({ event_id: result.first, name: 'thumbs', value: 1 })
      expect(first?.event.internals?.emb).toMatchObject({ dtype: 'float32', shape: [2] })
    } finally {
      await reader.stop()
    }
  }, 30_000)
})
