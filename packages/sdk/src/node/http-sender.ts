import http from 'node:http'
import https from 'node:https'
import { type IngestReply, parseRetryAfter } from '@inferlog/schema'
import type { Payload, Sender, SendResult } from '../core/platform.js'

/** Options of {@link createHttpSender}. */
export interface HttpSenderOptions {
  /** Collector base URL, e.g. `http://127.0.0.1:7070`. */
  url: string
  apiKey?: string
  project?: string
  /** Requests in flight at once (sockets kept alive). */
  concurrency: number
  /** Socket inactivity timeout of one request, ms. */
  timeoutMs: number
  /** Whether payloads are sent gzip-compressed (the pipeline compresses; this only tells it to). */
  compress: boolean
  headers?: Record<string, string>
}

const PATHS = { event: '/v1/events', feedback: '/v1/feedback' } as const

/**
 * Parses a collector base URL, or throws a TypeError naming the option and the value.
 * @param option how the caller names the setting in the message. Default `url`.
 */
export function parseCollectorUrl(url: string, option = 'url'): URL {
  let u: URL | undefined
  try {
    u = new URL(url)
  } catch {
    u = undefined
  }
  if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    throw new TypeError(`inferlog: ${option} must be an http:// or https:// URL such as http://127.0.0.1:7070, got ${JSON.stringify(url)}`)
  }
  return u
}

/**
 * POSTs NDJSON batches to a collector over keep-alive connections (node:http/https Agent).
 * Replies are read in full so sockets are reused; a 200/207 body is parsed as the ingest reply.
 */
export function createHttpSender(o: HttpSenderOptions): Sender {
  const base = parseCollectorUrl(o.url)
  const mod = base.protocol === 'https:' ? https : http
  const agent = new mod.Agent({ keepAlive: true, maxSockets: o.concurrency + 1, maxFreeSockets: o.concurrency + 1, scheduling: 'lifo' })
  const prefix = base.pathname.replace(/\/+$/, '')
  const common: Record<string, string> = {
    'content-type': 'application/x-ndjson',
    'user-agent': 'inferlog-sdk-js/0.1',
    ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
    ...(o.project ? { 'x-inferlog-project': o.project } : {}),
    ...o.headers,
  }
  let closed = false
  const live = new Set<http.ClientRequest>()

  function send(p: Payload): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      if (closed) return reject(new Error('sender closed'))
      const headers: Record<string, string | number> = { ...common, 'content-length': p.body.byteLength }
      if (p.encoding === 'gzip') headers['content-encoding'] = 'gzip'
      const req = mod.request({
        protocol: base.protocol,
        hostname: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port,
        path: prefix + PATHS[p.kind],
        method: 'POST',
        agent,
        headers,
        timeout: o.timeoutMs,
      })
      live.add(req)
      req.once('close', () => live.delete(req))
      req.once('timeout', () => req.destroy(new Error(`no response within ${o.timeoutMs} ms`)))
      req.once('error', reject)
      req.once('response', (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.once('error', reject)
        res.once('end', () => {
          const status = res.statusCode ?? 0
          const result: SendResult = { status }
          const ra = parseRetryAfter(res.headers['retry-after'] as string | undefined)
          if (ra !== undefined) result.retryAfterMs = ra
          const text = Buffer.concat(chunks).toString('utf8')
          try {
            const body = text === '' ? undefined : (JSON.parse(text) as unknown)
            if (status === 200 || status === 207) {
              if (body && typeof body === 'object') result.reply = body as IngestReply
            } else {
              const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
              if (typeof err?.code === 'string') result.errorCode = err.code
              if (typeof err?.message === 'string') result.message = err.message
            }
          } catch {
            if (status !== 200 && status !== 207) result.message = text.slice(0, 200)
          }
          resolve(result)
        })
      })
      req.end(p.body)
    })
  }

  return {
    compress: o.compress,
    send,
    close: async () => {
      if (closed) return
      closed = true
      for (const r of live) r.destroy(new Error('sender closed'))
      agent.destroy()
    },
  }
}
