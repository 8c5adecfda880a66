import { fromLabelStudio, type ReviewCandidate, type ReviewStrategy, selectForReview, toLabelStudioTasks } from '@inferlog/datasets'
import type { IngestReply } from '@inferlog/schema'
import { InferlogError } from '../errors.js'
import { type DerivedMigration, migrateDerived } from '../feed/derived-schema.js'
import type { DerivedStore, EventFilter, LogScanner } from '../store/store.js'

const SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('review_queues')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('queue', 'text', (c) => c.notNull())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('strategy', 'text', (c) => c.notNull())
      .addColumn('filter', 'text', (c) => c.notNull())
      .addColumn('picks', 'text', (c) => c.notNull())
      .addColumn('created_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('review_queues_pk', ['project', 'queue'])
      .execute()
  },
]

/** Most events one review queue holds. */
export const MAX_QUEUE = 10_000
/** Most events a selection reads to pick from. */
export const MAX_CANDIDATES = 200_000

interface Queue {
  queue: string
  label: string
  strategy: ReviewStrategy
  filter: EventFilter
  picks: { id: string; score: number }[]
  createdMs: number
}

/**
 * Active-learning review queues: the events that most need a human label (least confidence,
 * margin, entropy, or disagreement between a primary and its shadows), kept per project, exported
 * as Label Studio tasks, and filled back from annotations (feedback with `source.type: annotator`).
 */
export class ReviewQueues {
  private ready: Promise<void> | undefined

  constructor(
    private readonly log: Pick<LogScanner, 'scanEvents' | 'shadowsFor' | 'feedbackForEvents' | 'eventsByIds' | 'commitHead'>,
    private readonly derived: DerivedStore,
    private readonly ingestFeedback: (project: string, items: unknown[]) => Promise<IngestReply>,
    private readonly now: () => number = Date.now,
  ) {}

  private ensure(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'review', SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  /** Selects the events of a new queue (replacing one of the same name). */
  async create(project: string, queue: string, label: string, strategy: ReviewStrategy, filter: EventFilter, limit: number) {
    await this.ensure()
    const upTo = await this.log.commitHead()
    const log = this.log
    let read = 0
    async function* candidates(): AsyncIterable<ReviewCandidate> {
      for await (const chunk of log.scanEvents(project, filter, { upTo }, 1000)) {
        const shadows =
          strategy === 'disagreement'
            ? await log.shadowsFor(
                project,
                chunk.map((e) => e.id),
                upTo,
              )
            : []
        const byPrimary = new Map<string, unknown[]>()
        for (const s of shadows) byPrimary.set(s.shadowOf!, [...(byPrimary.get(s.shadowOf!) ?? []), JSON.parse(s.body)])
        for (const e of chunk) {
          if (++read > MAX_CANDIDATES) return
          yield { event: JSON.parse(e.body), shadows: (byPrimary.get(e.id) ?? []) as ReviewCandidate['shadows'] }
        }
      }
    }
    const picks = await selectForReview(candidates(), { strategy, limit })
    const row = { project, queue, label, strategy, filter: JSON.stringify(filter), picks: JSON.stringify(picks), created_ms: this.now() }
    const { project: _p, queue: _q, ...update } = row
    await this.derived.write([
      this.derived.db
        .insertInto('review_queues')
        .values(row)
        .onConflict((oc) => oc.columns(['project', 'queue']).doUpdateSet(update))
        .compile(),
    ])
    return this.progress(project, queue)
  }

  private async get(project: string, queue: string): Promise<Queue> {
    await this.ensure()
    const r = (await this.derived.db
      .selectFrom('review_queues')
      .selectAll()
      .where('project', '=', project)
      .where('queue', '=', queue)
      .executeTakeFirst()) as Record<string, unknown> | undefined
    if (!r) throw new InferlogError('not_found', `no review queue ${JSON.stringify(queue)}`)
    return {
      queue,
      label: r.label as string,
      strategy: r.strategy as ReviewStrategy,
      filter: JSON.parse(r.filter as string) as EventFilter,
      picks: JSON.parse(r.picks as string) as Queue['picks'],
      createdMs: Number(r.created_ms),
    }
  }

  async list(project: string) {
    await this.ensure()
    const rows = (await this.derived.db
      .selectFrom('review_queues')
      .select(['queue'])
      .where('project', '=', project)
      .orderBy('queue')
      .execute()) as { queue: string }[]
    return Promise.all(rows.map((r) => this.progress(project, r.queue)))
  }

  /** The queue's items in order, each with whether it has a label of the queue's name yet. */
  async progress(project: string, queue: string) {
    const q = await this.get(project, queue)
    const ids = q.picks.map((p) => p.id)
    const labelled = new Set<string>()
    for (let i = 0; i < ids.length; i += 1000) {
      for (const f of await this.log.feedbackForEvents(project, ids.slice(i, i + 1000), await this.log.commitHead()))
        if (f.name === q.label) labelled.add(f.eventId)
    }
    return {
      queue,
      label: q.label,
      strategy: q.strategy,
      created_at: new Date(q.createdMs).toISOString(),
      total: ids.length,
      labelled: labelled.size,
      items: q.picks.map((p) => ({ event_id: p.id, score: p.score, labelled: labelled.has(p.id) })),
    }
  }

  /** The queue as Label Studio tasks. */
  async tasks(project: string, queue: string) {
    const q = await this.get(project, queue)
    const events = await this.log.eventsByIds(
      project,
      q.picks.map((p) => p.id),
    )
    const byId = new Map(events.map((e) => [e.id, JSON.parse(e.body) as Record<string, unknown>]))
    const ordered = q.picks.map((p) => byId.get(p.id)).filter((e): e is Record<string, unknown> => e !== undefined)
    return toLabelStudioTasks(ordered, { queue, scores: new Map(q.picks.map((p) => [p.id, p.score])) })
  }

  /** Imports a Label Studio export: each annotation becomes feedback; tasks outside the queue are reported. */
  async import(project: string, queue: string, exported: unknown) {
    const q = await this.get(project, queue)
    let result: ReturnType<typeof fromLabelStudio>
    try {
      result = fromLabelStudio(exported, { name: q.label, queue: new Set(q.picks.map((p) => p.id)) })
    } catch (e) {
      throw new InferlogError('validation_failed', (e as Error).message)
    }
    const reply =
      result.feedback.length > 0 ? await this.ingestFeedback(project, result.feedback) : { accepted: 0, duplicates: 0, rejected: [] }
    return {
      imported: reply.accepted,
      duplicates: reply.duplicates,
      rejected: reply.rejected,
      unknown: result.unknown,
      skipped: result.skipped,
    }
  }
}
