import { EVENT_FILTER_KEYS } from '@inferlog/schema'
import { InferlogError } from '../errors.js'
import type { EventFilter, FeedbackFilter } from '../store/store.js'
import { PAGE_LIMITS } from './read-service.js'

type Query = Record<string, string | undefined>

const RFC3339 = /^\d{4}-\d\d-\d\d(?:[Tt ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d\d:\d\d))?$/

/** RFC 3339 time (or a bare date, meaning its UTC midnight) or epoch milliseconds → epoch ms. */
export function parseTime(name: string, raw: string): number {
  // A `+01:00` offset arrives as ` 01:00` when the client did not percent-encode the plus.
  const v = raw.replace(/ (\d\d:\d\d)$/, '+$1')
  const ms = /^-?\d{1,16}$/.test(v) ? Number(v) : RFC3339.test(v) ? Date.parse(v.replace(/^(\d{4}-\d\d-\d\d)[t ]/, '$1T')) : Number.NaN
  if (!Number.isFinite(ms))
    throw new InferlogError('invalid_parameter', `${name} must be an RFC 3339 time or epoch milliseconds, got ${JSON.stringify(raw)}`)
  return ms
}

function parseBool(name: string, v: string): boolean {
  if (v === 'true' || v === '1') return true
  if (v === 'false' || v === '0') return false
  throw new InferlogError('invalid_parameter', `${name} must be true or false, got ${JSON.stringify(v)}`)
}

/** `limit` query parameter: default 50, 1..1000. */
export function parseLimit(v: string | undefined): number {
  if (v === undefined) return PAGE_LIMITS.default
  // Digits only: Number() would also take `1e2`, `0x10` or ` 7`.
  const n = /^[0-9]{1,7}$/.test(v) ? Number(v) : Number.NaN
  if (!Number.isInteger(n) || n < 1 || n > PAGE_LIMITS.max) {
    throw new InferlogError('invalid_parameter', `limit must be an integer 1..${PAGE_LIMITS.max}, got ${JSON.stringify(v)}`)
  }
  return n
}

/** Query parameters of `GET /v1/events` → filter. Unknown parameters are refused (typo safety). */
export function parseEventFilter(q: Query): EventFilter {
  const known: readonly string[] = [...EVENT_FILTER_KEYS, 'limit', 'cursor']
  for (const k of Object.keys(q))
    if (!known.includes(k))
      throw new InferlogError('invalid_parameter', `unknown query parameter ${JSON.stringify(k)}; known: ${known.join(', ')}`)
  const f: EventFilter = {}
  if (q.model !== undefined) f.model = q.model
  if (q.version !== undefined) f.version = q.version
  if (q.stage !== undefined) f.stage = q.stage
  if (q.status !== undefined) f.status = q.status
  if (q.session_id !== undefined) f.sessionId = q.session_id
  if (q.user_id !== undefined) f.userId = q.user_id
  if (q.arm !== undefined) f.arm = q.arm
  if (q.from !== undefined) f.fromMs = parseTime('from', q.from)
  if (q.to !== undefined) f.toMs = parseTime('to', q.to)
  if (q.has_feedback !== undefined) f.hasFeedback = parseBool('has_feedback', q.has_feedback)
  if (q.feedback !== undefined) f.feedbackName = q.feedback
  return f
}

/** Query parameters of `GET /v1/feedback` → filter. */
export function parseFeedbackFilter(q: Query): FeedbackFilter {
  const known = ['event_id', 'name', 'from', 'to', 'limit', 'cursor']
  for (const k of Object.keys(q))
    if (!known.includes(k))
      throw new InferlogError('invalid_parameter', `unknown query parameter ${JSON.stringify(k)}; known: ${known.join(', ')}`)
  const f: FeedbackFilter = {}
  if (q.event_id !== undefined) f.eventId = q.event_id
  if (q.name !== undefined) f.name = q.name
  if (q.from !== undefined) f.fromMs = parseTime('from', q.from)
  if (q.to !== undefined) f.toMs = parseTime('to', q.to)
  return f
}
