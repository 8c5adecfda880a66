import pg from 'pg'
import type { LoadResult } from './drive-load.js'

/** Result of {@link verifyStored}. */
export interface VerifyResult {
  storedEvents: number
  storedFeedback: number
  missingEvents: number
  alteredEvents: number
  missingFeedback: number
  alteredFeedback: number
  duplicateEvents: number
  duplicateFeedback: number
}

async function withClient<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end().catch(() => {})
  }
}

/** Compares what PostgreSQL holds in `schema` with what a load run saw acknowledged (byte for byte, by md5). */
export function verifyStored(pgUrl: string, schema: string, acked: Pick<LoadResult, 'events' | 'feedback'>): Promise<VerifyResult> {
  return withClient(pgUrl, async (client) => {
    const read = async (table: string) =>
      (
        await client.query<{ id: string; h: string; n: string }>(
          `SELECT id, md5(min(body)) AS h, count(*) AS n FROM ${schema}.${table} GROUP BY project, id`,
        )
      ).rows
    const check = (rows: { id: string; h: string; n: string }[], want: Map<string, string>) => {
      const got = new Map(rows.map((r) => [r.id, r.h]))
      let missing = 0
      let altered = 0
      for (const [id, h] of want) {
        const g = got.get(id)
        if (g === undefined) missing++
        else if (g !== h) altered++
      }
      return { missing, altered, duplicates: rows.filter((r) => Number(r.n) > 1).length }
    }
    const ev = await read('events')
    const fb = await read('feedback')
    const e = check(ev, acked.events)
    const f = check(fb, acked.feedback)
    return {
      storedEvents: ev.length,
      storedFeedback: fb.length,
      missingEvents: e.missing,
      alteredEvents: e.altered,
      missingFeedback: f.missing,
      alteredFeedback: f.altered,
      duplicateEvents: e.duplicates,
      duplicateFeedback: f.duplicates,
    }
  })
}

/** Events and feedback items stored in `schema` (counted on the id gates, which are cheap). */
export function countStored(pgUrl: string, schema: string): Promise<{ events: number; feedback: number }> {
  return withClient(pgUrl, async (client) => {
    const r = await client.query<{ e: number; f: number }>(
      `SELECT (SELECT count(*) FROM ${schema}.event_ids)::int AS e, (SELECT count(*) FROM ${schema}.feedback_ids)::int AS f`,
    )
    return { events: r.rows[0]!.e, feedback: r.rows[0]!.f }
  })
}

/** Resolves once `schema` holds at least `events` events and `feedback` feedback items; throws after `timeoutMs` (default 60 000). */
export async function waitStored(pgUrl: string, schema: string, events: number, feedback: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    try {
      const n = await countStored(pgUrl, schema)
      last = `${n.events}/${events} events, ${n.feedback}/${feedback} feedback`
      if (n.events >= events && n.feedback >= feedback) return
    } catch (err) {
      last = (err as Error).message
    }
    if (Date.now() > until) throw new Error(`not all acknowledged items arrived in ${timeoutMs} ms: ${last}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
