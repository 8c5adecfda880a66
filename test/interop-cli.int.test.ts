import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeOpenAI } from '../packages/sdk/src/test-support/fake-openai-upstream.mjs'
import { CLI, runCli, type ServerProcess, spawnServer } from '@inferlog/testkit'

let dir: string
let server: ServerProcess
let fake: Awaited<ReturnType<typeof startFakeOpenAI>>

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-interop-'))
  server = await spawnServer(['--data', path.join(dir, 'data')])
  fake = await startFakeOpenAI({ chunkDelayMs: 5 })
})

afterAll(async () => {
  server?.child.kill('SIGTERM')
  await server?.exited
  await fake?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function eventually<T>(fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await fn()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('gave up waiting')
}

describe('inferlog proxy (child process)', () => {
  it('prints its URL first, forwards calls and logs them to the collector; SIGTERM flushes', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'proxy', '--upstream', fake.baseURL, '--port', '0', '--url', server.url, '--redact-path', 'input.messages.*.name'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (l) => resolve(l.trim()))
      void exited.then(() => reject(new Error(`proxy exited: ${err}`)))
    })
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    try {
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-never-stored', maxRetries: 0 })
      const { data, response } = await client.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi', name: 'alice' }] })
        .withResponse()
      expect(data.choices[0]!.message.content).toBe('Hello from the fake model.')
      const id = response.headers.get('x-inferlog-event-id')!
      const stream = await client.chat.completions.create({
        model: 'slow-stream',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      })
      for await (const _ of stream) {
      }
      const event = await eventually(async () => {
        const res = await fetch(`${server.url}/v1/events/${id}`)
        return res.status === 200 ? ((await res.json()) as { event: Record<string, any> }).event : undefined
      })
      expect(event).toMatchObject({
        model: { name: 'gpt-4o', version: 'gpt-4o-2024-08-06' },
        output: { content: 'Hello from the fake model.' },
      })
      expect(event.input.messages[0]).toEqual({ role: 'user', content: 'Hi' })
      expect(JSON.stringify(event)).not.toContain('sk-never-stored')
    } finally {
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    }
    const list = (await (await fetch(`${server.url}/v1/events?model=slow-stream`)).json()) as { items: { latency_ms: { ttft?: number } }[] }
    expect(list.items).toHaveLength(1)
    expect(list.items[0]!.latency_ms.ttft).toBeGreaterThan(0)
  })

  it('fails with one line when the upstream URL is not http(s)', async () => {
    const r = await runCli(['proxy', '--upstream', 'ftp://x', '--port', '0', '--url', server.url])
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toMatch(/^inferlog: .*--upstream must be an http\(s\) URL/)
  })
})

describe('inferlog replay (child process)', () => {
  it('replays with a module and prints the summary', async () => {
    await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      body: JSON.stringify([
        { id: 'r-1', model: { name: 'scorer', version: '1' }, input: { x: 1 }, output: 2 },
        { id: 'r-2', model: { name: 'scorer', version: '1' }, input: { x: 2 }, output: 4 },
      ]),
    })
    const file = path.join(dir, 'double.mjs')
    fs.writeFileSync(file, 'export const predict = (input) => input.x * 2\n')
    const r = await runCli(['replay', '--url', server.url, '--model', 'scorer', '--module', file, '--as', 'scorer@2', '--set', 'input.x=3'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/replayed 2 events as scorer@2: 2 shadow events logged, .*agreement 0\.0% over 2 pairs/)
  })
})
