import { DemoError } from './demo-error.js'

/** Options of {@link CollectorApi}. */
export interface CollectorApiOptions {
  /** Per-request timeout, ms. Default 30 000. */
  timeoutMs?: number
  /** Tries of a request that fails with a 5xx or a network error (every call the demo makes is idempotent). Default 4. */
  attempts?: number
  /** Wait before the n-th retry: `retryDelayMs × 2^(n-1)`. Default 250. */
  retryDelayMs?: number
}

class Retryable extends Error {}

/** The few read-side and configuration calls the demo makes, over the public HTTP API (open mode: no key). */
export class CollectorApi {
  private readonly o: Required<CollectorApiOptions>

  constructor(
    private readonly url: string,
    o: CollectorApiOptions = {},
  ) {
    this.o = { timeoutMs: o.timeoutMs ?? 30_000, attempts: o.attempts ?? 4, retryDelayMs: o.retryDelayMs ?? 250 }
  }

  /** A JSON request; a non-2xx reply (after the retries) is a `DemoError` `api_failed` naming the server's error code. */
  async request<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, body)
      } catch (e) {
        if (!(e instanceof Retryable) || attempt >= this.o.attempts)
          throw new DemoError('api_failed', `${method} ${path}: ${(e as Error).message}`)
        await new Promise((r) => setTimeout(r, this.o.retryDelayMs * 2 ** (attempt - 1)))
      }
    }
  }

  private async once<T>(method: string, path: string, body: unknown): Promise<T> {
    let res: Response
    try {
      res = await fetch(new URL(path, this.url), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      })
    } catch (e) {
      throw new Retryable((e as Error).message)
    }
    const text = await res.text()
    if (res.ok) return JSON.parse(text) as T
    let why = `HTTP ${res.status}`
    try {
      const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error
      if (err) why = `${err.code}: ${err.message}`
    } catch {
      // not JSON: keep the status
    }
    throw res.status >= 500 ? new Retryable(why) : new Error(why)
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path)
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body)
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body)
  }
}
