import { createMetricsFinalizer, decodeAggregate, type MetricsAggregate, type MetricsPoint, mergeAggregates } from '@inferlog/analysis'
import { sql } from 'kysely'
import { InferlogError } from '../errors.js'
import { migrateDerived } from '../feed/derived-schema.js'
import { CompiledFor, WriteTemplate } from '../feed/write-template.js'
import type { DerivedStore } from '../store/store.js'
import {
  ALL,
  bucketStart,
  FIXED_DIMS,
  type FixedDim,
  GRAIN_MS,
  type Grain,
  METRICS_SCHEMA,
  MINUTE_RETENTION_MS,
  ROW_KEY_COLUMNS,
  readDimValue,
  dimValue,
} from './metric-rows.js'
import type { ModelConfig } from './model-config.js'
import {
  type FieldSelection,
  fieldsKey,
  MetricsReplyCache,
  type MetricsReplyCacheOptions,
  project as projectFields,
  SerializedReply,
} from './metrics-reply.js'

const POINT_FIELDS = ['point', 'point_rev', ...ROW_KEY_COLUMNS, 'rev'] as const
type PointField = (typeof POINT_FIELDS)[number]

/** Options of {@link MetricsReader}. */
export interface MetricsReaderOptions {
  /** Serialized replies kept per (query, aggregate revision); see {@link MetricsReplyCache}. Default 64 MiB. */
  replyCache?: MetricsReplyCacheOptions
}

/** Bucket sizes a metrics query may ask for. */
export type BucketName = 'minute' | 'hour' | 'day' | 'all'
const GRAIN_OF: Record<Exclude<BucketName, 'all'>, Grain> = { minute: 'm', hour: 'h', day: 'd' }

/** Most points (series × buckets) one reply may hold; past it the query asks for a coarser bucket. */
export const MAX_POINTS = 10_000

/** A metrics query, parsed. */
export interface MetricsQuery {
  model?: string
  /** Any of these versions. */
  versions?: string[]
  stage?: string
  arm?: string
  endpoint?: string
  fromMs: number
  toMs: number
  bucket: BucketName
  /** `version`, `stage`, `arm`, `endpoint`, or one declared `entity.KEY` / `tag.KEY`. */
  groupBy: string[]
}

/** One series of the reply. */
export interface MetricsSeries {
  group: Record<string, string | null>
  points: MetricsPoint[]
}

interface Row {
  model: string
  grain: Grain
  version: string
  stage: string
  arm: string
  endpoint: string
  dim_key: string
  dim_value: string
  start_ms: number
  /** Null when the point is cached and current and the query needs no merge (not read). */
  agg: string | null
  rev: number
  point: string | null
  point_rev: number | null
}

const FILTER_OF: Record<FixedDim, (q: MetricsQuery) => string[] | undefined> = {
  version: (q) => q.versions,
  stage: (q) => (q.stage === undefined ? undefined : [q.stage]),
  arm: (q) => (q.arm === undefined ? undefined : [q.arm]),
  endpoint: (q) => (q.endpoint === undefined ? undefined : [q.endpoint]),
}

/**
 * Answers `GET /v1/metrics` from the buckets the metrics consumer keeps, never from raw rows.
 * Hour and day buckets have roll-up rows for every combination of the fixed dimensions, so a
 * grouped series reads one stored row per point, and finalized points are cached in the row
 * (refreshed when the row changed). Minute buckets and filters on several values are merged here.
 */
