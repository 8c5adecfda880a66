import { EVENT_FILTER_KEYS } from '@inferlog/schema'
import { InferlogError } from '../errors.js'
import type { EventFilter } from '../store/store.js'
import { parseTime } from './parse-query.js'

/** Keys of a FILTER object (DESIGN.md: the `GET /v1/events` filters; `version` may be a list). */
export const FILTER_KEYS = EVENT_FILTER_KEYS

/**
 * Parses a FILTER given in a JSON body (`POST /v1/compare`, `/v1/drift`, dataset `select`):
 * strings for the string filters, `version` a string or a list of strings, `from`/`to` RFC 3339
 * or epoch ms, `has_feedback` a boolean. `where` names the place for error messages (e.g. `a`).
 * Keys in `extra` are left to the caller; anything else is `invalid_parameter`.
 */
export function parseFilterObject(value: unknown, where: string, extra: readonly string[] = []): EventFilter {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InferlogError('invalid_parameter', `${where} must be a filter object such as {"model": "churn-clf", "from": "2026-11-01"}`)
  }
  const o = value as Record<string, unknown>
  const f: EventFilter = {}
  const str = (k: string): string | undefined => {
    const v = o[k]
    if (v === undefined) return undefined
    if (typeof v !== 'string' || v.length === 0) throw new InferlogError('invalid_parameter', `${where}.${k} must be a non-empty string`)
    return v
  }
  const time = (k: string): number | undefined => {
    const v = o[k]
    if (v === undefined) return undefined
    if (typeof v === 'number' && Number.isFinite(v)) return v
    if (typeof v === 'string') return parseTime(`${where}.${k}`, v)
    throw new InferlogError('invalid_parameter', `${where}.${k} must be an RFC 3339 time or epoch milliseconds`)
  }
  for (const k of Object.keys(o)) {
    if (!(FILTER_KEYS as readonly string[]).includes(k) && !extra.includes(k)) {
      throw new InferlogError('invalid_parameter', `unknown filter key ${where}.${k}; known: ${FILTER_KEYS.join(', ')}`)
    }
  }
  const set = <K extends keyof EventFilter>(k: K, v: EventFilter[K] | undefined) => {
    if (v !== undefined) f[k] = v
  }
  set('model', str('model'))
  const version = o.version
  if (Array.isArray(version)) {
    if (version.length === 0 || !version.every((v) => typeof v === 'string')) {
      throw new InferlogError('invalid_parameter', `${where}.version must be a string or a non-empty list of strings`)
    }
    f.versions = version as string[]
  } else set('version', str('version'))
  set('stage', str('stage'))
  set('status', str('status'))
  set('sessionId', str('session_id'))
  set('userId', str('user_id'))
  set('arm', str('arm'))
  set('feedbackName', str('feedback'))
  set('fromMs', time('from'))
  set('toMs', time('to'))
  if (o.has_feedback !== undefined) {
    if (typeof o.has_feedback !== 'boolean') throw new InferlogError('invalid_parameter', `${where}.has_feedback must be true or false`)
    f.hasFeedback = o.has_feedback
  }
  if (f.fromMs !== undefined && f.toMs !== undefined && !(f.fromMs < f.toMs)) {
    throw new InferlogError('invalid_parameter', `${where}.from must be before ${where}.to`)
  }
  return f
}
