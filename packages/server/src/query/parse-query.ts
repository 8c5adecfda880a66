import { InferlogError } from '../errors.js'
import type { EventFilter, FeedbackFilter } from '../store/store.js'
import { PAGE_LIMITS } from './read-service.js'

type Query = Record<string, string | undefined>

/** RFC 3339 time or epoch milliseconds → epoch ms. */
export function parseTime(name: string, v: string): number {
  const ms = /^-?\d+$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isFinite(ms))
    throw new InferlogError('invalid_parameter', `${name} must be an RFC 3339 time or epoch milliseconds, got ${JSON.stringify(v)}`)
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
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > PAGE_LIMITS.max) {
    throw new InferlogError('invalid_parameter', `limit must be an integer 1..${PAGE_LIMITS.max}, got ${JSON.stringify(v)}`)
  }
  return n
}

/** Query parameters of `GET /v1/events` → filter. Unknown parameters are refused (typo safety). */
export function parseEventFilter(q: Query): EventFilter {
  const known = [
    'model',
    'version',
    'stage',
    'status',
    'from',
    'to',
    'session_id',
    'user_id',
    'arm',
    'has_feedback',
    'feedback',
    'limit',
    'cursor',
  ]
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
