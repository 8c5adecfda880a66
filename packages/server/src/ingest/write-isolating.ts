import type { EventLogWriter, WriteBatch, WriteOutcome, WriteResult } from '../store/store.js'

/** An item the store refused as data, with the store's reason. */
export interface RefusedItem {
  kind: 'event' | 'feedback'
  /** Index in the batch's `events` or `feedback` array. */
  index: number
  error: unknown
}

function size(b: WriteBatch): number {
  return b.events.length + b.feedback.length
}

/** Splits a batch into two halves, items kept in order (events first, then feedback). */
function halves(b: WriteBatch): [WriteBatch, WriteBatch] {
  const n = size(b)
  const cut = Math.floor(n / 2)
  if (cut <= b.events.length) {
    return [
      { events: b.events.slice(0, cut), feedback: [] },
      { events: b.events.slice(cut), feedback: b.feedback },
    ]
  }
  const f = cut - b.events.length
  return [
    { events: b.events, feedback: b.feedback.slice(0, f) },
    { events: [], feedback: b.feedback.slice(f) },
  ]
}

/**
 * Writes a batch; when the store refuses it because of the data (not an outage), finds the items
 * at fault by bisection (each half in its own transaction), stores every other item, and marks
 * the culprits `rejected`. A store fault is thrown unchanged (the caller retries or answers 503).
 * One bad item therefore costs its neighbours a few extra transactions, never their write.
 */
export async function writeIsolating(
  writer: EventLogWriter,
  batch: WriteBatch,
  onRefused: (item: RefusedItem) => void = () => undefined,
): Promise<WriteResult> {
  try {
    return await writer.writeBatch(batch)
  } catch (e) {
    if (!writer.isDataError(e)) throw e
    if (size(batch) === 1) {
      const kind = batch.events.length === 1 ? 'event' : 'feedback'
      onRefused({ kind, index: 0, error: e })
      const rejected: WriteOutcome[] = ['rejected']
      return { batchSeq: 0, events: kind === 'event' ? rejected : [], feedback: kind === 'feedback' ? rejected : [] }
    }
    const [a, b] = halves(batch)
    const ra = await writeIsolating(writer, a, onRefused)
    const rb = await writeIsolating(writer, b, (item) =>
      onRefused({ ...item, index: item.index + (item.kind === 'event' ? a.events.length : a.feedback.length) }),
    )
    return {
      batchSeq: Math.max(ra.batchSeq, rb.batchSeq),
      events: [...ra.events, ...rb.events],
      feedback: [...ra.feedback, ...rb.feedback],
    }
  }
}
