import { uuidv7 } from '@inferlog/schema'
import { InferlogError } from '../errors.js'
import type { EventFilter, LoggedEvent, LoggedFeedback, Store } from '../store/store.js'
import type { AuditActor, AuditRecordInput } from '../audit/audit-records.js'
import type { Tombstone } from '../store/store.js'
import { type ErasureRequest, type ErasureSelector, selectorKind } from './erasure-request.js'
import { pseudonymizeUserId } from './pseudonymize.js'

/** Appends an administrative record to the audit chain (`appendAuditRecord` bound to a store). */
export type AppendAudit = (input: AuditRecordInput) => Promise<{ id: string; batchSeq: number; tsMs: number }>

/** The audit chain's leaf hash (hex) of a row as stored. */
export type LeafOf = (kind: 'event' | 'feedback', row: LoggedEvent | LoggedFeedback) => string

/** The parts of a store an erasure uses. */
export type ErasureStore = Pick<Store, 'commitHead' | 'scanEvents' | 'eventsByIds' | 'shadowsFor' | 'feedbackForEvents' | 'erasureWrites'>

/** Options of {@link ErasureService}. */
export interface ErasureServiceOptions {
  store: ErasureStore
  appendAudit: AppendAudit
  leaf: LeafOf
  /** The SDK's pseudonymization secret: a `user_id` selector then matches its HMAC too. Default none. */
  pseudonymizeSecret?: string
  /** More matching events than this need `confirm`. Default 1 000. */
  confirmThreshold?: number
  /** Most rows (events and feedback) one audit record removes; bigger erasures write several. Default 10 000. */
  rowsPerRecord?: number
  /** Told the ids of erased events and the (last) audit record after each erasure (to purge dataset files). Default none. */
  onErased?: (project: string, eventIds: readonly string[], record: string) => Promise<void>
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number
}

/** Reply of an erasure (`POST /v1/erasure`). */
export interface ErasureReport {
  /** Rows removed (for a dry run: that would be removed). */
  erased: { events: number; feedback: number }
  /** The (last) audit record written; `null` for a dry run. */
  record: { id: string; batch: number; at: string } | null
  /** Every record written, when the erasure needed more than one. */
  records?: string[]
  dry_run?: true
}

const ID_CHUNK = 1_000

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size)
}

/**
 * Privacy erasure: finds the events of a user, a session or a list of ids (with the shadow and
 * replay events that mirror them), removes them and their feedback from the log, and writes who,
 * when, why and how many as a chained audit record holding each removed row's leaf hash. Reads
 * then answer 410 `erased` for those ids, and ingest refuses them.
 */
export class ErasureService {
  private readonly threshold: number
  private readonly perRecord: number
  private readonly now: () => number

  constructor(private readonly o: ErasureServiceOptions) {
    this.threshold = o.confirmThreshold ?? 1_000
    this.perRecord = o.rowsPerRecord ?? 10_000
    this.now = o.now ?? Date.now
  }

  /** Runs one erasure request for `project` on behalf of `actor`. */
  async erase(project: string, req: ErasureRequest, actor: AuditActor): Promise<ErasureReport> {
    const { store } = this.o
    const head = await store.commitHead()
    const ids = await this.match(project, req.selector, head)
    if (ids.length > this.threshold && !req.confirm && !req.dryRun) {
      throw new InferlogError(
        'confirmation_required',
        `${ids.length} events match, more than the confirmation threshold of ${this.threshold}; ` +
          'confirm to erase them ("confirm": true, inferlog erase --yes)',
        { details: { events: ids.length, threshold: this.threshold } },
      )
    }
    if (req.dryRun) {
      let feedback = 0
      for (const part of chunks(ids, ID_CHUNK)) feedback += (await store.feedbackForEvents(project, part, head)).length
      return { erased: { events: ids.length, feedback }, record: null, dry_run: true }
    }
    const operation = uuidv7()
    const written: { id: string; batchSeq: number; tsMs: number }[] = []
    const erased = { events: 0, feedback: 0 }
    const base = { project, actor, reason: req.reason, selector: selectorKind(req.selector), operation }
    // Events (with their feedback) in parts, then a sweep for feedback and shadows that arrived meanwhile.
    for (const part of chunks(ids, Math.max(1, Math.floor(this.perRecord / 4)))) {
      const events = await store.eventsByIds(project, part)
      const feedback = await store.feedbackForEvents(project, part, await store.commitHead())
      await this.remove(base, events, feedback, erased, written)
    }
    for (;;) {
      const late = await this.stragglers(project, ids)
      if (late.events.length === 0 && late.feedback.length === 0) break
      for (const e of late.events) ids.push(e.id)
      await this.remove(base, late.events, late.feedback, erased, written)
    }
    if (written.length === 0) {
      // Nothing matched: the request is still on record.
      written.push(await this.o.appendAudit(this.draft(base, [], [], 0, 0)))
    }
    const last = written[written.length - 1]!
    if (ids.length > 0) await this.o.onErased?.(project, ids, last.id)
    return {
      erased,
      record: { id: last.id, batch: last.batchSeq, at: new Date(last.tsMs).toISOString() },
      ...(written.length > 1 ? { records: written.map((r) => r.id) } : {}),
    }
  }