export class MetricsReader {
  private readonly finalizer = createMetricsFinalizer()
  private ready: Promise<void> | undefined
  /** Serialized replies by query and revision, and the reads under way (one per key and revision). */
  readonly replies: MetricsReplyCache
  private readonly reading = new Map<string, Promise<SerializedReply>>()
  /** Replies read whole from the buckets, and replies brought up to date from the rows changed since. */
  readonly stats = { built: 0, patched: 0 }
  /** The point write-back, compiled once (one prepared statement for thousands of rows). */
  private readonly pointWrites = new CompiledFor(
    (db): WriteTemplate<PointField> =>
      new WriteTemplate(POINT_FIELDS, (v) =>
        db
          .updateTable('metric_rows')
          .set({ point: v.point, point_rev: v.point_rev })
          .where('project', '=', v.project)
          .where('model', '=', v.model)
          .where('grain', '=', v.grain)
          .where('version', '=', v.version)
          .where('stage', '=', v.stage)
          .where('arm', '=', v.arm)
          .where('endpoint', '=', v.endpoint)
          .where('dim_key', '=', v.dim_key)
          .where('dim_value', '=', v.dim_value)
          .where('start_ms', '=', v.start_ms)
          .where('rev', '=', v.rev),
      ),
  )

  constructor(
    private readonly derived: DerivedStore,
    private readonly now: () => number = Date.now,
    o: MetricsReaderOptions = {},
  ) {
    this.replies = new MetricsReplyCache(o.replyCache)
  }

