import {
  type Column,
  type ColumnChunk,
  compileFieldPath,
  concatColumnChunks,
  createColumnBuilder,
  decodeColumnChunk,
  filterColumnChunk,
} from '@inferlog/analysis'
import { migrateDerived } from '../feed/derived-schema.js'
import type { DerivedStore, EventFilter, LogScanner } from '../store/store.js'
import { blobBytes, COMPLETE_FROM_START, HOUR_MS, hourStart, PROFILE_SCHEMA, TS_FIELD } from './profile-rows.js'

/** Filter keys the value chunks can answer exactly. */
const ANSWERABLE = new Set<keyof EventFilter>(['model', 'version', 'versions', 'stage', 'fromMs', 'toMs'])

/** A window read from the value chunks (and the log after them). */
export interface ColumnWindow {
  columns: Map<string, Column>
  rows: number
  /** Events read from the log because the consumer had not reached them yet. */
  tail: number
}

/**
 * Exact windows of monitored fields without parsing JSON: the `profiles` consumer also stores
 * each monitored field's values per (model, version, stage, hour) as typed column chunks; a
 * window reads the chunks of its hours (rows of the edge hours kept by their timestamps) and the
 * batches the consumer has not reached yet from the log, in one consistent read of the chunks
 * and the consumer's watermark. The result equals a scan of the window for scalar fields (rows
 * in another order, which no drift statistic depends on); anything the chunks cannot represent
 * exactly (mixed types, embeddings, filters on other keys) answers `{reason}` and the caller scans.
 */
export class ValueColumns {
  private ready: Promise<void> | undefined

  constructor(
    private readonly derived: DerivedStore,
    private readonly log: Pick<LogScanner, 'scanEvents'>,
  ) {}

  private ensure(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'hourly_profiles', PROFILE_SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  async window(project: string, f: EventFilter, fields: readonly string[], upTo: number): Promise<ColumnWindow | { reason: string }> {
    const extra = (Object.keys(f) as (keyof EventFilter)[]).filter((k) => f[k] !== undefined && !ANSWERABLE.has(k))
    if (extra.length > 0) return { reason: `the filter uses ${extra.join(', ')}` }
    if (!f.model) return { reason: 'the filter names no model' }
    await this.ensure()
    const db = this.derived.db
    const coverage = (await db
      .selectFrom('profile_fields')
      .select(['field', 'from_ms'])
      .where('project', '=', project)
      .where('model', '=', f.model)
      .execute()) as { field: string; from_ms: number | string }[]
    const from = new Map(coverage.map((c) => [c.field, Number(c.from_ms)]))
    const firstHour = f.fromMs === undefined ? Number.NEGATIVE_INFINITY : hourStart(f.fromMs)
    for (const x of fields) {
      const since = from.get(x)
      if (since === undefined) return { reason: `${x} is not monitored` }
      if (since !== COMPLETE_FROM_START && since > firstHour)
        return { reason: `${x} has stored values from ${new Date(since).toISOString()} only` }
    }
    const versions = f.versions ?? (f.version !== undefined ? [f.version] : undefined)
    // One statement: the chunks and the watermark they are consistent with.
    let q = db
      .selectFrom('value_chunks')
      .select(['hour_ms', 'version', 'stage', 'field', 'chunk', 'n', 'data'])
      .select((eb) => eb.selectFrom('feed_consumers').select('position').where('name', '=', 'profiles').as('wm'))
      .where('project', '=', project)
      .where('model', '=', f.model)
      .where('field', 'in', [TS_FIELD, ...fields])
    // Timestamps are needed for the edge hours only.
    const fromMs = f.fromMs
    const toMs = f.toMs
    if (fromMs !== undefined || toMs !== undefined) {
      q = q.where((eb) => {
        const edges = [eb('field', '!=', TS_FIELD)]
        if (fromMs !== undefined) edges.push(eb('hour_ms', '<', fromMs))
        if (toMs !== undefined) edges.push(eb('hour_ms', '>', toMs - HOUR_MS))
        return eb.or(edges)
      })
    } else q = q.where('field', '!=', TS_FIELD)
    if (f.fromMs !== undefined) q = q.where('hour_ms', '>=', hourStart(f.fromMs))
    if (f.toMs !== undefined) q = q.where('hour_ms', '<', f.toMs)
    if (versions) q = q.where('version', 'in', versions)
    if (f.stage !== undefined) q = q.where('stage', '=', f.stage)
    const rows = (await q.execute()) as {
      hour_ms: number | string
      version: string
      stage: string
      field: string
      chunk: number | string
      n: number | string
      data: unknown
      wm: number | string | null
    }[]
    const wm = rows.length > 0 ? Number(rows[0]!.wm ?? 0) : await this.derived.watermark('profiles')
    // Group by chunk: the timestamps decide which rows of an edge hour are in the window.
    const groups = new Map<string, { hourMs: number; n: number; byField: Map<string, unknown> }>()
    for (const r of rows) {
      const k = `${r.hour_ms}\u0000${r.version}\u0000${r.stage}\u0000${r.chunk}`
      let g = groups.get(k)
      if (!g) groups.set(k, (g = { hourMs: Number(r.hour_ms), n: Number(r.n), byField: new Map() }))
      g.byField.set(r.field, r.data)
    }
    const parts = new Map<string, ColumnChunk[]>(fields.map((x) => [x, []]))
    let n = 0
    for (const g of groups.values()) {
      if (fields.some((x) => !g.byField.has(x))) return { reason: 'stored values do not cover every field' }
      let keep: Uint8Array | undefined
      const edge = (f.fromMs !== undefined && g.hourMs < f.fromMs) || (f.toMs !== undefined && g.hourMs + HOUR_MS > f.toMs)
      if (edge) {
        const tsData = g.byField.get(TS_FIELD)
        const ts = tsData === undefined ? undefined : decodeColumnChunk(blobBytes(tsData))
        if (ts?.kind !== 'numerical') return { reason: 'stored timestamps missing' }
        keep = new Uint8Array(ts.length)
        for (let i = 0; i < ts.length; i++) {
          const t = ts.values[i]!
          keep[i] = (f.fromMs === undefined || t >= f.fromMs) && (f.toMs === undefined || t < f.toMs) ? 1 : 0
        }
      }
      for (const x of fields) {
        const c = decodeColumnChunk(blobBytes(g.byField.get(x)))
        if (c.length !== g.n) return { reason: 'stored values do not line up' }
        parts.get(x)!.push(keep ? filterColumnChunk(c, keep) : c)
      }
      n += keep ? keep.reduce((s, v) => s + v, 0) : g.n
    }
    // Batches the consumer has not applied yet: read from the log.
    let tail = 0
    if (wm < upTo) {
      const getters = fields.map((x) => compileFieldPath(x))
      const builders = fields.map(() => createColumnBuilder())
      for await (const chunk of this.log.scanEvents(project, f, { after: wm, upTo }, 1000)) {
        for (const row of chunk) {
          const event = JSON.parse(row.body) as unknown
          for (let i = 0; i < getters.length; i++) builders[i]!.push(getters[i]!(event))
          tail++
        }
      }
      fields.forEach((x, i) => parts.get(x)!.push(builders[i]!.finish()))
    }
    const columns = new Map<string, Column>()
    for (const [x, list] of parts) {
      const c = concatColumnChunks(list)
      if (!c) return { reason: `${x}: values that need the rows (mixed types or embeddings)` }
      columns.set(x, c)
    }
    return { columns, rows: n + tail, tail }
  }
}
