import { minimalExampleEvent } from '@inferlog/schema'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AppHarness, openAppHarness } from './app-harness.test-suite.js'

let h: AppHarness
beforeEach(async () => {
  h = await openAppHarness()
})
afterEach(async () => {
  await h.close()
})

interface Sse {
  event: string
  id?: string
  data: string
}

/** Opens the stream and reads messages until `until` says stop (or the time is up), then aborts. */
async function read(query: string, until: (msgs: Sse[]) => boolean, headers: Record<string, string> = {}, maxMs = 10_000): Promise<Sse[]> {
  const ctl = new AbortController()
  const res = await h.app.app.request(`/v1/stream?${query}`, { headers, signal: ctl.signal })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/event-stream')
  const reader = res.body!.getReader()
  const msgs: Sse[] = []
  let buf = ''
  const end = Date.now() + maxMs
  while (!until(msgs) && Date.now() < end) {
    const next = await Promise.race([reader.read(), new Promise<'late'>((r) => setTimeout(() => r('late'), Math.max(1, end - Date.now())))])
    if (next === 'late') break
    const { value, done } = next
    if (done) break
    buf += new TextDecoder().decode(value)
    let cut = buf.indexOf('\n\n')
    while (cut !== -1) {
      const block = buf.slice(0, cut)
      buf = buf.slice(cut + 2)
      cut = buf.indexOf('\n\n')
      if (block.startsWith(':')) continue
      const m: Sse = { event: 'message', data: '' }
      for (const line of block.split('\n')) {
        const [k, ...rest] = line.split(':')
        const v = rest.join(':').replace(/^ /, '')
        if (k === 'event') m.event = v
        else if (k === 'id') m.id = v
        else if (k === 'data') m.data += v
      }
      msgs.push(m)
    }
  }
  ctl.abort()
  await reader.cancel().catch(() => undefined)
  return msgs
}

const ev = (id: string, model = 'live') => minimalExampleEvent({ id, model: { name: model, version: '1' } })
const events = (msgs: Sse[]) => msgs.filter((m) => m.event === 'event')

describe('GET /v1/stream', () => {
  it('pushes newly committed events matching the filter, and resumes exactly from Last-Event-ID', async () => {
    await h.post('/v1/events', [ev('old')])
    const first = read('model=live', (m) => events(m).length >= 5)
    await new Promise((r) => setTimeout(r, 100))
    await h.post('/v1/events', [ev('a1'), ev('x1', 'other'), ev('a2')])
    await h.post('/v1/events', [ev('a3'), ev('a4'), ev('a5')])
    const got = events(await first)
    expect(got.map((m) => JSON.parse(m.data).id)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5'])
    // Resume after a2 (mid-batch ids count only matching events): a3… follow, nothing repeats.
    const afterA1 = got[0]!.id!
    const resumed = events(await read('model=live', (m) => events(m).length >= 4, { 'last-event-id': afterA1 }))
    expect(resumed.map((m) => JSON.parse(m.data).id)).toEqual(['a2', 'a3', 'a4', 'a5'])
    const afterAll = events(await read('model=live', (m) => events(m).length >= 1, { 'last-event-id': got[4]!.id! }, 600))
    expect(afterAll).toEqual([])
  })

  it('refuses filters it cannot apply and malformed ids', async () => {
    for (const q of ['has_feedback=true', 'metrics=1', 'nope=1', 'metrics_interval_ms=5']) {
      expect((await h.get(`/v1/stream?${q}`)).status, q).toBe(400)
    }
    expect((await h.get('/v1/stream', { 'last-event-id': 'abc' })).status).toBe(400)
  })
})
