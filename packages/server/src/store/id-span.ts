/**
 * Feedback of many events by id range. A scan hands out events in commit order, and ids that
 * grow with time (UUIDv7, ULIDs, counters) make one chunk's ids a narrow range of the id index:
 * walking that range once is cheaper than one index probe per id (and, on PostgreSQL, than the
 * set-up of an `= ANY(array)` scan over a thousand keys). Ids in any other order make the range
 * span the log; the stores then count the events in it from the index alone (bounded by
 * {@link spanLimit}) and go back to one probe per id.
 */

/** Most events the id range may hold per id looked up before the range is not worth walking. Default 3. */
export const SPAN_FACTOR = 3

/** A character whose UTF-16 order differs from its UTF-8 byte order (a surrogate or U+E000 and above). */
const WIDE = /[\uD800-\uFFFF]/

/** The smallest and the largest id, in the stores' byte order (UTF-8, `COLLATE "C"` / SQLite BINARY). */
export interface IdSpan {
  lo: string
  hi: string
  /** Whether the ids are strictly increasing in the order given (found by the same comparisons). */
  increasing: boolean
}

/**
 * The range of `ids`, or `undefined` when there are too few ids to gain anything or one of them
 * holds a character whose UTF-16 order differs from its UTF-8 byte order (U+D800 and above).
 */
export function idSpan(ids: readonly string[], minIds = 16): IdSpan | undefined {
  if (ids.length < minIds) return undefined
  let lo = ids[0]!
  let hi = lo
  let increasing = true
  if (WIDE.test(lo)) return undefined
  for (let k = 1; k < ids.length; k++) {
    const id = ids[k]!
    // A regular expression, not a loop over the characters: V8 answers it without reading a
    // string that holds only one-byte characters (most ids), which a class above U+00FF cannot match.
    if (WIDE.test(id)) return undefined
    // Each id above the highest so far: increasing (no comparison more than the range needs).
    if (id > hi) hi = id
    else {
      increasing = false
      if (id < lo) lo = id
    }
  }
  return { lo, hi, increasing }
}

/** How many events a range may hold for `ids` look-ups before a store probes id by id instead. */
export function spanLimit(ids: number): number {
  return ids * SPAN_FACTOR + 16
}
