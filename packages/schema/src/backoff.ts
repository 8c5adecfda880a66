/**
 * The one retry policy of inferlog (SDK and server): exponential backoff with full jitter, a cap,
 * and a server's `Retry-After` as a lower bound. Uses only Web APIs.
 */

/** Options of {@link nextBackoffMs}. */
export interface BackoffOptions {
  /** Upper bound of the first delay; it doubles with each attempt, ms. Default 100. */
  baseMs?: number
  /** Cap of the exponential, ms. Default 15 000. */
  maxMs?: number
  /**
   * What the server asked for (`Retry-After`), ms. The delay is at least this (plus 0–10 % jitter
   * so clients told the same thing do not come back together). Default none.
   */
  retryAfterMs?: number
  /** Longest `Retry-After` honoured, ms; beyond it the backoff alone applies. Default 600 000 (10 min). */
  maxRetryAfterMs?: number
  /** Uniform random numbers in [0, 1). Default `Math.random`. */
  random?: () => number
}

/** The defaults of {@link BackoffOptions}, in one place. */
export const BACKOFF_DEFAULTS = { baseMs: 100, maxMs: 15_000, maxRetryAfterMs: 600_000 } as const

/**
 * Delay before retry number `attempt` (0 for the first retry): a uniform draw in
 * `[0, min(maxMs, baseMs × 2^attempt))` ("full jitter": clients that failed together spread out
 * instead of retrying in waves), raised to the server's `Retry-After` when it asked for longer.
 */
export function nextBackoffMs(attempt: number, o: BackoffOptions = {}): number {
  const base = o.baseMs ?? BACKOFF_DEFAULTS.baseMs
  const max = o.maxMs ?? BACKOFF_DEFAULTS.maxMs
  const random = o.random ?? Math.random
  // Past 2^30 the product is beyond any cap; clamping keeps it finite for huge attempt counts.
  const ceiling = Math.min(max, base * 2 ** Math.min(Math.max(attempt, 0), 30))
  const delay = random() * ceiling
  const ra = o.retryAfterMs
  if (ra === undefined || !(ra > 0)) return delay
  const honoured = Math.min(ra, o.maxRetryAfterMs ?? BACKOFF_DEFAULTS.maxRetryAfterMs)
  return Math.max(delay, honoured * (1 + random() * 0.1))
}

/** Parses a `Retry-After` header (delta seconds or an HTTP date) to milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined
  const v = value.trim()
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : Math.max(0, t - now)
}

/** Options of {@link retry}. */
export interface RetryOptions extends Omit<BackoffOptions, 'retryAfterMs'> {
  /** Retries after the first attempt (`Infinity` retries until `shouldRetry` or `signal` says stop). Default 5. */
  retries?: number
  /** Whether a failure is worth another attempt. Default: every failure. */
  shouldRetry?: (error: unknown, attempt: number) => boolean
  /** The server's `Retry-After` carried by a failure, ms. Default none. */
  retryAfterMs?: (error: unknown) => number | undefined
  /** Called before each wait (e.g. to count or log retries). Default none. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  /** Stops retrying: the wait ends and `retry` rejects with the signal's reason. Default none. */
  signal?: AbortSignal
  /** Waits `ms`; inject to use a fake clock. Default a `setTimeout` that ends early on `signal`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(t)
      reject(signal?.reason)
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Calls `fn` until it resolves, waiting {@link nextBackoffMs} between attempts. Rejects with the
 * last failure once `retries` are spent or `shouldRetry` declines, or with the signal's reason
 * when aborted.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const retries = o.retries ?? 5
  const sleep = o.sleep ?? defaultSleep
  for (let attempt = 0; ; attempt++) {
    if (o.signal?.aborted) throw o.signal.reason
    try {
      return await fn(attempt)
    } catch (e) {
      if (attempt >= retries || (o.shouldRetry && !o.shouldRetry(e, attempt))) throw e
      const backoff: BackoffOptions = {}
      if (o.baseMs !== undefined) backoff.baseMs = o.baseMs
      if (o.maxMs !== undefined) backoff.maxMs = o.maxMs
      if (o.maxRetryAfterMs !== undefined) backoff.maxRetryAfterMs = o.maxRetryAfterMs
      if (o.random !== undefined) backoff.random = o.random
      const retryAfterMs = o.retryAfterMs?.(e)
      if (retryAfterMs !== undefined) backoff.retryAfterMs = retryAfterMs
      const delay = nextBackoffMs(attempt, backoff)
      o.onRetry?.(e, attempt, delay)
      await sleep(delay, o.signal)
    }
  }
}
