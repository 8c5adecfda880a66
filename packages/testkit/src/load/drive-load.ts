import { createHash } from 'node:crypto'
import http from 'node:http'
import { makeEventLine } from './scale-event.js'

/** What a load run saw. */
export interface LoadResult {
  /** Acknowledged events. */
  acked: number
  /** Acknowledged event id → md5 of the line sent (when `track`). */
  events: Map<string, string>
  /** Acknowledged feedback id → md5 of the line sent (when `track`). */
  feedback: Map<string, string>
  /** 503 answers seen (then retried). */
  unavailable: number
  /** Other answers that were retried (only with `retryAnyStatus`). */
  refused: number
  /** Network errors seen (then retried). */
  networkErrors: number
  /** Client-side ack time (epoch ms) of each acknowledged request's events (when `recordAcks`). */
  ackTimes: { ids: string[]; ackMs: number }[]
  elapsedMs: number
}

/** Options of {@link driveLoad}. */
export interface LoadOptions {
  /** Collector base URLs; clients take turns over them. */
  urls: string[]
  /** Prefix making ids unique per run: event n is `<run>-<n>`. */
  run: string
  /** Total events to send. Default: no limit (then give `seconds` or `stop`). */
  events?: number
  /** Send no new request after this long. Default: no limit. */
  seconds?: number
  /** Stop sending new requests once this returns true. */
  stop?: () => boolean
  /** Pace all clients together to this many events/s. Default: as fast as acknowledged. */
  rate?: number
  /** One feedback item per this many events, sent through the next collector (0: none). Default 4. */
  feedbackEvery?: number
  /** Events per request. Default 1000. */
  batch?: number
  /** Concurrent clients (keep-alive connections). Default 4. */
  clients?: number
  /** Give up retrying a request after this long. Default 60 000 ms. */
  retryForMs?: number
  /** First retry delay, doubling up to `maxRetryDelayMs`. Default 50 ms. */
  minRetryDelayMs?: number
  /** Default 500 ms. */
  maxRetryDelayMs?: number
  /** Retry any answer but 200 (a benchmark pushing past what the server takes); otherwise only 503 is retried and anything else throws. Default false. */
  retryAnyStatus?: boolean
  /** Wait before sending each request, ms. Default 0. */
  pauseMs?: number
  /** Remember acknowledged ids with the md5 of what was sent, for {@link verifyStored}. Default true. */
  track?: boolean
  /** Remember ack times (for lag). Default false. */
  recordAcks?: boolean
  /** Told about each acknowledged event request: its first id and the ack time. */
  onAck?: (firstId: string, ackMs: number) => void
  /** Told about each 503 a request got (before it is retried). */
  onUnavailable?: () => void
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex')
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

function post(agent: http.Agent, url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          if (text.length < 1000) text += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

class UnexpectedStatus extends Error {}

/**
 * Sends events (and feedback for some of them) to collectors from several keep-alive clients,
 * retrying 503s and network errors with back-off as the SDK does, and resolves with what was
 * acknowledged. Event `n` is {@link makeEventLine}(`<run>-<n>`, n).
 */
export async function driveLoad(o: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = {
    acked: 0,
    events: new Map(),
    feedback: new Map(),
    unavailable: 0,
    refused: 0,
    networkErrors: 0,
    ackTimes: [],
    elapsedMs: 0,
  }
  const batch = o.batch ?? 1000
  const clients = o.clients ?? 4
  const every = o.feedbackEvery ?? 4
  const retryForMs = o.retryForMs ?? 60_000
  const track = o.track ?? true
  const total = o.events ?? Number.POSITIVE_INFINITY
  const started = Date.now()
  const end = o.seconds === undefined ? Number.POSITIVE_INFINITY : started + o.seconds * 1000
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(clients, 1) * 2 })
  const done = () => o.stop?.() === true || Date.now() >= end

  const postUntilAcked = async (url: string, body: string): Promise<boolean> => {
    const until = Date.now() + retryForMs
    for (let delay = o.minRetryDelayMs ?? 50; ; delay = Math.min(delay * 2, o.maxRetryDelayMs ?? 500)) {
      try {
        const res = await post(agent, url, body)
        if (res.status === 200) return true
        if (res.status === 503) {
          result.unavailable++
          o.onUnavailable?.()
        } else if (o.retryAnyStatus) result.refused++
        else throw new UnexpectedStatus(`unexpected ${res.status} from ${url}: ${res.text.slice(0, 300)}`)
      } catch (e) {
        if (e instanceof UnexpectedStatus) throw e
        result.networkErrors++
      }
      if (Date.now() > until) return false
      await sleep(delay)
    }
  }

  let next = 0
  const client = async (c: number) => {
    for (let turn = 0; !done(); turn++) {
      if (o.rate) {
        // The k-th event of all clients together is due k / rate seconds after the start.
        const due = started + (next * 1000) / o.rate
        if (due > Date.now()) await sleep(due - Date.now())
        if (done()) return
      }
      const from = next
      if (from >= total) return
      next = Math.min(total, from + batch)
      const url = o.urls[(c + turn) % o.urls.length]!
      const ids: string[] = []
      const lines: string[] = []
      for (let n = from; n < next; n++) {
        const id = `${o.run}-${n}`
        ids.push(id)
        lines.push(makeEventLine(id, n))
      }
      if (o.pauseMs) await sleep(o.pauseMs)
      if (await postUntilAcked(`${url}/v1/events`, lines.join('\n'))) {
        const ackMs = Date.now()
        result.acked += ids.length
        if (track) ids.forEach((id, i) => result.events.set(id, md5(lines[i]!)))
        if (o.recordAcks) result.ackTimes.push({ ids, ackMs })
        o.onAck?.(ids[0]!, ackMs)
      }
      if (every > 0) {
        const fb: string[] = []
        const fbIds: string[] = []
        for (let i = 0; i < ids.length; i += every) {
          const f = { id: `fb-${ids[i]}`, event_id: ids[i], name: 'thumbs', value: i % 2 ? 1 : -1, source: { type: 'user' } }
          fb.push(JSON.stringify(f))
          fbIds.push(f.id)
        }
        // Feedback goes through another collector: order across collectors is not guaranteed.
        const other = o.urls[(c + turn + 1) % o.urls.length]!
        if ((await postUntilAcked(`${other}/v1/feedback`, fb.join('\n'))) && track)
          fbIds.forEach((id, i) => result.feedback.set(id, md5(fb[i]!)))
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: clients }, (_, c) => client(c)))
  } finally {
    agent.destroy()
  }
  result.elapsedMs = Date.now() - started
  return result
}
