import type { IngestReply, ItemRejection, Redactor } from '@inferlog/schema'
import type { Validator } from '@inferlog/schema/validate'
import type { LimitsConfig } from '../config.js'
import { InferlogError } from '../errors.js'
import type { ServerMetrics } from '../metrics.js'
import type { ErasedGuard } from '../privacy/erased-guard.js'
import type { EventRecord, FeedbackRecord, WriteOutcome } from '../store/store.js'
import type { ParsedItem } from './parse-items.js'
import { prepareEvents, prepareFeedback, type Prepared } from './prepare-items.js'
import type { WriteQueue } from './write-queue.js'

/** What {@link IngestService} needs. */
export interface IngestServiceDeps {
  queue: WriteQueue
  validator: Validator
  limits: LimitsConfig
  /** Epoch-ms clock. Default `Date.now`. */
  now?: () => number
  metrics?: ServerMetrics
  /**
   * Asked before the group commit which items are erased (or refer to an erased event), so they
   * are refused without being written. Only needed when the writer is a queue; a store refuses
   * them itself at commit. Default none.
   */
  erased?: ErasedGuard
  /** Each project's server-side redaction (rules set through `PUT /v1/redaction`). Default none. */
  redaction?: { redactorFor(project: string): Promise<Redactor | undefined> }
}

/** Which record an ingest call carries. */
export type IngestKind = 'event' | 'feedback'

/**
 * The ingest pipeline shared by every entry point (HTTP, CLI, SDK direct-to-store): validate
 * per item → canonicalize → group commit → per-item reply.
 */
export class IngestService {
  private readonly now: () => number

  constructor(private readonly deps: IngestServiceDeps) {
    this.now = deps.now ?? Date.now
  }

  /** Ingests parsed items for one project; resolves after the commit that holds them. */
  async ingest(kind: IngestKind, project: string, items: ParsedItem[]): Promise<IngestReply> {
    const { limits, validator, queue } = this.deps
    if (items.length > limits.maxBatchItems) {
      throw new InferlogError('too_many_items', `request holds ${items.length} items; the limit is ${limits.maxBatchItems}`)
    }
    const redactor = await this.deps.redaction?.redactorFor(project)
    const ctx = {
      project,
      receivedMs: this.now(),
      maxItemBytes: limits.maxEventBytes,
      maxFutureSkewMs: limits.maxFutureSkewMs,
      validator,
      ...(redactor ? { redactor } : {}),
    }
    const prepared: Prepared<unknown> = kind === 'event' ? prepareEvents(items, ctx) : prepareFeedback(items, ctx)
    let records = prepared.records
    const refused: { index: number; record: unknown }[] = []
    if (this.deps.erased && records.length > 0) {
      const gone =
        kind === 'event'
          ? await this.deps.erased.events(project, records.map((r) => r.record) as EventRecord[])
          : await this.deps.erased.feedback(project, records.map((r) => r.record) as FeedbackRecord[])
      if (gone.size > 0) {
        for (const i of gone) refused.push(records[i]!)
        records = records.filter((_, i) => !gone.has(i))
      }
    }
    const result = await queue.submit(
      kind === 'event'
        ? { events: records.map((r) => r.record) as never, feedback: [] }
        : { events: [], feedback: records.map((r) => r.record) as never },
    )
    const outcomes: WriteOutcome[] = kind === 'event' ? result.events : result.feedback
    const reply: IngestReply = { accepted: 0, duplicates: 0, ids: prepared.ids, rejected: prepared.rejected }
    const conflicts: ItemRejection[] = []
    const settled: { index: number; record: unknown; outcome: WriteOutcome | undefined }[] = records.map((r, i) => ({
      ...r,
      outcome: outcomes[i],
    }))
    for (const r of refused) settled.push({ ...r, outcome: 'erased' })
    for (const { index, record, outcome } of settled) {
      const id = (record as { id: string }).id
      if (outcome === 'inserted') {
        reply.accepted++
        reply.ids[index] = id
      } else if (outcome === 'duplicate') {
        reply.duplicates++
        reply.ids[index] = id
      } else if (outcome === 'erased') {
        conflicts.push({
          index,
          id,
          code: 'erased',
          message:
            kind === 'event'
              ? `event ${JSON.stringify(id)} (or the event it shadows) was erased; it is not stored again`
              : `feedback ${JSON.stringify(id)} (or the event it is about) was erased; it is not stored`,
        })
      } else if (outcome === 'rejected') {
        conflicts.push({
          index,
          id,
          code: 'store_rejected',
          message: `the store refused this ${kind}'s data; the rest of the request was stored`,
        })
      } else {
        conflicts.push({
          index,
          id,
          code: 'conflict',
          message: `a different ${kind} with id ${JSON.stringify(id)} is already stored; it was left unchanged`,
        })
      }
    }
    if (conflicts.length > 0) {
      reply.rejected = [...reply.rejected, ...conflicts].sort((a, b) => a.index - b.index)
    }
    const m = this.deps.metrics
    if (m) {
      if (reply.accepted) m.ingestItems.inc({ kind, outcome: 'inserted' }, reply.accepted)
      if (reply.duplicates) m.ingestItems.inc({ kind, outcome: 'duplicate' }, reply.duplicates)
      for (const r of reply.rejected) m.ingestItems.inc({ kind, outcome: r.code })
    }
    return reply
  }
}
