import { EVENT_FILTER_KEYS } from '@inferlog/schema/event-filters'

/**
 * The filter parameters of `GET /v1/events` in the order the explorer shows them: the schema's
 * list (the server parses the same one), so a new filter reaches the explorer's URL and forms.
 */
export const EVENT_FILTERS = EVENT_FILTER_KEYS

export type EventFilterName = (typeof EVENT_FILTERS)[number]
export type EventFilterValues = Partial<Record<EventFilterName, string>>

/** The explorer's state in its URL: every filter, `limit` and `cursor` (keyset pagination). */
export interface ExplorerQuery {
  filters: EventFilterValues
  limit: number | undefined
  cursor: string | undefined
}

/** Reads the explorer's URL query; unknown keys are ignored, empty values dropped, limit kept in 1..1000. */
export function readExplorerQuery(q: URLSearchParams): ExplorerQuery {
  const filters: EventFilterValues = {}
  for (const k of EVENT_FILTERS) {
    const v = q.get(k)
    if (v !== null && v.trim() !== '') filters[k] = v.trim()
  }
  const n = Number(q.get('limit'))
  const limit = Number.isInteger(n) && n >= 1 && n <= 1000 ? n : undefined
  const cursor = q.get('cursor') || undefined
  return { filters, limit, cursor }
}

/** The URL query of an explorer state (stable key order, so equal states are equal links). */
export function explorerSearch(s: ExplorerQuery): string {
  const q = new URLSearchParams()
  for (const k of EVENT_FILTERS) {
    const v = s.filters[k]
    if (v !== undefined && v !== '') q.set(k, v)
  }
  if (s.limit !== undefined && s.limit !== 50) q.set('limit', String(s.limit))
  if (s.cursor) q.set('cursor', s.cursor)
  const t = q.toString()
  return t ? `?${t}` : ''
}

/** A FILTER object for the read-side POST bodies (drift, compare, datasets) from filter values. */
export function filterObject(f: EventFilterValues): Record<string, string | boolean> {
  const o: Record<string, string | boolean> = {}
  for (const k of EVENT_FILTERS) {
    const v = f[k]
    if (v === undefined || v === '') continue
    o[k] = k === 'has_feedback' ? v === 'true' || v === '1' : v
  }
  return o
}
