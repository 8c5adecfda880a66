import type { Logger } from '../logging/logger.js'
import type { EventRecord, FeedbackRecord, Store } from '../store/store.js'

/**
 * The collector's check against erased ids when it does not write the log itself (scale-out: it
 * publishes to a queue and a worker writes). The store refuses such items at write time anyway,
 * but by then the client has its reply; asking here lets the reply say `erased`. One tombstone
 * look-up (primary key) per record kind per request.
 *
 * When the store cannot be asked (PostgreSQL down while the queue takes the load), the items go
 * on to the queue unchecked: the worker's write refuses erased ones, so the guard only improves
 * the reply and must never make ingest depend on the store. One warning a minute at most.
 */
export class ErasedGuard {
  private warnedMs = Number.NEGATIVE_INFINITY

  constructor(
    private readonly store: Pick<Store, 'tombstonesOf'>,
    private readonly o: { logger?: Logger; now?: () => number } = {},
  ) {}

  /** Positions (in `records`) of events that are erased or shadow an erased event. */
  async events(project: string, records: readonly EventRecord[]): Promise<Set<number>> {
    const ids = new Set<string>()
    for (const r of records) {
      ids.add(r.id)
      if (r.shadowOf !== null) ids.add(r.shadowOf)
    }
    const gone = await this.erased('event', project, [...ids])
    const out = new Set<number>()
    records.forEach((r, i) => {
      if (gone.has(r.id) || (r.shadowOf !== null && gone.has(r.shadowOf))) out.add(i)
    })
    return out
  }

  /** Positions of feedback items that are erased or belong to an erased event. */
  async feedback(project: string, records: readonly FeedbackRecord[]): Promise<Set<number>> {
    const [own, events] = await Promise.all([
      this.erased(
        'feedback',
        project,
        records.map((r) => r.id),
      ),
      this.erased('event', project, [...new Set(records.map((r) => r.eventId))]),
    ])
    const out = new Set<number>()
    records.forEach((r, i) => {
      if (own.has(r.id) || events.has(r.eventId)) out.add(i)
    })
    return out
  }

  private async erased(kind: 'event' | 'feedback', project: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    try {
      return new Set((await this.store.tombstonesOf(kind, project, ids)).map((t) => t.id))
    } catch (e) {
      const now = (this.o.now ?? Date.now)()
      if (now - this.warnedMs >= 60_000) {
        this.warnedMs = now
        this.o.logger?.warn(`erasure check skipped, the store cannot be read (workers still refuse erased items): ${(e as Error).message}`)
      }
      return new Set()
    }
  }
}
