import { createHmac } from 'node:crypto'

/** Header carrying the signature of a dataset webhook delivery. */
export const SIGNATURE_HEADER = 'x-inferlog-signature'
/** Header carrying the delivery's time (epoch ms), part of what is signed. */
export const TIMESTAMP_HEADER = 'x-inferlog-timestamp'
/** Header carrying the delivery id: the same on every retry of one version, for receivers to dedupe. */
export const DELIVERY_HEADER = 'x-inferlog-delivery'

/**
 * `sha256=` + hex HMAC-SHA256 of `TIMESTAMP.BODY` with the shared secret. A receiver recomputes it
 * over the raw body and the `X-Inferlog-Timestamp` header, compares in constant time, and may
 * refuse old timestamps to stop replays.
 */
export function signWebhook(secret: string, timestampMs: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampMs}.${body}`).digest('hex')}`
}

/** Outcome of one delivery attempt. */
export interface DeliveryAttempt {
  ok: boolean
  /** HTTP status when the receiver answered. */
  status?: number
  /** Why it failed (`HTTP 500`, `timeout after 10000 ms`, a connection error). */
  error?: string
}

/** Options of {@link postWebhook}. */
export interface PostWebhookOptions {
  url: string
  body: string
  /** Delivery id sent as {@link DELIVERY_HEADER}. */
  delivery: string
  secret?: string
  timeoutMs: number
  now: () => number
  fetch: typeof fetch
}

/** POSTs one delivery; a 2xx answer within the timeout is a success, anything else a failure to retry. */
export async function postWebhook(o: PostWebhookOptions): Promise<DeliveryAttempt> {
  const ts = o.now()
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'inferlog-dataset-trigger',
    'x-inferlog-event': 'dataset.version',
    [DELIVERY_HEADER]: o.delivery,
    [TIMESTAMP_HEADER]: String(ts),
  }
  if (o.secret) headers[SIGNATURE_HEADER] = signWebhook(o.secret, ts, o.body)
  try {
    const res = await o.fetch(o.url, { method: 'POST', headers, body: o.body, signal: AbortSignal.timeout(o.timeoutMs) })
    await res.arrayBuffer().catch(() => undefined)
    return res.status >= 200 && res.status < 300
      ? { ok: true, status: res.status }
      : { ok: false, status: res.status, error: `HTTP ${res.status}` }
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } }
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return { ok: false, error: `timeout after ${o.timeoutMs} ms` }
    return { ok: false, error: err.cause?.code ?? err.cause?.message ?? err.message }
  }
}
