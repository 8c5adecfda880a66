/** Options of {@link HttpClient}. */
export interface HttpClientOptions {
  /** Collector base URL. Default `http://127.0.0.1:7070`. */
  url: string
  /** Sent as `Authorization: Bearer`. */
  apiKey?: string
  /** Sent as `X-Inferlog-Project` (open mode picks it; with keys it must match). */
  project?: string
}

/** An error reply of the collector, with its stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Minimal JSON client for the collector's HTTP API. */
export class HttpClient {
  readonly base: string
  constructor(private readonly o: HttpClientOptions) {
    this.base = o.url.replace(/\/+$/, '')
  }

  /** The credential and project headers, for requests made outside {@link request}. */
  authHeaders(): Record<string, string> {
    return this.headers()
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', ...extra }
    if (this.o.apiKey) h.authorization = `Bearer ${this.o.apiKey}`
    if (this.o.project) h['x-inferlog-project'] = this.o.project
    return h
  }

  /** Opens a server-sent event stream (resuming after `lastEventId`); throws {@link ApiError} on an error reply. */
  async stream(path: string, lastEventId?: string): Promise<ReadableStream<Uint8Array>> {
    let res: Response
    try {
      res = await fetch(this.base + path, {
        headers: this.headers(
          lastEventId ? { 'last-event-id': lastEventId, accept: 'text/event-stream' } : { accept: 'text/event-stream' },
        ),
      })
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause
      throw new ApiError(0, 'unreachable', `cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (e as Error).message}`)
    }
    if (res.status >= 400 || !res.body) {
      const err = ((await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined)?.error
      throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? `HTTP ${res.status}`)
    }
    return res.body
  }

  /** Sends a request; returns status and parsed JSON, throws {@link ApiError} on an error reply. */
  async request<T>(
    method: string,
    path: string,
    body?: string | Uint8Array,
    contentType = 'application/json',
  ): Promise<{ status: number; json: T }> {
    let res: Response
    try {
      res = await fetch(this.base + path, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': contentType }),
        ...(body === undefined ? {} : { body }),
      })
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause
      throw new ApiError(0, 'unreachable', `cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (e as Error).message}`)
    }
    const text = await res.text()
    let json: unknown
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      throw new ApiError(res.status, 'bad_reply', `${method} ${path}: HTTP ${res.status}, reply is not JSON`)
    }
    if (res.status >= 400) {
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error
      const ra = Number(res.headers.get('retry-after'))
      throw new ApiError(
        res.status,
        err?.code ?? `http_${res.status}`,
        err?.message ?? `HTTP ${res.status}`,
        Number.isFinite(ra) && ra > 0 ? ra : undefined,
      )
    }
    return { status: res.status, json: json as T }
  }
}
