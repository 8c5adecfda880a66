import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { createUuidV7, type Logger, type LoggedEvent } from '@inferlog/sdk'
import { type OpenAICall, type OpenAIOperation, openaiCallEvent, operationOfPath } from '@inferlog/sdk/openai'
import { proxyError, upstreamError } from './openai-error.js'
import { ResponseCapture } from './response-capture.js'

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** Base URL an OpenAI client would use, e.g. `https://api.openai.com/v1`. Required. */
  upstream: string
  /** Where each call is logged (an `@inferlog/sdk` logger; the caller closes it). Required. */
  logger: Pick<Logger, 'log'>
  /** Port; 0 picks a free one. Default 7071. */
  port?: number
  /** Address to bind. Default `127.0.0.1`. */
  host?: string
  /** An upstream silent this long (no response yet, or no bytes mid-response) is given up: 504, or a cut stream. Default 600 000 ms. */
  timeoutMs?: number
  /** Largest request body of a call kept for logging; a larger one is forwarded and not logged. Default 32 MiB. */
  maxRequestBytes?: number
  /** Changes each event before it is logged; return it. Default none. */
  enrich?: (event: LoggedEvent, call: OpenAICall) => LoggedEvent
  /** Epoch-ms clock for `ts`. Default `Date.now`. */
  now?: () => number
  /** Monotonic ms clock for latencies. Default `performance.now`. */
  clock?: () => number
}

/** A listening proxy. */
export interface RunningProxy {
  /** e.g. `http://127.0.0.1:7071`; OpenAI clients use `${url}/v1` as their base URL. */
  url: string
  server: http.Server
  /** Stops listening and closes connections. Idempotent. */
  close(): Promise<void>
}

/** Defaults of {@link ProxyOptions}. */
export const PROXY_DEFAULTS = { port: 7071, host: '127.0.0.1', timeoutMs: 600_000, maxRequestBytes: 32 * 1024 * 1024 }

// Connection-level headers are not forwarded (RFC 9110 §7.6.1); `x-inferlog-*` are for the proxy.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
])

function forwardable(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {}
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k.startsWith('x-inferlog-')) continue
    out[k] = v
  }
  return out
}

/** Where a request goes: `/v1/…` (or any path) appended to the upstream base, minus the `/v1` the client put before it. */
function upstreamTarget(base: URL, requestUrl: string): URL {
  const rest = requestUrl.replace(/^\/v1(?=\/|\?|$)/, '')
  return new URL(base.origin + base.pathname.replace(/\/+$/, '') + (rest.startsWith('/') || rest === '' ? rest : `/${rest}`))
}

