/** A failed call: the server's `{error: {code, message}}`, or `network` / `timeout` when it did not answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
    /** The server's `error.details`, e.g. every `{path, message}` of a refused spec. */
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Base URL of the collector. Default `''` (this origin). */
  base?: string
  /** How long a call may take before it is given up as `timeout`, ms. Default 20 000. */
  timeoutMs?: number
  /** Called on every 401, so the app can show the sign-in page. Default none. */
  onUnauthorized?: () => void
  fetch?: typeof fetch
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * The dashboard's only way to the server: JSON over the public HTTP API with the browser's session
 * cookie. It adds the CSRF token on writes and, in open mode, the chosen project; it never holds
 * an API key (sign-in hands the key to the server once and keeps nothing).
 */
export class ApiClient {
  csrf: string | undefined
  /** Project to name in open mode (`X-Inferlog-Project`); undefined means the server's default. */
  project: string | undefined
  private readonly base: string
  private readonly timeoutMs: number
  private readonly fetcher: typeof fetch

  constructor(private readonly o: ApiClientOptions = {}) {
    this.base = o.base ?? ''
    this.timeoutMs = o.timeoutMs ?? 20_000
    this.fetcher = o.fetch ?? ((...a) => fetch(...a))
  }

  /** Builds `/v1/...?k=v` dropping empty values; arrays repeat the key. */
  url(path: string, query?: Record<string, string | number | boolean | string[] | undefined | null>): string {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null || v === '') continue
      if (Array.isArray(v)) for (const x of v) q.append(k, x)
      else q.set(k, String(v))
    }
    const s = q.toString()
    return `${this.base}${path}${s ? `?${s}` : ''}`
  }

  headers(method: string, json: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' }
    if (json) h['content-type'] = 'application/json'
    if (UNSAFE.has(method) && this.csrf) h['x-inferlog-csrf'] = this.csrf
    if (this.project) h['x-inferlog-project'] = this.project
    return h
  }

  /** Sends a request and returns the raw response, or throws {@link ApiError} for anything but 2xx. */
  async raw(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const ctl = new AbortController()
    const timer = setTimeout(() => ctl.abort(new DOMException('timeout', 'TimeoutError')), this.timeoutMs)
    const onAbort = () => ctl.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort)
    let res: Response
    try {
      res = await this.fetcher(url, {
        method,
        headers: this.headers(method, body !== undefined),
        credentials: 'same-origin',
        signal: ctl.signal,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      })
    } catch (e) {
      if (signal?.aborted) throw e
      if (ctl.signal.aborted) throw new ApiError(0, 'timeout', `the server did not answer within ${this.timeoutMs / 1000} s`)
      throw new ApiError(0, 'network', 'the server cannot be reached')
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    if (res.ok) return res
    let code = `http_${res.status}`
    let message = res.statusText || `HTTP ${res.status}`
    let details: unknown
    try {
      const j = (await res.json()) as { error?: { code?: string; message?: string; details?: unknown } }
      if (j.error?.code) code = j.error.code
      if (j.error?.message) message = j.error.message
      details = j.error?.details
    } catch {
      // Not JSON (a proxy's error page): keep the status.
    }
    if (res.status === 401) this.o.onUnauthorized?.()
    const ra = Number(res.headers.get('retry-after'))
    throw new ApiError(res.status, code, message, Number.isFinite(ra) && ra > 0 ? ra : undefined, details)
  }

  async json<T>(
    method: string,
    path: string,
    opts: { query?: Parameters<ApiClient['url']>[1]; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    const res = await this.raw(method, this.url(path, opts.query), opts.body, opts.signal)
    if (res.status === 204) return undefined as T
    return (await res.json()) as T
  }

  get<T>(path: string, query?: Parameters<ApiClient['url']>[1], signal?: AbortSignal): Promise<T> {
    return this.json<T>('GET', path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) })
  }

  post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.json<T>('POST', path, { body, ...(signal ? { signal } : {}) })
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('PUT', path, { body })
  }

  del(path: string): Promise<void> {
    return this.json<void>('DELETE', path)
  }
}
