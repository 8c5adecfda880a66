/** The error body the OpenAI API (and its clients) use: `{error: {message, type, param, code}}`. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

/** Errors the proxy answers itself, with their status and `code`. */
export type ProxyErrorCode = 'upstream_unreachable' | 'upstream_timeout'

const STATUS: Record<ProxyErrorCode, number> = { upstream_unreachable: 502, upstream_timeout: 504 }

/** The status and OpenAI-shaped body of an error the proxy answers itself. */
export function proxyError(code: ProxyErrorCode, message: string): { status: number; body: OpenAIErrorBody } {
  return { status: STATUS[code], body: { error: { message, type: 'api_error', param: null, code } } }
}

/** `{type, message}` of an upstream error reply (OpenAI's shape, or whatever it sent). */
export function upstreamError(status: number, body: unknown): { type: string; message: string; status: number } {
  const e =
    typeof body === 'object' && body !== null
      ? (body as { error?: { type?: unknown; message?: unknown; code?: unknown } }).error
      : undefined
  const type = typeof e?.type === 'string' ? e.type : typeof e?.code === 'string' ? e.code : `http_${status}`
  const message = typeof e?.message === 'string' ? e.message : `upstream answered HTTP ${status}`
  return { type, message, status }
}
