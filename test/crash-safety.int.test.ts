/**
 * Kill -9 the collector while several clients write, restart it on the same data directory, and
 * check that every acknowledged event and feedback item is there, intact. Repeated at several
 * kill points.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import canonicalize from 'canonicalize'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { compareCatalogSqlite, compareMetricsSqlite, listAll, spawnServer, waitCatalog } from '@inferlog/testkit'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-crash-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

function event(client: number, n: number, i: number) {
  return {
    id: `c${client}-b${n}-i${i}`,
    ts: new Date(Date.UTC(2026, 10, 26, 12, 0, 0, n * 1000 + i)).toISOString(),
    model: { name: 'crash-clf', version: '1.0.0', params: { threshold: 0.5 } },
    input: { features: [client, n, i, Math.sin(i)], text: 'x'.repeat(200 + (i % 50)) },
    output: { label: i % 2 ? 'yes' : 'no', score: (i % 97) / 97 },
    latency_ms: { total: 3.5 },
    trace: { session_id: `s${client}` },
  }
}

async function run(killAfterMs: number, dir: string) {
  const server = await spawnServer(['--data', dir])
  const acked = new Map<string, string>()
  const ackedFeedback = new Set<string>()
  let stop = false
  // Replies that broke the contract; asserted after the run (an expect here would be swallowed
  // by the catch that tells a dead server from a live one).
  const badReplies: string[] = []
  const client = async (c: number) => {
    for (let n = 0; !stop; n++) {
      const events = Array.from({ length: 100 }, (_, i) => event(c, n, i))
      const body = events.map((e) => JSON.stringify(e)).join('\n')
      let reply: { accepted: number; duplicates: number; ids: string[] } | undefined
      try {
        const res = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
        if (res.status !== 200) continue
        reply = (await res.json()) as typeof reply
      } catch {
        return // the server is gone
      }
      if (reply!.accepted + reply!.duplicates !== 100) badReplies.push(JSON.stringify(reply))
      for (const e of events) acked.set(e.id, canonicalize(e)!)
      const fb = events.slice(0, 5).map((e) => ({ id: `fb-${e.id}`, event_id: e.id, name: 'thumbs', value: 1 }))
      let fstatus = 0
      try {
        fstatus = (await fetch(`${server.url}/v1/feedback`, { method: 'POST', body: JSON.stringify(fb) })).status
      } catch {
        return
      }
      if (fstatus === 200) for (const f of fb) ackedFeedback.add(f.id)
    }
  }
  const clients = [0, 1, 2, 3].map(client)
  // Kill points count from the first acknowledgement, so a slow start on a busy machine still
  // kills a server that is in the middle of writing.
  for (let i = 0; i < 600 && acked.size === 0; i++) await new Promise((r) => setTimeout(r, 50))
  await new Promise((r) => setTimeout(r, killAfterMs))
  server.child.kill('SIGKILL')
  const exit = await server.exited
  stop = true
  await Promise.all(clients)
  expect(exit.signal).toBe('SIGKILL')
  expect(badReplies).toEqual([])
  return { acked, ackedFeedback }
}

describe('crash safety', () => {
  for (const [k, killAfterMs] of [350, 900, 1600].entries()) {
    it(`keeps every acknowledged event after kill -9 (kill point ${k + 1}: ${killAfterMs} ms)`, async () => {
      const dir = path.join(root, `run${k}`)
      const { acked, ackedFeedback } = await run(killAfterMs + Math.floor(Math.random() * 200), dir)
      expect(acked.size).toBeGreaterThan(0)
      console.log(`kill point ${k + 1}: ${acked.size} events and ${ackedFeedback.size} feedback items acknowledged before kill -9`)

      // The store file itself is sound after the crash.
      const db = new Database(path.join(dir, 'inferlog.db'))
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      db.close()

      // Restart on the same data directory and read everything back through the API.
      const again = await spawnServer(['--data', dir])
      try {
        const stored = new Map((await listAll(again.url, '/v1/events')).map((e) => [e.id, canonicalize(e)!]))
        let missing = 0
        let altered = 0
        for (const [id, body] of acked) {
          const got = stored.get(id)
          if (got === undefined) missing++
          else if (got !== body) altered++
        }
        expect({ missing, altered }).toEqual({ missing: 0, altered: 0 })
        // Unacknowledged events may or may not be there (committed but not answered); never partial.
        const fb = new Set((await listAll(again.url, '/v1/feedback')).map((f) => f.id))
        expect([...ackedFeedback].filter((id) => !fb.has(id))).toEqual([])
        // The restarted server keeps accepting, and re-sends of acknowledged events are duplicates.
        const first = [...acked.values()][0]!
        const res = await fetch(`${again.url}/v1/events`, { method: 'POST', body: first })
        expect(await res.json()).toMatchObject({ accepted: 0, duplicates: 1 })
        // The commit feed, killed mid-stream with the rest, resumes from its watermark: its counts
        // equal a recount of the rows, so no batch was skipped or applied twice.
        const c = await waitCatalog(() => compareCatalogSqlite(path.join(dir, 'inferlog.db')))
        expect(c.catalog).toEqual(c.recount)
        expect(c.recount['e|default|crash-clf|1.0.0']).toBeGreaterThanOrEqual(acked.size)
        // So do the metrics buckets: every event once, every labeled event once (feedback written
        // right after its event, often in the next batch).
        const m = await waitCatalog(() => compareMetricsSqlite(path.join(dir, 'inferlog.db')))
        expect(m.catalog).toEqual(m.recount)
        expect(m.recount['l|default|crash-clf|thumbs'] ?? 0).toBeGreaterThanOrEqual(ackedFeedback.size)
      } finally {
        again.child.kill('SIGTERM')
        await again.exited
      }
    })
  }
})
