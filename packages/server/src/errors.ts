import type { ErrorCode } from '@inferlog/schema'

const DEFAULT_STATUS: Partial<Record<ErrorCode, number>> = {
  invalid_json: 400,
  invalid_utf8: 400,
  bad_request: 400,
  invalid_parameter: 400,
  validation_failed: 400,
  payload_too_large: 413,
  too_many_items: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  erased: 410,
  confirmation_required: 400,
  client_closed: 499,
  overloaded: 503,
  unavailable: 503,
  internal: 500,
}

/** Options of {@link InferlogError}. */
export interface InferlogErrorOptions {
  /** HTTP status; default from the code (e.g. 400 for `invalid_json`, 503 for `overloaded`). */
  status?: number
  /** Seconds a client should wait before retrying; sent as `Retry-After`. */
  retryAfter?: number
  cause?: unknown
  /** Machine-readable detail sent as `error.details`, e.g. every `{path, message}` of a refused document. */
  details?: unknown
}

/**
 * The one error type of the server. `code` is stable and is what clients branch on; the HTTP
 * layer maps it to a response in a single place (`http/error-response.ts`).
 */
export class InferlogError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retryAfter: number | undefined
  readonly details: unknown

  constructor(code: ErrorCode, message: string, options: InferlogErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'InferlogError'
    this.code = code
    this.status = options.status ?? DEFAULT_STATUS[code] ?? 500
    this.retryAfter = options.retryAfter
    this.details = options.details
  }
}

/** True for an {@link InferlogError} (also across package copies). */
export function isInferlogError(e: unknown): e is InferlogError {
  return e instanceof InferlogError || (e instanceof Error && e.name === 'InferlogError' && 'code' in e)
}
