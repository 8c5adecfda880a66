import { InferlogError } from '../errors.js'

/** Which events an erasure removes: exactly one selector. */
export type ErasureSelector = { userId: string } | { sessionId: string } | { ids: string[] }

/** A parsed `POST /v1/erasure` body (or `inferlog erase` flags). */
export interface ErasureRequest {
  selector: ErasureSelector
  /** Why, in the requester's words (a ticket reference); kept in the audit record. */
  reason: string
  /** Erase even when more events match than the confirmation threshold. Default false. */
  confirm: boolean
  /** Only count what would be erased. Default false. */
  dryRun: boolean
}

/** Most ids one request may name. */
export const MAX_ERASURE_IDS = 100_000
/** Longest reason, characters. */
export const MAX_REASON_CHARS = 2_000

const FIELDS = ['user_id', 'session_id', 'ids', 'reason', 'confirm', 'dry_run']

function fail(message: string): never {
  throw new InferlogError('validation_failed', message)
}

function nonEmpty(name: string, v: unknown, max = 1024): string {
  if (typeof v !== 'string' || v === '') fail(`${name} must be a non-empty string`)
  if (v.length > max) fail(`${name} is longer than ${max} characters`)
  return v
}

/**
 * Checks an erasure request: exactly one of `user_id`, `session_id`, `ids` (a non-empty list of
 * at most {@link MAX_ERASURE_IDS} event ids), a `reason`, and optional booleans `confirm` and
 * `dry_run`. Anything else is a `validation_failed` naming the problem.
 */
export function parseErasureRequest(body: Record<string, unknown>): ErasureRequest {
  for (const k of Object.keys(body)) {
    if (!FIELDS.includes(k)) fail(`unknown field ${JSON.stringify(k)}; known: ${FIELDS.join(', ')}`)
  }
  const given = ['user_id', 'session_id', 'ids'].filter((k) => body[k] !== undefined)
  if (given.length === 0) fail('an erasure needs a selector: one of user_id, session_id or ids')
  if (given.length > 1) fail(`give one selector, not ${given.join(' and ')}`)
  let selector: ErasureSelector
  if (body.user_id !== undefined) selector = { userId: nonEmpty('user_id', body.user_id) }
  else if (body.session_id !== undefined) selector = { sessionId: nonEmpty('session_id', body.session_id) }
  else {
    const ids = body.ids
    if (!Array.isArray(ids) || ids.length === 0) fail('ids must be a non-empty list of event ids')
    if (ids.length > MAX_ERASURE_IDS) fail(`ids lists ${ids.length} ids; at most ${MAX_ERASURE_IDS} per request`)
    selector = { ids: [...new Set(ids.map((id, i) => nonEmpty(`ids[${i}]`, id)))] }
  }
  if (body.reason === undefined) fail('an erasure needs a reason (e.g. the request reference); it is kept in the audit record')
  const reason = nonEmpty('reason', body.reason, MAX_REASON_CHARS)
  for (const k of ['confirm', 'dry_run']) {
    if (body[k] !== undefined && typeof body[k] !== 'boolean') fail(`${k} must be true or false`)
  }
  return { selector, reason, confirm: body.confirm === true, dryRun: body.dry_run === true }
}

/** The selector's kind, for records and messages (never its value: that is the personal data). */
export function selectorKind(s: ErasureSelector): 'user_id' | 'session_id' | 'ids' {
  return 'userId' in s ? 'user_id' : 'sessionId' in s ? 'session_id' : 'ids'
}
