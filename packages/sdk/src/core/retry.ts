import type { SendResult } from './platform.js'

/** What to do with a transport result. */
export type Verdict = 'ok' | 'split' | 'retry' | 'fatal'

/**
 * Classifies a send: 200/207 delivered; 413 (body or item count over a limit) split the batch;
 * network faults (unless marked `fatal`), 408, 425, 429 and 5xx retried; anything else (400, 401, 403, 404…) is fatal for
 * the batch and reported.
 */
export function classify(res: SendResult | undefined, err?: unknown): Verdict {
  if (res === undefined) return (err as { fatal?: unknown } | undefined)?.fatal === true ? 'fatal' : 'retry'
  const s = res.status
  if (s === 200 || s === 207) return 'ok'
  if (s === 413 || res.errorCode === 'too_many_items' || res.errorCode === 'payload_too_large') return 'split'
  if (s === 408 || s === 425 || s === 429 || s >= 500) return 'retry'
  return 'fatal'
}

/** Longest `Retry-After` honoured, ms: beyond it the normal backoff cap applies. */
const MAX_RETRY_AFTER_MS = 10 * 60_000

/**
 * Delay before retry number `attempt` (0-based): exponential from `initialMs`, capped at `maxMs`,
 * with jitter (50–100 % of the delay) so clients that failed together do not retry together.
 * A server's `Retry-After` is honoured as a lower bound (plus up to 10 % jitter).
 */
export function backoffMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30))
  const jittered = exp * (0.5 + random() * 0.5)
  if (retryAfterMs !== undefined && retryAfterMs > 0) {
    const ra = Math.min(retryAfterMs, MAX_RETRY_AFTER_MS)
    return Math.max(jittered, ra * (1 + random() * 0.1))
  }
  return jittered
}

/** Parses a `Retry-After` header (delta seconds or an HTTP date) to milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined
  const v = value.trim()
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : Math.max(0, t - now)
}
