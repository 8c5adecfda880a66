import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { type RunningServer, resolveServerConfig, silentLogger, startServer } from '@inferlog/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Io } from '../common.js'
import { applyOverrides, parseOverrides, replayEventId } from '../replay/replay-overrides.js'
import { replayCommand } from './replay.js'

let server: RunningServer
let dir: string
let target: http.Server
let targetUrl: string

function io(): Io & { lines: string[]; errs: string[] } {
  const lines: string[] = []
  const errs: string[] = []
  return { lines, errs, out: (l) => lines.push(l), err: (l) => errs.push(l), isTTY: false }
}

async function api(method: string, p: string, body?: unknown) {
  const res = await fetch(server.url + p, {
    method,
    ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  })
  return (await res.json()) as any
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-replay-'))
  server = await startServer(resolveServerConfig({ port: 0, data: path.join(dir, 'data') }, {}), silentLogger())
  const events = [
    {
      id: 'c-1',
      model: { name: 'churn-clf', version: '3.2.0' },
      input: { age: 30, plan: 'pro' },
      output: { churn: false },
      latency_ms: { total: 4 },
    },
    {
      id: 'c-2',
      model: { name: 'churn-clf', version: '3.2.0' },
      input: { age: 55, plan: 'free' },
      output: { churn: true },
      trace: { session_id: 's-2' },
    },
    { id: 'c-3', model: { name: 'churn-clf', version: '3.2.0' }, input: { age: 45, plan: 'pro', fail: true }, output: { churn: true } },
    { id: 'c-4', model: { name: 'churn-clf', version: '3.2.0' }, input: { age: 20, plan: 'pro', hang: true }, output: { churn: false } },
    { id: 'o-1', model: { name: 'other', version: '1' }, input: { age: 1 }, output: 1 },
  ]
  expect((await api('POST', '/v1/events', events)).accepted).toBe(5)
  // A candidate over HTTP: churn above 40, a 500 for `fail`, no answer for `hang`.
  target = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const input = JSON.parse(body)
      if (input.hang) return
      if (input.fail) {
        res.writeHead(500).end('model crashed')
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ churn: input.age > 40 }))
    })
  })
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r))
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/predict`
})

afterAll(async () => {
  target?.closeAllConnections()
  target?.close()
  await server?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('inferlog replay', () => {
  it('replays against an HTTP target: shadows logged, failures and timeouts recorded per event, the run goes on', async () => {
    const out = io()
    const code = await replayCommand(
      { url: server.url, model: 'churn-clf', target: targetUrl, as: 'churn-clf@4.0.0', timeoutMs: '300', concurrency: '2', json: true },
      out,
    )
    expect(code).toBe(0)
    const s = JSON.parse(out.lines[0]!)
    expect(s).toMatchObject({ candidate: 'churn-clf@4.0.0', selected: 4, logged: 4, already: 0, errors: 2, not_logged: 0 })
    expect(s.agreement).toMatchObject({ pairs: 2, value: 1 })
    expect(s.failures.map((f: { id: string; type: string }) => [f.id, f.type]).sort()).toEqual([
      ['c-3', 'http_500'],
      ['c-4', 'timeout'],
    ])
    const c2 = await api('GET', '/v1/events/c-2')
    expect(c2.shadows).toHaveLength(1)
    expect(c2.shadows[0]).toMatchObject({
      id: replayEventId('c-2', 'churn-clf@4.0.0', []),
      shadow_of: 'c-2',
      model: { name: 'churn-clf', version: '4.0.0', stage: 'shadow' },
      input: { age: 55, plan: 'free' },
      output: { churn: true },
      trace: { session_id: 's-2' },
      context: { tags: { 'replay.candidate': 'churn-clf@4.0.0' } },
    })
    const c3 = await api('GET', '/v1/events/c-3')
    expect(c3.shadows[0]).toMatchObject({ status: 'error', error: { type: 'http_500', message: expect.stringMatching(/model crashed/) } })
  })

  it('replays a module with --set overrides recorded in context, and a second run adds nothing', async () => {
    const file = path.join(dir, 'candidate.mjs')
    fs.writeFileSync(
      file,
      "export async function predict(input, event) { return event.id === 'c-4' ? { churn: false } : { churn: input.age > 40 } }\n",
    )
    const flags = {
      url: server.url,
      filter: ['model=churn-clf'],
      module: file,
      as: 'churn-clf@4.1.0',
      set: ['input.age=50', 'input.plan="enterprise"'],
    }
    const first = io()
    expect(await replayCommand(flags, first)).toBe(0)
    expect(first.lines[0]).toMatch(
      /^replayed 4 events as churn-clf@4\.1\.0: 4 shadow events logged, 0 already replayed, 0 candidate errors, 0 not stored; agreement 75\.0% over 4 pairs/,
    )
    const c1 = await api('GET', '/v1/events/c-1')
    const shadow = c1.shadows.find((e: { model: { version: string } }) => e.model.version === '4.1.0')
    expect(shadow).toMatchObject({
      input: { age: 50, plan: 'enterprise' },
      output: { churn: true },
      context: { tags: { 'replay.set.input.age': 50, 'replay.set.input.plan': 'enterprise' } },
    })
    const again = io()
    expect(await replayCommand({ ...flags, json: true }, again)).toBe(0)
    expect(JSON.parse(again.lines[0]!)).toMatchObject({ selected: 4, logged: 0, already: 4, errors: 0 })
    expect((await api('GET', '/v1/events/c-1')).shadows).toHaveLength(2)
  })

  it('refuses bad flags with a clear reason', async () => {
    await expect(replayCommand({ url: server.url, as: 'x@1' }, io())).rejects.toThrow(/exactly one of --target/)
    await expect(replayCommand({ url: server.url, as: 'x', target: targetUrl }, io())).rejects.toThrow(/NAME@VERSION/)
    await expect(replayCommand({ url: server.url, as: 'x@1', target: targetUrl, set: ['age=1'] }, io())).rejects.toThrow(
      /start with "input\."/,
    )
  })
})

describe('overrides and ids', () => {
  it('applies nested overrides to a copy and derives stable ids', () => {
    const input = { a: { b: 1 }, list: [{ q: 1 }] }
    const ov = parseOverrides(['input.a.b=2', 'input.list.0.q=5', 'input.new.x="s"'])
    expect(applyOverrides(input, ov)).toEqual({ a: { b: 2 }, list: [{ q: 5 }], new: { x: 's' } })
    expect(input).toEqual({ a: { b: 1 }, list: [{ q: 1 }] })
    expect(replayEventId('e', 'm@1', ov)).toBe(
      replayEventId('e', 'm@1', parseOverrides(['input.new.x="s"', 'input.list.0.q=5', 'input.a.b=2'])),
    )
    expect(replayEventId('e', 'm@1', ov)).not.toBe(replayEventId('e', 'm@2', ov))
    expect(replayEventId('e', 'm@1', [])).not.toBe(replayEventId('e', 'm@1', ov))
  })
})
