/** A small labelled log for the dataset build conformance suites (no tests of its own). */
import { eventRecord, feedbackRecord } from '../store/store-conformance.test-suite.js'
import type { Store } from '../store/store.js'

const T0 = Date.UTC(2026, 10, 1)

/** Shape of {@link writeLabelledLog}'s log. */
export interface LabelledLogShape {
  /** Batches that hold events. */
  batches: number
  /** Events per batch. */
  perBatch: number
  /** The numeric input `x` of event `i` (its region follows it, so equal x means an equal input). */
  x: (i: number) => number
  /** The first label's value for event `i`. */
  firstLabel: (i: number) => boolean
  /** Whether one more batch of only feedback labels the last events batch. */
  trailingFeedback: boolean
}

/**
 * Committed batches of events of models `m` and `other` (every fifth), 13 sessions, each batch also
 * labelling the previous one's events: most once, every tenth (`i % 10 === 8`) twice, every tenth
 * (`i % 10 === 9`) never; labels come a minute (the second two minutes) after their event.
 */
export async function writeLabelledLog(store: Store, shape: LabelledLogShape): Promise<void> {
  const n = shape.perBatch
  for (let b = 0; b < shape.batches + (shape.trailingFeedback ? 1 : 0); b++) {
    const events =
      b >= shape.batches
        ? []
        : Array.from({ length: n }, (_, k) => {
            const i = b * n + k
            const x = shape.x(i)
            return eventRecord(
              { id: `e${String(i).padStart(4, '0')}`, tsMs: T0 + i * 1000, model: i % 5 === 0 ? 'other' : 'm', sessionId: `s${i % 13}` },
              { input: { x, region: x % 3 === 0 ? 'eu' : 'us', text: `é ${'abc'.repeat(i % 7)}` }, trace: { session_id: `s${i % 13}` } },
            )
          })
    const feedback =
      b === 0
        ? []
        : Array.from({ length: n }, (_, k) => (b - 1) * n + k)
            .filter((i) => i % 10 !== 9)
            .flatMap((i) => {
              const id = `e${String(i).padStart(4, '0')}`
              const first = feedbackRecord({ id: `f${i}`, eventId: id, name: 'label', tsMs: T0 + i * 1000 + 60_000 }, shape.firstLabel(i))
              return i % 10 === 8
                ? [first, feedbackRecord({ id: `g${i}`, eventId: id, name: 'label', tsMs: T0 + i * 1000 + 120_000 }, i % 2 !== 0)]
                : [first]
            })
    await store.writeBatch({ events, feedback })
  }
}
