/**
 * The filter parameters of `GET /v1/events` (DESIGN.md, public contract), which are also the keys
 * of a FILTER object in the read-side bodies (`POST /v1/compare`, `/v1/drift`, a dataset's
 * `select`), in the order clients show them. `version` may be repeated (a list), `from`/`to` are
 * times, `has_feedback` is a boolean; the rest are strings. Paging (`limit`, `cursor`) is not a
 * filter.
 */
export const EVENT_FILTER_KEYS = [
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
] as const

/** One of {@link EVENT_FILTER_KEYS}. */
export type EventFilterKey = (typeof EVENT_FILTER_KEYS)[number]
