/** Look-up keys kept in `event_keys`, by column. */
export const LOOKUP_KINDS = [
  { kind: 1, column: 'session_id', filter: 'sessionId' },
  { kind: 2, column: 'user_id', filter: 'userId' },
  { kind: 3, column: 'arm', filter: 'arm' },
] as const

/** Rows indexed per look-up pass (bounds how long one pass holds the connection). */
export const LOOKUP_CHUNK = 20_000
