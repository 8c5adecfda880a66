import type { JoinedChunk, SourceEvent, SourceFeedback } from '@inferlog/datasets'

/**
 * A {@link JoinedChunk} as one structured-clone message between threads: each text column an
 * array of strings and the numbers in one typed array (transferred, not copied), instead of one
 * object per row, which costs the receiving thread about twice as much to rebuild. Each string
 * stays its own string (not a slice of one joined text), so a value a build keeps, such as a label
 * key, never holds a whole chunk in memory.
 */
export interface PackedChunk {
  eventIds: string[]
  bodies: string[]
  feedbackIds: string[]
  feedbackEventIds: string[]
  names: string[]
  feedbackBodies: string[]
  /** Per event: batch, seq, tsMs; then per feedback item: batch, seq, tsMs, eventIndex (-1: none). */
  numbers: Float64Array
}

/** Packs a chunk for `postMessage` (transfer `numbers.buffer`). */
export function packChunk(chunk: JoinedChunk): PackedChunk {
  const { events, feedback } = chunk
  const numbers = new Float64Array(events.length * 3 + feedback.length * 4)
  let n = 0
  const eventIds = new Array<string>(events.length)
  const bodies = new Array<string>(events.length)
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!
    eventIds[i] = e.id
    bodies[i] = e.body
    numbers[n++] = e.batch
    numbers[n++] = e.seq
    numbers[n++] = e.tsMs
  }
  const m = feedback.length
  const feedbackIds = new Array<string>(m)
  const feedbackEventIds = new Array<string>(m)
  const names = new Array<string>(m)
  const feedbackBodies = new Array<string>(m)
  for (let i = 0; i < m; i++) {
    const f = feedback[i]!
    feedbackIds[i] = f.id
    feedbackEventIds[i] = f.eventId
    names[i] = f.name
    feedbackBodies[i] = f.body
    numbers[n++] = f.batch
    numbers[n++] = f.seq
    numbers[n++] = f.tsMs
    numbers[n++] = f.eventIndex ?? -1
  }
  return { eventIds, bodies, feedbackIds, feedbackEventIds, names, feedbackBodies, numbers }
}

/** The chunk {@link packChunk} packed. */
export function unpackChunk(p: PackedChunk): JoinedChunk {
  const { numbers } = p
  const k = p.eventIds.length
  const events = new Array<SourceEvent>(k)
  for (let i = 0; i < k; i++) {
    events[i] = { id: p.eventIds[i]!, batch: numbers[3 * i]!, seq: numbers[3 * i + 1]!, tsMs: numbers[3 * i + 2]!, body: p.bodies[i]! }
  }
  const m = p.feedbackIds.length
  const feedback = new Array<SourceFeedback>(m)
  for (let i = 0; i < m; i++) {
    const o = 3 * k + 4 * i
    const f: SourceFeedback = {
      id: p.feedbackIds[i]!,
      eventId: p.feedbackEventIds[i]!,
      name: p.names[i]!,
      batch: numbers[o]!,
      seq: numbers[o + 1]!,
      tsMs: numbers[o + 2]!,
      body: p.feedbackBodies[i]!,
    }
    const at = numbers[o + 3]!
    if (at >= 0) f.eventIndex = at
    feedback[i] = f
  }
  return { events, feedback }
}