  private ensure(): Promise<void> {
    // The tables may not exist before the consumer's first step (a fresh store).
    this.ready ??= migrateDerived(this.derived, 'metrics', METRICS_SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  /** The declared dimension a query groups by, if any, checked against the model's configuration. */
  private dimensionOf(q: Omit<MetricsQuery, 'bucket'>, config: ModelConfig | undefined): string | undefined {
    const declared = q.groupBy.filter((g) => !FIXED_DIMS.includes(g as FixedDim))
    if (declared.length > 1)
      throw new InferlogError('invalid_parameter', `group_by takes at most one entity/tag dimension, got ${declared.join(', ')}`)
    const dim = declared[0]
    if (dim === undefined) return undefined
    if (q.model === undefined)
      throw new InferlogError('invalid_parameter', `group_by=${dim} needs a model filter (dimensions are declared per model)`)
    if (!config?.dimensions?.includes(dim)) {
      throw new InferlogError(
        'invalid_parameter',
        `group_by=${dim}: declare it first in the model's dimensions (PUT /v1/models/${q.model})`,
      )
    }
    for (const d of ['stage', 'arm', 'endpoint'] as const) {
      if (q.groupBy.includes(d) || FILTER_OF[d](q as MetricsQuery)) {
        throw new InferlogError('invalid_parameter', `group_by=${dim} combines with version only, not with ${d}`)
      }
    }
    return dim
  }

  /** Checks a query against the caps and the model's configuration; the declared dimension it groups by, if any. */
  private check(q: MetricsQuery, config: ModelConfig | undefined): string | undefined {
    const dim = this.dimensionOf(q, config)
    if (q.bucket === 'all') return dim
    const grain = GRAIN_OF[q.bucket]
    const from = bucketStart(q.fromMs, grain)
    const buckets = Math.ceil((q.toMs - from) / GRAIN_MS[grain])
    if (buckets > MAX_POINTS)
      throw new InferlogError(
        'invalid_parameter',
        `${buckets} ${q.bucket} buckets is over the ${MAX_POINTS}-point cap; ask for a coarser bucket or a shorter window`,
      )
    if (grain === 'm' && q.fromMs < this.now() - MINUTE_RETENTION_MS) {
      throw new InferlogError(
        'invalid_parameter',
        `minute buckets are kept ${MINUTE_RETENTION_MS / 86_400_000} days; ask for bucket=hour for older windows`,
      )
    }
    return dim
  }

  /** The series' rows by group and bucket start, within the point cap. */
  private async grouped(project: string, q: MetricsQuery, dim: string | undefined) {
    const grain = GRAIN_OF[q.bucket as Exclude<BucketName, 'all'>]
    const rows = await this.rows(project, q, grain, bucketStart(q.fromMs, grain), q.toMs, dim)
    const series = this.group(rows, q, dim)
    const points = [...series.values()].reduce((n, s) => n + s.byStart.size, 0)
    if (points > MAX_POINTS)
      throw new InferlogError(
        'invalid_parameter',
        `${points} points is over the ${MAX_POINTS}-point cap; ask for a coarser bucket or fewer groups`,
      )
    return series
  }

  /**
   * The reply of {@link query} as JSON bytes, with only the `fields` of each point when given.
   * Served from {@link replies} while the metrics consumer's watermark (the aggregate revision)
   * stays where it was when the reply was read; otherwise read from the buckets, where each
   * point's finalized text is cached in its row and copied into the reply without parsing.
   * `bucket=all` replies are not kept (their edges follow the clock).
   */
  async reply(project: string, q: MetricsQuery, config: ModelConfig | undefined, fields?: FieldSelection): Promise<SerializedReply> {
    await this.ensure()
    const dim = this.check(q, config)
    if (q.bucket === 'all') {
      const r = await this.query(project, q, config)
      const out = fields ? { ...r, series: r.series.map((s) => ({ ...s, points: s.points.map((p) => projectFields(p, fields)) })) } : r
      return new SerializedReply(Buffer.from(JSON.stringify(out)), undefined, '')
    }
    const key = this.cacheKey(project, q, fields)
    // Read before the rows: rows are at least this new, so a reply is never kept under a newer revision than it shows.
    const revision = await this.derived.watermark('metrics')
    const hit = this.replies.get(key, revision)
    if (hit) return hit
    const k = `${revision}\u0000${key}`
    let p = this.reading.get(k)
    if (!p) {
      const older = this.replies.latest(key)?.built as BuiltReply | undefined
      p = (older ? this.patch(project, q, dim, fields, older) : Promise.resolve(undefined))
        .then(async (patched) => patched ?? (await this.build(project, q, dim, fields)))
        .then((built) => {
          const r = new SerializedReply(Buffer.from(assemble(q.bucket, built)), revision, key, built)
          this.replies.set(key, r)
          return r
        })
      this.reading.set(k, p)
      const drop = () => this.reading.delete(k)
      p.then(drop, drop)
    }
    return p
  }

  /** A query's identity for {@link replies}: the buckets it reads, not the exact instants it named. */
  private cacheKey(project: string, q: MetricsQuery, fields: FieldSelection | undefined): string {
    const len = GRAIN_MS[GRAIN_OF[q.bucket as Exclude<BucketName, 'all'>]]
    return JSON.stringify([
      project,
      q.model ?? null,
      q.versions ? [...new Set(q.versions)].sort() : null,
      q.stage ?? null,
      q.arm ?? null,
      q.endpoint ?? null,
      q.bucket,
      Math.floor(q.fromMs / len) * len,
      // Rows start on bucket boundaries: start < to reads the same rows as start < the next boundary.
      Math.ceil(q.toMs / len) * len,
      q.groupBy,
      fieldsKey(fields),
    ])
  }

  /** Every point's text (the row's cached one when current), by series and start. */
  private async build(project: string, q: MetricsQuery, dim: string | undefined, fields: FieldSelection | undefined): Promise<BuiltReply> {
    const series = await this.grouped(project, q, dim)
    const refresh: Row[] = []
    const built: BuiltReply = { series: new Map(), points: 0 }
    for (const [k, s] of series) {
      const points = new Map<number, string>()
      for (const [start, rs] of s.byStart) {
        const text = this.pointText(rs, start, refresh)
        points.set(start, fields ? JSON.stringify(projectFields(JSON.parse(text), fields)) : text)
      }
      built.series.set(k, { group: s.group, points })
      built.points += points.size
    }
    this.writeBack(project, refresh)
    this.stats.built++
    return built
  }

  /**
   * `older` brought up to date with only the rows written since it was read (`wm` past its
   * revision): a live dashboard's next reply reads the few rows the consumer touched, not all of
   * them. Only for hour and day rows (never deleted) with one row per point; undefined when a full
   * read is needed (another shape, a new series, over the point cap).
   */
  private async patch(
    project: string,
    q: MetricsQuery,
    dim: string | undefined,
    fields: FieldSelection | undefined,
    older: BuiltReply,
  ): Promise<BuiltReply | undefined> {
    const grain = GRAIN_OF[q.bucket as Exclude<BucketName, 'all'>]
    if (grain === 'm' || !this.singleRowPoints(q, grain, dim) || older.revision === undefined) return undefined
    const rows = await this.rows(project, q, grain, bucketStart(q.fromMs, grain), q.toMs, dim, false, older.revision)
    const changed = this.group(rows, q, dim)
    for (const k of changed.keys()) if (!older.series.has(k)) return undefined
    const refresh: Row[] = []
    const built: BuiltReply = { series: new Map(), points: 0 }
    for (const [k, s] of older.series) {
      const c = changed.get(k)
      let points = s.points
      if (c) {
        points = new Map(points)
        for (const [start, rs] of c.byStart) {
          const text = this.pointText(rs, start, refresh)
          points.set(start, fields ? JSON.stringify(projectFields(JSON.parse(text), fields)) : text)
        }
      }
      built.series.set(k, { group: s.group, points })
      built.points += points.size
    }
    if (built.points > MAX_POINTS) return undefined
    this.writeBack(project, refresh)
    this.stats.patched++
    return built
  }

  /** A point's JSON text: its row's cached one when current, else finalized (and queued for caching). */
  private pointText(rs: Row[], start: number, refresh: Row[]): string {
    if (rs.length === 1) {
      const r = rs[0]!
      if (r.point !== null && r.point_rev === r.rev) return r.point
      r.point = JSON.stringify(this.finalizer.finalize(decodeAggregate(r.agg as string), start))
      refresh.push(r)
      return r.point
    }
    return JSON.stringify(this.finalizer.finalize(mergeAggregates(rs.map((r) => decodeAggregate(r.agg as string))), start))
  }

  async query(project: string, q: MetricsQuery, config: ModelConfig | undefined): Promise<{ bucket: BucketName; series: MetricsSeries[] }> {
    await this.ensure()
    const dim = this.check(q, config)
    if (q.bucket === 'all') {
      const groups = await this.wholeAggregates(project, q, dim)
      return { bucket: 'all', series: groups.map((g) => ({ group: g.group, points: [this.finalizer.finalize(g.agg, q.fromMs)] })) }
    }
    const series = await this.grouped(project, q, dim)
    const refresh: Row[] = []
    const out: MetricsSeries[] = []
    for (const s of series.values()) {
      const pts: MetricsPoint[] = []
      for (const [start, rs] of [...s.byStart].sort((a, b) => a[0] - b[0])) pts.push(this.point(rs, start, refresh))
      out.push({ group: s.group, points: pts })
    }
    this.writeBack(project, refresh)
    return { bucket: q.bucket, series: out }
  }

  /**
   * One merged aggregate per group over the whole window (for comparisons and slices), read like
   * `bucket=all`. The same validation as {@link query} applies.
   */
  async aggregates(
    project: string,
    q: Omit<MetricsQuery, 'bucket'>,
    config: ModelConfig | undefined,
  ): Promise<{ group: Record<string, string | null>; agg: MetricsAggregate }[]> {
    await this.ensure()
    return this.wholeAggregates(project, { ...q, bucket: 'all' }, this.dimensionOf(q, config))
  }

  /** Whole days, then hours, then minutes at the edges (hours beyond minute retention). */
  private async wholeAggregates(
    project: string,
    q: MetricsQuery,
    dim: string | undefined,
  ): Promise<{ group: Record<string, string | null>; agg: MetricsAggregate }[]> {
    const pieces: [Grain, number, number][] = []
    const minuteFloor = this.now() - MINUTE_RETENTION_MS
    const cover = (from: number, to: number, g: Grain) => {
      if (from >= to) return
      if (g === 'm' && from < minuteFloor) {
        // Too old for minute rows: the hour that holds the edge counts whole.
        pieces.push(['h', bucketStart(from, 'h'), Math.min(to, bucketStart(from, 'h') + GRAIN_MS.h)])
        return
      }
      pieces.push([g, from, to])
    }
    const dayFrom = Math.ceil(q.fromMs / GRAIN_MS.d) * GRAIN_MS.d
    const dayTo = Math.floor(q.toMs / GRAIN_MS.d) * GRAIN_MS.d
    const split = (from: number, to: number) => {
      const hFrom = Math.ceil(from / GRAIN_MS.h) * GRAIN_MS.h
      const hTo = Math.floor(to / GRAIN_MS.h) * GRAIN_MS.h
      if (hFrom >= hTo) return cover(from, to, 'm')
      cover(from, hFrom, 'm')
      pieces.push(['h', hFrom, hTo])
      cover(hTo, to, 'm')
    }
    if (dayFrom < dayTo) {
      split(q.fromMs, dayFrom)
      pieces.push(['d', dayFrom, dayTo])
      split(dayTo, q.toMs)
    } else split(q.fromMs, q.toMs)
    const merged = new Map<string, { group: Record<string, string | null>; aggs: MetricsAggregate[] }>()
    for (const [g, from, to] of pieces) {
      const rows = await this.rows(project, q, g, from, to, dim, true)
      for (const [k, s] of this.group(rows, q, dim)) {
        let m = merged.get(k)
        if (!m) merged.set(k, (m = { group: s.group, aggs: [] }))
        for (const rs of s.byStart.values()) for (const r of rs) m.aggs.push(decodeAggregate(r.agg as string))
      }
    }
    return [...merged.values()].map((m) => ({ group: m.group, agg: mergeAggregates(m.aggs) }))
  }

  private async rows(
    project: string,
    q: MetricsQuery,
    grain: Grain,
    from: number,
    to: number,
    dim: string | undefined,
    whole = false,
    since?: number,
  ): Promise<Row[]> {
    // One row per point: a current cached point is all it needs, so its aggregate is not read.
    // Points merged from several rows need them.
    const single = !whole && this.singleRowPoints(q, grain, dim)
    const agg = single ? sql<string | null>`case when point_rev = rev then null else agg end` : sql<string | null>`agg`
    const point = single ? sql<string | null>`case when point_rev = rev then point else null end` : sql<string | null>`point`
    let sel = this.derived.db
      .selectFrom('metric_rows')
      .select(['model', 'grain', 'version', 'stage', 'arm', 'endpoint', 'dim_key', 'dim_value', 'start_ms', 'rev', 'point_rev'])
      .select([agg.as('agg'), point.as('point')])
      .where('project', '=', project)
      .where('grain', '=', grain)
      .where('dim_key', '=', dim ?? '')
      .where('start_ms', '>=', from)
      .where('start_ms', '<', to)
    if (q.model !== undefined) sel = sel.where('model', '=', q.model)
    if (since !== undefined) sel = sel.where('wm', '>', since)
    for (const d of FIXED_DIMS) {
      const wanted = FILTER_OF[d](q)
      const specific = q.groupBy.includes(d) || wanted !== undefined
      // Hour and day rows exist for every roll-up (declared-dimension rows: stage, arm and endpoint
      // rolled up only); minute rows only as they happened (declared-dimension rows: those three
      // rolled up). Without the roll-up, read the specific rows and merge them here.
      const rollupExists = grain !== 'm' || (dim !== undefined && d !== 'version')
      if (!specific && rollupExists) sel = sel.where(d, '=', ALL)
      else if (wanted) sel = sel.where(d, 'in', wanted.map(dimValue))
      else sel = sel.where(d, '!=', ALL)
    }
    const rows = (await sel.orderBy('start_ms').execute()) as Row[]
    for (const r of rows) {
      r.start_ms = Number(r.start_ms)
      r.rev = Number(r.rev)
      r.point_rev = r.point_rev === null ? null : Number(r.point_rev)
    }
    return rows
  }

  /** True when each point of `q` reads one stored row (a roll-up or a grouped dimension for each of the four). */
  private singleRowPoints(q: MetricsQuery, grain: Grain, dim: string | undefined): boolean {
    return FIXED_DIMS.every((d) => {
      const wanted = FILTER_OF[d](q)
      const rollupExists = grain !== 'm' || (dim !== undefined && d !== 'version')
      return q.groupBy.includes(d) || (wanted === undefined ? rollupExists : new Set(wanted).size === 1)
    })
  }

  /** Rows by series (the group-by values, plus the model when no model was named; in the order of their text) and bucket start. */
  private group(rows: Row[], q: MetricsQuery, dim: string | undefined) {
    const series = new Map<string, { group: Record<string, string | null>; byStart: Map<number, Row[]> }>()
    for (const r of rows) {
      const group: Record<string, string | null> = {}
      if (q.model === undefined) group.model = r.model
      for (const g of q.groupBy) group[g] = readDimValue(g === dim ? r.dim_value : r[g as FixedDim])
      const k = JSON.stringify(group)
      let s = series.get(k)
      if (!s) series.set(k, (s = { group, byStart: new Map() }))
      const at = s.byStart.get(r.start_ms)
      if (at) at.push(r)
      else s.byStart.set(r.start_ms, [r])
    }
    // Series in the order of their group's text: the same order on every read and either store
    // (rows of one bucket start come in no defined order).
    return new Map([...series].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
  }

  /** A point from one row (its cached point when current) or from several rows merged. */
  private point(rs: Row[], start: number, refresh: Row[]): MetricsPoint {
    if (rs.length === 1) {
      const r = rs[0]!
      if (r.point !== null && r.point_rev === r.rev) return JSON.parse(r.point) as MetricsPoint
      const p = this.finalizer.finalize(decodeAggregate(r.agg as string), start)
      r.point = JSON.stringify(p)
      refresh.push(r)
      return p
    }
    return this.finalizer.finalize(mergeAggregates(rs.map((r) => decodeAggregate(r.agg as string))), start)
  }

  /** Caches freshly finalized points in their rows, unless the row changed meanwhile (best effort, off the reply). */
  private writeBack(project: string, rows: Row[]): void {
    if (rows.length === 0) return
    const t = this.pointWrites.get(this.derived.db)
    const writes = rows.map((r) =>
      t.bind({
        point: r.point,
        point_rev: r.rev,
        project,
        model: r.model,
        grain: r.grain,
        version: r.version,
        stage: r.stage,
        arm: r.arm,
        endpoint: r.endpoint,
        dim_key: r.dim_key,
        dim_value: r.dim_value,
        start_ms: r.start_ms,
        rev: r.rev,
      }),
    )
    this.derived.write(writes).catch(() => undefined)
  }
}

/** The points of a reply as JSON texts, by series (in reply order) and bucket start. */
interface BuiltReply {
  /** Set by {@link SerializedReply}: the revision the texts were read at. */
  revision?: number
  series: Map<string, { group: Record<string, string | null>; points: Map<number, string> }>
  points: number
}

/** The reply text of built points: `{"bucket", "series": [{"group", "points": [...]}]}`, points by start. */
function assemble(bucket: BucketName, built: BuiltReply): string {
  const parts: string[] = [`{"bucket":${JSON.stringify(bucket)},"series":[`]
  let firstSeries = true
  for (const s of built.series.values()) {
    parts.push(`${firstSeries ? '' : ','}{"group":${JSON.stringify(s.group)},"points":[`)
    firstSeries = false
    let first = true
    for (const start of [...s.points.keys()].sort((a, b) => a - b)) {
      parts.push(first ? (s.points.get(start) as string) : `,${s.points.get(start) as string}`)
      first = false
    }
    parts.push(']}')
  }
  parts.push(']}')
  return parts.join('')
}
