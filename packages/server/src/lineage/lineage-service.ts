import type { FeedbackItem, InferenceEvent } from '@inferlog/schema'
import type { ContainingVersion, DatasetBuilds } from '../datasets/dataset-builds.js'
import { materializeEvent, materializeFeedback, type ReadService } from '../query/read-service.js'
import type { Store } from '../store/store.js'

/** `GET /v1/events/{id}/lineage`. */
export interface EventLineage {
  event: { id: string; ts: string; received_at: string; batch: number; status: string }
  /** The model that produced it, as the event recorded it. */
  model: {
    name: string
    version: string
    digest: string | null
    params: Record<string, unknown> | null
    endpoint: string | null
    stage: string
  }
  /** For a shadow or replay event: the primary it mirrors (`erased: true` when that was erased). */
  shadow_of: { id: string; erased?: true; missing?: true } | null
  feedback: FeedbackItem[]
  /** Events that mirror it: shadow deployments and `inferlog replay` runs (ids `replay-…`). */
  shadows: {
    id: string
    ts: string
    origin: 'shadow' | 'replay'
    model: { name: string; version: string; stage: string; digest: string | null }
  }[]
  /** Every dataset version that contains it (versions built before membership was recorded are not known). */
  datasets: ContainingVersion[]
}

/** `GET /v1/datasets/{id}/lineage`. */
export interface DatasetLineage {
  id: string
  name: string
  version: number | null
  built_at: string
  /** The log position the build was pinned to. */
  watermark: number
  /** Commit positions it read (`after_batch` exclusive, `up_to_batch` inclusive) and the lowest and highest among its rows. */
  log_range: { after_batch: number | null; up_to_batch: number; min_batch: number | null; max_batch: number | null }
  /** Model versions its rows came from, with their row counts. */
  models: { name: string; version: string; rows: number }[]
  parent: { id: string | null; version: number | null; watermark: number } | null
  /** The selection of its spec. */
  select: unknown
  rows: number
  purged?: { at: string; events: number; record: string | null }
}

type Obj = Record<string, unknown>
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** Where records and dataset versions came from, and where they went. */
export class LineageService {
  constructor(
    private readonly store: Pick<Store, 'eventsByIds' | 'feedbackForEvent' | 'shadowsOf' | 'tombstonesOf' | 'getEvent'>,
    private readonly reads: ReadService,
    private readonly builds: DatasetBuilds | undefined,
  ) {}

  async event(project: string, id: string): Promise<EventLineage> {
    const [row] = await this.store.eventsByIds(project, [id])
    if (!row) throw await this.reads.missing(project, id)
    const e = materializeEvent(row) as InferenceEvent & Obj
    const m = (e.model ?? {}) as unknown as Obj
    const [feedback, shadows] = await Promise.all([this.store.feedbackForEvent(project, id), this.store.shadowsOf(project, id)])
    let shadowOf: EventLineage['shadow_of'] = null
    if (row.shadowOf !== null) {
      const primary = await this.store.getEvent(project, row.shadowOf)
      if (primary) shadowOf = { id: row.shadowOf }
      else {
        const [t] = await this.store.tombstonesOf('event', project, [row.shadowOf])
        shadowOf = t ? { id: row.shadowOf, erased: true } : { id: row.shadowOf, missing: true }
      }
    }
    return {
      event: {
        id: row.id,
        ts: String(e.ts),
        received_at: new Date(row.receivedMs).toISOString(),
        batch: row.batch,
        status: row.status,
      },
      model: {
        name: row.model,
        version: row.version,
        digest: str(m.digest),
        params: typeof m.params === 'object' && m.params !== null ? (m.params as Record<string, unknown>) : null,
        endpoint: str(m.endpoint),
        stage: row.stage,
      },
      shadow_of: shadowOf,
      feedback: feedback.map(materializeFeedback),
      shadows: shadows.map((r) => {
        const s = materializeEvent(r) as InferenceEvent & Obj
        const sm = (s.model ?? {}) as unknown as Obj
        return {
          id: String(s.id),
          ts: String(s.ts),
          origin: String(s.id).startsWith('replay-') ? ('replay' as const) : ('shadow' as const),
          model: { name: String(sm.name), version: String(sm.version), stage: str(sm.stage) ?? 'primary', digest: str(sm.digest) },
        }
      }),
      datasets: this.builds
        ? this.builds.containing(project, { id: row.id, batch: row.batch, model: row.model, version: row.version })
        : [],
    }
  }

  dataset(project: string, id: string): DatasetLineage {
    const m = this.builds!.catalog(project).get(id)
    const splits = Object.values(m.splits)
    const batches = (pick: 'min_batch' | 'max_batch') => {
      const v = splits.map((s) => s.ids[pick]).filter((b): b is number => b !== null)
      return v.length === 0 ? null : pick === 'min_batch' ? Math.min(...v) : Math.max(...v)
    }
    return {
      id: m.id ?? id,
      name: m.name,
      version: m.version,
      built_at: m.built_at,
      watermark: m.watermark,
      log_range: { after_batch: m.after_batch, up_to_batch: m.watermark, min_batch: batches('min_batch'), max_batch: batches('max_batch') },
      models: Object.entries(m.models).map(([key, rows]) => {
        const at = key.lastIndexOf('@')
        return { name: key.slice(0, at), version: key.slice(at + 1), rows }
      }),
      parent: m.parent,
      select: (m.spec as { select?: unknown }).select ?? null,
      rows: m.counts.written,
      ...(m.purged ? { purged: m.purged } : {}),
    }
  }
}
