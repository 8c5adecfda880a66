import type { IngestReply, ItemRejection } from '@inferlog/schema'
import type { Validator } from '@inferlog/schema/validate'
import type { LimitsConfig } from '../config.js'
import { InferlogError } from '../errors.js'
import type { ServerMetrics } from '../metrics.js'
import type { WriteOutcome } from '../store/store.js'
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
    const ctx = { project, receivedMs: this.now(), maxItemBytes: limits.maxEventBytes, maxFutureSkewMs: limits.maxFutureSkewMs, validator }
    const prepared: Prepared<unknown> = kind === 'event' ? prepareEvents(items, ctx) : prepareFeedback(items, ctx)
    const records = prepared.records
    const result = await queue.submit(
      kind === 'event'
        ? { events: records.map((r) => r.record) as never, feedback: [] }
        : { events: [], feedback: records.map((r) => r.record) as never },
    )
    const outcomes: WriteOutcome[] = kind === 'event' ? result.events : result.feedback
    const reply: IngestReply = { accepted: 0, duplicates: 0, ids: prepared.ids, rejected: prepared.rejected }
    const conflicts: ItemRejection[] = []
    for (let i = 0; i < records.length; i++) {
      const { index, record } = records[i]!
      const id = (record as { id: string }).id
      const outcome = outcomes[i]
      if (outcome === 'inserted') {
        reply.accepted++
        reply.ids[index] = id
      } else if (outcome === 'duplicate') {
        reply.duplicates++
        reply.ids[index] = id
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
