import { DemoError } from './demo-error.js'

/** The few read-side calls the demo makes, over the public HTTP API (open mode: no key). */
export class CollectorApi {
  constructor(
    private readonly url: string,
    /** Per-request timeout, ms. Default 30 000. */
    private readonly timeoutMs = 30_000,
  ) {}

  /** A JSON request; a non-2xx reply is a `DemoError` `api_failed` naming the server's error code. */
  async request<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response
    try {
      res = await fetch(new URL(path, this.url), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (e) {
      throw new DemoError('api_failed', `${method} ${path}: ${(e as Error).message}`)
    }
    const text = await res.text()
    if (!res.ok) {
      let code = `HTTP ${res.status}`
      try {
        const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error
        if (err) code = `${err.code}: ${err.message}`
      } catch {
        // not JSON: keep the status
      }
      throw new DemoError('api_failed', `${method} ${path}: ${code}`)
    }
    return JSON.parse(text) as T
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