  /** Ids of the events a selector names as of `head`, with the shadows that mirror them (transitively). */
  private async match(project: string, selector: ErasureSelector, head: number): Promise<string[]> {
    const { store } = this.o
    const found = new Set<string>()
    if ('ids' in selector) {
      for (const part of chunks(selector.ids, ID_CHUNK)) {
        for (const e of await store.eventsByIds(project, part)) if (e.batch <= head) found.add(e.id)
      }
    } else {
      const filters: EventFilter[] =
        'userId' in selector
          ? [
              { userId: selector.userId },
              ...(this.o.pseudonymizeSecret ? [{ userId: pseudonymizeUserId(this.o.pseudonymizeSecret, selector.userId) }] : []),
            ]
          : [{ sessionId: selector.sessionId }]
      for (const filter of filters) {
        for await (const rows of store.scanEvents(project, filter, { upTo: head }, 5_000)) for (const e of rows) found.add(e.id)
      }
    }
    let frontier = [...found]
    while (frontier.length > 0) {
      const next: string[] = []
      for (const part of chunks(frontier, ID_CHUNK)) {
        for (const s of await store.shadowsFor(project, part, head)) {
          if (!found.has(s.id)) {
            found.add(s.id)
            next.push(s.id)
          }
        }
      }
      frontier = next
    }
    return [...found]
  }

  /** Feedback and shadows of erased events that were committed while the erasure ran. */
  private async stragglers(project: string, ids: readonly string[]): Promise<{ events: LoggedEvent[]; feedback: LoggedFeedback[] }> {
    const { store } = this.o
    const head = await store.commitHead()
    const events: LoggedEvent[] = []
    const feedback: LoggedFeedback[] = []
    for (const part of chunks(ids, ID_CHUNK)) {
      events.push(...(await store.shadowsFor(project, part, head)))
      feedback.push(...(await store.feedbackForEvents(project, part, head)))
    }
    const known = new Set(ids)
    const fresh = events.filter((e) => !known.has(e.id))
    if (fresh.length > 0)
      feedback.push(
        ...(await store.feedbackForEvents(
          project,
          fresh.map((e) => e.id),
          head,
        )),
      )
    return { events: fresh, feedback }
  }

  /** Removes rows in records of at most `rowsPerRecord` rows each. */
  private async remove(
    base: { project: string; actor: AuditActor; reason: string; selector: string; operation: string },
    events: readonly LoggedEvent[],
    feedback: readonly LoggedFeedback[],
    erased: { events: number; feedback: number },
    written: { id: string; batchSeq: number; tsMs: number }[],
  ): Promise<void> {
    const rows: ({ kind: 'event'; row: LoggedEvent } | { kind: 'feedback'; row: LoggedFeedback })[] = [
      ...events.map((row) => ({ kind: 'event' as const, row })),
      ...feedback.map((row) => ({ kind: 'feedback' as const, row })),
    ]
    for (const part of chunks(rows, this.perRecord)) {
      const es = part.filter((r) => r.kind === 'event').map((r) => r.row as LoggedEvent)
      const fs = part.filter((r) => r.kind === 'feedback').map((r) => r.row as LoggedFeedback)
      written.push(await this.o.appendAudit(this.draft(base, es, fs, es.length, fs.length)))
      erased.events += es.length
      erased.feedback += fs.length
    }
  }

  private draft(
    base: { project: string; actor: AuditActor; reason: string; selector: string; operation: string },
    events: readonly LoggedEvent[],
    feedback: readonly LoggedFeedback[],
    nEvents: number,
    nFeedback: number,
  ): AuditRecordInput {
    const { project } = base
    const tombstones: Tombstone[] = [
      ...events.map((e) => ({ kind: 'event' as const, project, id: e.id, batch: e.batch, leaf: this.o.leaf('event', e) })),
      ...feedback.map((f) => ({ kind: 'feedback' as const, project, id: f.id, batch: f.batch, leaf: this.o.leaf('feedback', f) })),
    ]
    const refs = tombstones.map((t) => ({ kind: t.kind, id: t.id }))
    return {
      project,
      type: 'erasure',
      actor: base.actor,
      reason: base.reason,
      counts: { events: nEvents, feedback: nFeedback },
      // The selector's kind only: its value is the personal data being erased.
      details: { selector: base.selector, operation: base.operation },
      tombstones,
      writes: refs.length > 0 ? this.o.store.erasureWrites(project, refs) : [],
      nowMs: this.now(),
    }
  }
}
