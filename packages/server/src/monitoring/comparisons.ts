import {
  type AbComparison,
  compareAggregates,
  compareShadow,
  createMetricsAggregate,
  type MetricsAggregate,
  type ShadowComparison,
  type ShadowPair,
  type ShadowSide,
  sliceMetric,
  type SliceReport,
  valueAtPath,
} from '@inferlog/analysis'
import type { InferenceEvent } from '@inferlog/schema'
import { InferlogError } from '../errors.js'
import type { EventFilter, LoggedEvent, LogScanner } from '../store/store.js'
import type { MetricsQuery, MetricsReader } from './metrics-query.js'
import type { ModelConfigs } from './model-config.js'

/** Default window of a comparison whose filter names none: the last 24 hours. */
const DEFAULT_WINDOW_MS = 86_400_000

/**
 * A FILTER as a bucket query: only what buckets can answer (`model`, `version` (or a list),
 * `stage`, `arm`, `from`, `to`). Raw-row filters are refused naming them.
 */
export function bucketQueryOf(f: EventFilter, where: string, now: number): Omit<MetricsQuery, 'bucket'> {
  const raw = (['status', 'sessionId', 'userId', 'hasFeedback', 'feedbackName'] as const).filter((k) => f[k] !== undefined)
  if (raw.length > 0) {
    const names: Record<string, string> = {
      status: 'status',
      sessionId: 'session_id',
      userId: 'user_id',
      hasFeedback: 'has_feedback',
      feedbackName: 'feedback',
    }
    throw new InferlogError(
      'invalid_parameter',
      `${where}: ${raw.map((k) => names[k]).join(', ')} cannot filter a comparison of pre-aggregated metrics`,
    )
  }
  const toMs = f.toMs ?? now
  const q: Omit<MetricsQuery, 'bucket'> = { fromMs: f.fromMs ?? toMs - DEFAULT_WINDOW_MS, toMs, groupBy: [] }
  if (f.model !== undefined) q.model = f.model
  const versions = f.versions ?? (f.version === undefined ? undefined : [f.version])
  if (versions) q.versions = versions
  if (f.stage !== undefined) q.stage = f.stage
  if (f.arm !== undefined) q.arm = f.arm
  return q
}

/** The comparison services behind `POST /v1/compare` and `GET /v1/slices`. */
export class Comparisons {
  constructor(
    private readonly reader: MetricsReader,
    private readonly configs: ModelConfigs,
    private readonly log: Pick<LogScanner, 'scanEvents' | 'shadowsFor' | 'commitHead'>,
    private readonly now: () => number = Date.now,
  ) {}

  private async merged(project: string, f: EventFilter, where: string): Promise<MetricsAggregate> {
    const q = bucketQueryOf(f, where, this.now())
    const groups = await this.reader.aggregates(project, q, q.model === undefined ? undefined : await this.configs.get(project, q.model))
    return groups[0]?.agg ?? createMetricsAggregate()
  }

  /** A/B: every metric of both sides from the buckets, with differences, intervals, p-values and the SRM check. */
  async ab(project: string, a: EventFilter, b: EventFilter, expectedSplit: number): Promise<AbComparison> {
    const [aa, bb] = await Promise.all([this.merged(project, a, 'a'), this.merged(project, b, 'b')])
    return compareAggregates(aa, bb, { expectedSplit })
  }

  /**
   * Shadow: primaries matching the filter (committed before the request) paired with their
   * `shadow_of` partners, one comparison per shadow model version. Reads raw rows, at most
   * `limit` primaries (the reply says when it stopped there).
   */
  async shadow(
    project: string,
    f: EventFilter,
    o: { output: string; limit: number; top: number },
  ): Promise<{ candidates: ({ model: { name: string; version: string } } & ShadowComparison)[]; primaries: number; truncated: boolean }> {
    const upTo = await this.log.commitHead()
    const byCandidate = new Map<string, { model: { name: string; version: string }; pairs: ShadowPair[] }>()
    let primaries = 0
    let truncated = false
    for await (const chunk of this.log.scanEvents(project, f, { upTo }, 1000)) {
      const take = chunk.slice(0, Math.max(0, o.limit - primaries))
      primaries += take.length
      const byId = new Map(take.map((e) => [e.id, e]))
      for (const s of await this.log.shadowsFor(project, [...byId.keys()], upTo)) {
        const p = byId.get(s.shadowOf ?? '')
        if (!p) continue
        const k = JSON.stringify([s.model, s.version])
        let c = byCandidate.get(k)
        if (!c) byCandidate.set(k, (c = { model: { name: s.model, version: s.version }, pairs: [] }))
        const pb = JSON.parse(p.body) as InferenceEvent
        c.pairs.push({
          id: p.id,
          primary: side(pb, o.output),
          shadow: side(JSON.parse(s.body) as InferenceEvent, o.output),
          weight: 1 / (pb.sample_rate ?? 1),
        })
      }
      if (primaries >= o.limit) {
        truncated = true
        break
      }
    }
    const candidates = [...byCandidate.values()]
      .sort((x, y) => (x.model.name + x.model.version < y.model.name + y.model.version ? -1 : 1))
      .map((c) => ({ model: c.model, ...compareShadow(c.pairs, { output: '', top: o.top }) }))
    return { candidates, primaries, truncated }
  }

  /** A metric per segment value (a fixed dimension or a declared entity/tag), and the segments significantly worse than the rest. */
  async slices(
    project: string,
    f: EventFilter,
    segment: string,
    metric: string,
    alpha: number,
  ): Promise<SliceReport & { segment_key: string }> {
    const q = bucketQueryOf(f, 'filter', this.now())
    const config = q.model === undefined ? undefined : await this.configs.get(project, q.model)
    const groups = await this.reader.aggregates(project, { ...q, groupBy: [segment] }, config)
    const segments = new Map<string, MetricsAggregate>()
    for (const g of groups) segments.set(String(g.group[segment] ?? '(none)'), g.agg)
    return { segment_key: segment, ...sliceMetric(segments, metric, { alpha }) }
  }
}

function side(e: InferenceEvent, output: string): ShadowSide {
  const s: ShadowSide = {}
  const out = output === '' ? e.output : valueAtPath(e.output, output)
  if (out !== undefined) s.output = out
  if (typeof e.latency_ms?.total === 'number') s.latencyMs = e.latency_ms.total
  if (typeof e.usage?.cost_usd === 'number') s.costUsd = e.usage.cost_usd
  return s
}

export type { LoggedEvent }
