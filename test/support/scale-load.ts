/**
 * Load and verification for the scale-out tests and benchmark: clients that send NDJSON batches of
 * events (and feedback for some of them) to several collectors, retry on 503 and network errors
 * like the SDK does, and remember what was acknowledged; then a check that PostgreSQL holds every
 * acknowledged item exactly once, byte for byte.
 */
import { createHash } from 'node:crypto'
import pg from 'pg'

const md5 = (s: string) => createHash('md5').update(s).digest('hex')

/** What a load run saw. */
export interface LoadResult {
  /** Acknowledged event id → md5 of the line sent. */
  events: Map<string, string>
  /** Acknowledged feedback id → md5 of the line sent. */
  feedback: Map<string, string>
  /** 503 answers seen (then retried). */
  unavailable: number
  /** Network errors seen (then retried). */
  networkErrors: number
  /** Client-side ack time (epoch ms) of each acknowledged batch's events, for lag measurements. */
  ackTimes: { ids: string[]; ackMs: number }[]
  elapsedMs: number
}

/** Options of {@link driveLoad}. */
export interface LoadOptions {
  /** Collector base URLs; clients take turns over them. */
  urls: string[]
  /** Total events to send. */
  events: number
  /** One feedback item per this many events (0: none). Default 4. */
  feedbackEvery?: number
  /** Events per request. Default 1000. */
  batch?: number
  /** Concurrent clients. Default 4. */
  clients?: number
  /** Prefix making ids unique per run. */
  run: string
  /** Give up retrying a request after this long. Default 60 000 ms. */
  retryForMs?: number
  /** Stop sending new batches once this returns true. */
  stop?: () => boolean
  /** Wait before sending each batch (rate limiting), ms. */
  pauseMs?: number
  /** Remember ack times (for lag). Default false. */
  recordAcks?: boolean
}

/** One event as a model server would log it (~400 bytes). */
export function makeEvent(id: string, n: number): Record<string, unknown> {
  return {
    id,
    ts: new Date(Date.UTC(2026, 10, 26, 12) + n).toISOString(),
    model: { name: 'scale-clf', version: '2.1.0', params: { threshold: 0.5 } },
    input: { features: [n % 97, (n * 7) % 13, Math.round(Math.sin(n) * 1000) / 1000], text: `request ${n} ` + 'lorem ipsum '.repeat(8) },
    output: { label: n % 3 ? 'keep' : 'churn', score: (n % 1000) / 1000 },
    latency_ms: { total: 3 + (n % 7) },
    trace: { session_id: `s${n % 5000}`, user_id: `u${n % 20000}` },
    context: { experiment: { name: 'exp1', arm: n % 2 ? 'control' : 'treatment' } },
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

async function postUntilAcked(url: string, body: string, result: LoadResult, retryForMs: number): Promise<boolean> {
  const until = Date.now() + retryForMs
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
      const text = await res.text()
      if (res.status === 200) return true
      if (res.status === 503) result.unavailable++
      else throw new Error(`unexpected ${res.status} from ${url}: ${text.slice(0, 300)}`)
    } catch (e) {
      if ((e as Error).message.startsWith('unexpected')) throw e
      result.networkErrors++
    }
    if (Date.now() > until) return false
    await sleep(delay)
  }
}

/** Sends `events` events (and feedback) through the collectors; resolves with what was acknowledged. */
export async function driveLoad(o: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { events: new Map(), feedback: new Map(), unavailable: 0, networkErrors: 0, ackTimes: [], elapsedMs: 0 }
  const batch = o.batch ?? 1000
  const clients = o.clients ?? 4
  const every = o.feedbackEvery ?? 4
  const retryForMs = o.retryForMs ?? 60_000
  const started = Date.now()
  let next = 0
  const client = async (c: number) => {
    for (let turn = 0; !o.stop?.(); turn++) {
      const from = next
      if (from >= o.events) return
      next = Math.min(o.events, from + batch)
      const url = o.urls[(c + turn) % o.urls.length]!
      const ids: string[] = []
      const lines: string[] = []
      const hashes: string[] = []
      for (let n = from; n < next; n++) {
        const id = `${o.run}-${n}`
        const line = JSON.stringify(makeEvent(id, n))
        ids.push(id)
        lines.push(line)
        hashes.push(md5(line))
      }
      if (o.pauseMs) await sleep(o.pauseMs)
      if (await postUntilAcked(`${url}/v1/events`, lines.join('\n'), result, retryForMs)) {
        const ackMs = Date.now()
        ids.forEach((id, i) => result.events.set(id, hashes[i]!))
        if (o.recordAcks) result.ackTimes.push({ ids, ackMs })
      }
      if (every > 0) {
        const fb: string[] = []
        const fbIds: string[] = []
        for (let i = 0; i < ids.length; i += every) {
          const f = { id: `fb-${ids[i]}`, event_id: ids[i], name: 'thumbs', value: i % 2 ? 1 : -1, source: { type: 'user' } }
          fb.push(JSON.stringify(f))
          fbIds.push(f.id)
        }
        // Feedback goes through the other collector: order across collectors is not guaranteed.
        const other = o.urls[(c + turn + 1) % o.urls.length]!
        if (await postUntilAcked(`${other}/v1/feedback`, fb.join('\n'), result, retryForMs))
          fbIds.forEach((id, i) => result.feedback.set(id, md5(fb[i]!)))
      }
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)))
  result.elapsedMs = Date.now() - started
  return result
}

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

/** Compares what PostgreSQL holds in `schema` with what was acknowledged. */
export async function verifyStored(pgUrl: string, schema: string, acked: LoadResult): Promise<VerifyResult> {
  const client = new pg.Client({ connectionString: pgUrl })
  await client.connect()
  try {
    const read = async (table: string) => {
      const r = await client.query<{ id: string; h: string; n: string }>(
        `SELECT id, md5(min(body)) AS h, count(*) AS n FROM ${schema}.${table} GROUP BY project, id`,
      )
      return r.rows
    }
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
  } finally {
    await client.end()
  }
}

/** Resolves once `schema` holds at least `events` events and `feedback` feedback items (or throws after `timeoutMs`). */
export async function waitStored(pgUrl: string, schema: string, events: number, feedback: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    const client = new pg.Client({ connectionString: pgUrl })
    try {
      await client.connect()
      const r = await client.query<{ e: number; f: number }>(
        `SELECT (SELECT count(*) FROM ${schema}.event_ids)::int AS e, (SELECT count(*) FROM ${schema}.feedback_ids)::int AS f`,
      )
      const { e, f } = r.rows[0]!
      last = `${e}/${events} events, ${f}/${feedback} feedback`
      if (e >= events && f >= feedback) return
    } catch (err) {
      last = (err as Error).message
    } finally {
      await client.end().catch(() => {})
    }
    if (Date.now() > until) throw new Error(`not all acknowledged items arrived in ${timeoutMs} ms: ${last}`)
    await sleep(250)
  }
}