class TimeoutError extends Error {}
function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * Starts an OpenAI-compatible proxy in front of `upstream`. Every request is forwarded with its
 * headers (the client's `Authorization` included, never logged) and every reply comes back
 * unchanged, whatever its status; streams pass through chunk by chunk. Calls to
 * `/v1/chat/completions`, `/v1/completions`, `/v1/responses` and `/v1/embeddings` are logged as
 * events (`openaiCallEvent`) after the reply has been sent on, and the reply carries the event's
 * id in `x-inferlog-event-id`. An unreachable upstream is a 502, a silent one a 504, both in
 * OpenAI's error shape. Request headers `x-inferlog-session-id` / `x-inferlog-user-id` fill the
 * event's `trace` and are not forwarded.
 */
export async function startProxy(o: ProxyOptions): Promise<RunningProxy> {
  const base = new URL(o.upstream)
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`--upstream must be an http(s) URL, got ${o.upstream}`)
  const transport = base.protocol === 'https:' ? https : http
  const agent = new transport.Agent({ keepAlive: true, maxSockets: 256 })
  const timeoutMs = o.timeoutMs ?? PROXY_DEFAULTS.timeoutMs
  const maxRequestBytes = o.maxRequestBytes ?? PROXY_DEFAULTS.maxRequestBytes
  const now = o.now ?? Date.now
  const clock = o.clock ?? (() => performance.now())
  const newId = createUuidV7(now)

  /** Called from a deferred callback: the reply has been handed to the socket already. */
  const log = (call: OpenAICall, trace: { session_id?: string; user_id?: string }) => {
    try {
      let event = openaiCallEvent(call)
      if (trace.session_id || trace.user_id) event.trace = { ...event.trace, ...trace }
      if (o.enrich) event = o.enrich(event, call)
      o.logger.log(event)
    } catch {
      // Logging never breaks the proxy.
    }
  }

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const t0 = clock()
    const startedAt = now()
    const target = upstreamTarget(base, req.url ?? '/')
    const op: OpenAIOperation | undefined = req.method === 'POST' ? operationOfPath(target.pathname) : undefined
    const id = op ? newId() : undefined
    // A copy of a logged call's request body, read as it streams upstream and parsed only when
    // the call is logged, so the request is never held back for logging.
    const requestChunks: Buffer[] | undefined = op ? [] : undefined
    let requestBytes = 0
    let requestKept = true
    const trace: { session_id?: string; user_id?: string } = {}
    const session = header(req, 'x-inferlog-session-id')
    const user = header(req, 'x-inferlog-user-id')
    if (session) trace.session_id = session
    if (user) trace.user_id = user
    let capture: ResponseCapture | undefined
    let ttft: number | undefined
    let failure: OpenAICall['error']
    let done = false
    const finish = (error?: OpenAICall['error']) => {
      if (done) return
      done = true
      if (!op || !id || !requestKept) return
      const total = clock() - t0
      setImmediate(() => {
        let request: Record<string, unknown> | undefined
        try {
          const parsed: unknown = JSON.parse(Buffer.concat(requestChunks!).toString('utf8'))
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) request = parsed as Record<string, unknown>
        } catch {
          // Not JSON: forwarded all the same, not logged.
        }
        if (!request) return
        const call: OpenAICall = { operation: op, request, startedAt, latency: { total }, id }
        if (ttft !== undefined) call.latency.ttft = ttft
        const err = error ?? failure
        if (err) call.error = err
        if (capture) {
          const got = capture.finish()
          if (got.body !== undefined && (!err || err.type === 'aborted')) call.response = got.body as Record<string, unknown>
          else if (err?.status !== undefined && got.body !== undefined && !error) call.error = upstreamError(err.status, got.body)
        }
        log(call, trace)
      })
    }
    const reply = (status: number, payload: unknown, extra: http.OutgoingHttpHeaders = {}) => {
      if (res.headersSent) return res.destroy()
      res.writeHead(status, { 'content-type': 'application/json', ...extra })
      res.end(JSON.stringify(payload))
    }

    const upReq = transport.request(target, { method: req.method ?? 'GET', headers: forwardable(req.headers), agent })
    upReq.on('socket', (s) => s.setNoDelay(true))
    upReq.setTimeout(timeoutMs, () => upReq.destroy(new TimeoutError(`upstream sent nothing for ${timeoutMs} ms`)))

    res.on('close', () => {
      if (res.writableFinished) return
      // The client went away: stop the upstream call (and its tokens) and log what arrived.
      upReq.destroy()
      finish({ type: 'aborted', message: 'the client closed the connection before the reply ended' })
    })

    upReq.on('response', (upRes) => {
      const status = upRes.statusCode ?? 502
      const out: http.OutgoingHttpHeaders = forwardable(upRes.headers)
      if (id) out['x-inferlog-event-id'] = id
      res.writeHead(status, upRes.statusMessage ?? '', out)
      if (op) {
        capture = new ResponseCapture(op, upRes.headers as Record<string, string>)
        if (status >= 400) failure = { type: `http_${status}`, message: `upstream answered HTTP ${status}`, status }
      }
      upRes.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) {
          upRes.pause()
          res.once('drain', () => upRes.resume())
        }
        if (capture?.feed(chunk) && ttft === undefined) ttft = clock() - t0
      })
      upRes.on('end', () => {
        res.end()
        finish()
      })
      upRes.on('error', (e) => {
        res.destroy()
        finish({ type: 'upstream_error', message: `the upstream reply broke off: ${e.message}` })
      })
    })

    upReq.on('error', (e) => {
      if (done) return
      const timedOut = e instanceof TimeoutError
      const err = timedOut
        ? proxyError('upstream_timeout', `upstream ${base.origin} sent nothing for ${timeoutMs} ms`)
        : proxyError('upstream_unreachable', `cannot reach upstream ${base.origin}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)
      if (res.headersSent) res.destroy()
      else reply(err.status, err.body, id ? { 'x-inferlog-event-id': id } : {})
      finish({ type: err.body.error.code!, message: err.body.error.message, status: err.status })
    })

    if (requestChunks) {
      req.on('data', (c: Buffer) => {
        if (!requestKept) return
        requestBytes += c.length
        if (requestBytes > maxRequestBytes) {
          requestKept = false
          requestChunks.length = 0
        } else requestChunks.push(c)
      })
    }
    req.pipe(upReq)
  }

  const server = http.createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
    try {
      handle(req, res)
    } catch {
      res.destroy()
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port ?? PROXY_DEFAULTS.port, o.host ?? PROXY_DEFAULTS.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${addr.port}`,
    server,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        agent.destroy()
      })),
  }
}
