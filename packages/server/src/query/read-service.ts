import type { FeedbackItem, InferenceEvent } from '@inferlog/schema'
import { InferlogError } from '../errors.js'
import type { EventFilter, FeedbackFilter, Store, StoredRow } from '../store/store.js'
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.js'

/** `GET /v1/events/{id}`. */
export interface EventDetail {
  event: InferenceEvent
  feedback: FeedbackItem[]
  shadows: InferenceEvent[]
}

/** One page of a list endpoint. */
export interface ListReply<T> {
  items: T[]
  next_cursor: string | null
}

/** Default and maximum page sizes of list endpoints. */
export const PAGE_LIMITS = { default: 50, max: 1000 } as const

/**
 * Turns a stored row into the record as a client sees it. The stored body is exactly what the
 * client sent (plus an assigned id); defaults that the client left out (`ts` = receipt time) are
 * filled here, on read, so that re-sending the same item stays a duplicate.
 */
export function materializeEvent(row: StoredRow): InferenceEvent {
  const e = JSON.parse(row.body) as InferenceEvent
  if (e.ts === undefined) e.ts = new Date(row.receivedMs).toISOString()
  return e
}

/** As {@link materializeEvent}, for feedback (`ts` = receipt time, `kind` = `explicit`). */
export function materializeFeedback(row: StoredRow): FeedbackItem {
  const f = JSON.parse(row.body) as FeedbackItem
  if (f.ts === undefined) f.ts = new Date(row.receivedMs).toISOString()
  if (f.kind === undefined) f.kind = 'explicit'
  return f
}

/** Read side of the API: event with its joined feedback and shadows, and keyset-paginated lists. */
export class ReadService {
  constructor(private readonly store: Store) {}

  async event(project: string, id: string): Promise<EventDetail> {
    const row = await this.store.getEvent(project, id)
    if (!row) throw await this.missing(project, id)
    const [feedback, shadows] = await Promise.all([this.store.feedbackForEvent(project, id), this.store.shadowsOf(project, id)])
    return { event: materializeEvent(row), feedback: feedback.map(materializeFeedback), shadows: shadows.map(materializeEvent) }
  }

  /**
   * The error for an event id with no row: 410 `erased` when erasure or retention removed it
   * (naming the audit record that did), else 404 `not_found`.
   */
  async missing(project: string, id: string): Promise<InferlogError> {
    const [t] = await this.store.tombstonesOf('event', project, [id])
    if (t) {
      return new InferlogError('erased', `event ${JSON.stringify(id)} was erased (audit record ${t.record})`, {
        details: { record: t.record },
      })
    }
    return new InferlogError('not_found', `no event with id ${JSON.stringify(id)}`)
  }

  async events(project: string, filter: EventFilter, limit: number, cursor?: string): Promise<ListReply<InferenceEvent>> {
    const fp = queryFingerprint('events', filter)
    const page = await this.store.listEvents(project, filter, limit, cursor === undefined ? undefined : decodeCursor(cursor, fp))
    return { items: page.rows.map(materializeEvent), next_cursor: page.next && encodeCursor(page.next, fp) }
  }

  async feedback(project: string, filter: FeedbackFilter, limit: number, cursor?: string): Promise<ListReply<FeedbackItem>> {
    const fp = queryFingerprint('feedback', filter)
    const page = await this.store.listFeedback(project, filter, limit, cursor === undefined ? undefined : decodeCursor(cursor, fp))
    return { items: page.rows.map(materializeFeedback), next_cursor: page.next && encodeCursor(page.next, fp) }
  }
}
