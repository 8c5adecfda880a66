import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openStore, type RunningServer, resolveServerConfig, silentLogger, startServer } from '@inferlog/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Io } from '../common.js'
import { main } from '../main.js'

function io(): Io & { lines: string[]; errs: string[] } {
  const lines: string[] = []
  const errs: string[] = []
  return { lines, errs, out: (l) => lines.push(l), err: (l) => errs.push(l), isTTY: false }
}

function event(id: string, user: string, i: number) {
  const ts = Date.UTC(2026, 10, 4) + i
  const body = {
    id,
    ts: new Date(ts).toISOString(),
    model: { name: 'm', version: '1' },
    input: { n: i },
    output: 1,
    trace: { user_id: user },
  }
  return {
    project: 'default',
    id,
    tsMs: ts,
    receivedMs: ts,
    model: 'm',
    version: '1',
    stage: 'primary',
    status: 'ok',
    sessionId: null,
    userId: user,
    arm: null,
    shadowOf: null,
    body: JSON.stringify(body),
  }
}

let dir: string
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-erase-cli-'))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('inferlog erase', () => {
  it('erases straight on the store under --data, and refuses a call without a selector or reason', async () => {
    const data = path.join(dir, 'direct')
    fs.mkdirSync(data)
    const store = openStore(`sqlite:${path.join(data, 'inferlog.db')}`)
    await store.migrate()
    await store.writeBatch({ events: [event('a', 'u1', 1), event('b', 'u1', 2), event('c', 'u2', 3)], feedback: [] })
    await store.close()

    const none = io()
    expect(await main(['erase', '--reason', 'x', '--data', data], none)).toBe(1)
    expect(none.errs.join('\n')).toMatch(/validation_failed: an erasure needs a selector/)
    const noReason = io()
    expect(await main(['erase', '--user-id', 'u1', '--data', data], noReason)).toBe(1)
    expect(noReason.errs.join('\n')).toMatch(/needs a reason/)
    const emptyIds = io()
    expect(await main(['erase', '--ids', ' , ', '--reason', 'x', '--data', data], emptyIds)).toBe(1)

    const dry = io()
    expect(await main(['erase', '--user-id', 'u1', '--reason', 'DSR-1', '--dry-run', '--data', data], dry)).toBe(0)
    expect(dry.lines).toEqual(['would erase 2 events and 0 feedback items'])
    const done = io()
    expect(await main(['erase', '--user-id', 'u1', '--reason', 'DSR-1', '--data', data, '--json'], done)).toBe(0)
    const report = JSON.parse(done.lines[0]!)
    expect(report.erased).toEqual({ events: 2, feedback: 0 })
    expect(report.record.id).toEqual(expect.any(String))

    const after = openStore(`sqlite:${path.join(data, 'inferlog.db')}`, { readOnly: true })
    try {
      await after.migrate()
      expect(await after.getEvent('default', 'a')).toBeUndefined()
      expect(await after.getEvent('default', 'c')).toBeDefined()
      expect((await after.tombstonesOf('event', 'default', ['a', 'b', 'c'])).map((t) => t.id).sort()).toEqual(['a', 'b'])
    } finally {
      await after.close()
    }
  })

  describe('through a running server', () => {
    let server: RunningServer
    beforeAll(async () => {
      const data = path.join(dir, 'served')
      server = await startServer(resolveServerConfig({ port: 0, data, privacy: { erasureConfirmThreshold: 2 } }, {}), silentLogger())
      const events = ['x1', 'x2', 'x3'].map((id) => ({
        id,
        model: { name: 'm', version: '1' },
        input: 1,
        output: 1,
        trace: { user_id: 'heavy' },
      }))
      const r = await fetch(`${server.url}/v1/events`, { method: 'POST', body: JSON.stringify(events) })
      expect(((await r.json()) as { accepted: number }).accepted).toBe(3)
    })
    afterAll(() => server.close())

    it('needs --yes above the threshold, then erases', async () => {
      const refused = io()
      expect(await main(['erase', '--user-id', 'heavy', '--reason', 'r', '--url', server.url], refused)).toBe(1)
      expect(refused.errs.join('\n')).toMatch(/confirmation_required: 3 events match/)
      const done = io()
      expect(await main(['erase', '--user-id', 'heavy', '--reason', 'r', '--yes', '--url', server.url], done)).toBe(0)
      expect(done.lines[0]).toMatch(/^erased 3 events and 0 feedback items; audit record /)
      const gone = await fetch(`${server.url}/v1/events/x1`)
      expect(gone.status).toBe(410)
    })
  })
})

describe('inferlog retention', () => {
  it('sets, shows, runs and clears a policy straight on the store', async () => {
    const data = path.join(dir, 'retention')
    fs.mkdirSync(data)
    const store = openStore(`sqlite:${path.join(data, 'inferlog.db')}`)
    await store.migrate()
    const old = event('r-old', 'u', 1)
    const now = Date.now()
    const aged = {
      ...old,
      tsMs: now - 90 * 86_400_000,
      body: old.body.replace(/"ts":"[^"]+"/, `"ts":"${new Date(now - 90 * 86_400_000).toISOString()}"`),
    }
    const fresh = { ...event('r-new', 'u', 2), tsMs: now }
    await store.writeBatch({ events: [aged, fresh], feedback: [] })
    await store.close()

    const show = io()
    expect(await main(['retention', 'show', '--data', data], show)).toBe(0)
    expect(show.lines).toEqual(['default: no retention policy (everything is kept)'])
    for (const bad of ['0', 'x', '1.5', '99999']) {
      const b = io()
      expect(await main(['retention', 'set', '--events-days', bad, '--data', data], b), bad).toBe(1)
      expect(b.errs.join('\n')).toMatch(/events_days must be a whole number/)
    }
    const unknown = io()
    expect(await main(['retention', 'purge', '--data', data], unknown)).toBe(1)
    const set = io()
    expect(await main(['retention', 'set', '--events-days', '30', '--keep-feedback', '--data', data], set)).toBe(0)
    expect(set.lines[0]).toMatch(/^default: events older than 30 days are removed; feedback is kept .*audit record /)
    const dry = io()
    expect(await main(['retention', 'run', '--dry-run', '--data', data, '--json'], dry)).toBe(0)
    expect(JSON.parse(dry.lines[0]!)).toMatchObject({ removed: { events: 1, feedback: 0 }, dry_run: true })
    const ran = io()
    expect(await main(['retention', 'run', '--data', data], ran)).toBe(0)
    expect(ran.lines[0]).toMatch(/^default: removed 1 events and 0 feedback items older than /)
    const cleared = io()
    expect(await main(['retention', 'clear', '--data', data], cleared)).toBe(0)
    expect(cleared.lines[0]).toMatch(/retention policy removed/)
    const none = io()
    expect(await main(['retention', 'run', '--data', data], none)).toBe(1)
    expect(none.errs.join('\n')).toMatch(/no retention policy/)

    const after = openStore(`sqlite:${path.join(data, 'inferlog.db')}`, { readOnly: true })
    try {
      await after.migrate()
      expect(await after.getEvent('default', 'r-old')).toBeUndefined()
      expect(await after.getEvent('default', 'r-new')).toBeDefined()
    } finally {
      await after.close()
    }
  })
})

describe('inferlog redaction', () => {
  it('sets, shows and clears rules straight on the store, and refuses bad ones', async () => {
    const data = path.join(dir, 'redaction')
    fs.mkdirSync(data)
    const bad = io()
    expect(await main(['redaction', 'set', '--paths', 'id', '--data', data], bad)).toBe(1)
    expect(bad.errs.join('\n')).toMatch(/identifies the record/)
    const badDetector = io()
    expect(await main(['redaction', 'set', '--detectors', 'ssn', '--data', data], badDetector)).toBe(1)
    const set = io()
    expect(await main(['redaction', 'set', '--paths', 'input.ssn,input.dob', '--detectors', 'email', '--data', data], set)).toBe(0)
    expect(set.lines[0]).toMatch(/^default: drops input.ssn, input.dob; detectors email; audit record /)
    const show = io()
    expect(await main(['redaction', 'show', '--data', data, '--json'], show)).toBe(0)
    expect(JSON.parse(show.lines[0]!).rules).toMatchObject({ paths: ['input.ssn', 'input.dob'], detectors: ['email'] })
    const none = io()
    expect(await main(['redaction', 'set', '--detectors', 'none', '--paths', 'input.ssn', '--data', data], none)).toBe(0)
    expect(none.lines[0]).toMatch(/detectors none/)
    const cleared = io()
    expect(await main(['redaction', 'clear', '--data', data], cleared)).toBe(0)
    expect(cleared.lines[0]).toMatch(/redaction rules removed/)
  })
})
