import {
  addValue,
  type ColumnBuilder,
  type ColumnChunk,
  compileFieldPath,
  concatColumnChunks,
  createColumnBuilder,
  createFieldProfile,
  decodeColumnChunk,
  encodeColumnChunk,
  decodeProfile,
  encodeProfile,
  type FieldGetter,
  type FieldProfile,
  mergeProfiles,
  numericalColumn,
  type ProfileOptions,
} from '@inferlog/analysis'
import type { FeedConsumer, FeedContext } from '../feed/feed-consumer.js'
import { migrateDerived } from '../feed/derived-schema.js'
import { CompiledFor, RowsTemplate } from '../feed/write-template.js'
import type { CompiledWrite, CommittedBatch, LogScanner } from '../store/store.js'
import { bodyOnly } from '../store/ports/partial-body.js'
import { configKey, type ModelConfigs } from './model-config.js'
import {
  blobBytes,
  COMPLETE_FROM_START,
  dayStart,
  HOUR_MS,
  hourStart,
  MAX_CHUNKS_PER_HOUR,
  PROFILE_SCHEMA,
  type ProfileGrain,
  TS_FIELD,
} from './profile-rows.js'

/** Options of {@link ProfilesConsumer}. */
export interface ProfilesConsumerOptions {
  /** Sketch parameters of the stored profiles. Default the `ProfileOptions` defaults (KLL k = 400, …). */
  profile?: ProfileOptions
  /**
   * Least time between steps that are not catching up, ms: each step rewrites the hour and day
   * rows it touches, so live traffic is gathered into about one step a second. Default 1000.
   */
  minStepIntervalMs?: number
}

/** One stored row's identity. */
interface RowKey {
  project: string
  model: string
  grain: ProfileGrain
  startMs: number
  version: string
  stage: string
  field: string
}

const PROFILE_FIELDS = ['project', 'model', 'grain', 'start_ms', 'version', 'stage', 'field', 'n', 'profile'] as const
const CHUNK_FIELDS = ['project', 'model', 'hour_ms', 'version', 'stage', 'field', 'chunk', 'n', 'data'] as const

const rowId = (k: RowKey) => [k.project, k.model, k.grain, k.startMs, k.version, k.stage, k.field].join('\u0000')

/** The profiles one step adds to an (hour, version, stage) of a model: one per monitored field. */
interface HourWork {
  project: string
  model: string
  version: string
  stage: string
  hourMs: number
  fields: readonly string[]
  profiles: FieldProfile[]
  /** The step's values of each field, in commit order, and their timestamps. */
  columns: ColumnBuilder[]
  ts: number[]
}

/**
 * Keeps mergeable profiles of each model's declared `monitored_fields` per hour and per day (the
 * day rows roll the hours up, so a month is ~30 rows per field), from the commit feed, exactly
 * once: its rows and its watermark move in one transaction. Events of models without monitored
 * fields are skipped unparsed. Per field it also records from which hour the rows hold every
 * event of the model (`profile_fields`), so readers never answer from incomplete hours.
 */
export class ProfilesConsumer implements FeedConsumer {
  readonly name = 'profiles'
  readonly minStepIntervalMs: number
  private readonly options: ProfileOptions
  private readonly getters = new Map<string, FieldGetter>()
  /** The upsert of a profile row and the insert of a value chunk, compiled once for the store's dialect. */
  private readonly compiled = new CompiledFor((db) => {
    const profile = new RowsTemplate(PROFILE_FIELDS, (rows) =>
      db
        .insertInto('profile_rows')
        .values(rows)
        .onConflict((oc) =>
          oc
            .columns(['project', 'model', 'grain', 'start_ms', 'version', 'stage', 'field'])
            .doUpdateSet((eb) => ({ n: eb.ref('excluded.n'), profile: eb.ref('excluded.profile') })),
        ),
    )
    const chunk = new RowsTemplate(CHUNK_FIELDS, (rows) => db.insertInto('value_chunks').values(rows))
    return { profile, chunk }
  })

  constructor(
    private readonly configs: ModelConfigs,
    private readonly log: Pick<LogScanner, 'scanEvents'>,
    o: ProfilesConsumerOptions = {},
  ) {
    this.options = o.profile ?? {}
    this.minStepIntervalMs = o.minStepIntervalMs ?? 1000
  }

  async prepare(ctx: FeedContext): Promise<void> {
    await migrateDerived(ctx.derived, 'hourly_profiles', PROFILE_SCHEMA)
  }

  private getter(path: string): FieldGetter {
    let g = this.getters.get(path)
    if (!g) this.getters.set(path, (g = compileFieldPath(path)))
    return g
  }

  async apply(batches: readonly CommittedBatch[], ctx: FeedContext): Promise<readonly CompiledWrite[]> {
    const projects = new Set<string>()
    for (const b of batches) for (const e of b.events) projects.add(e.project)
    if (projects.size === 0) return []
    const configs = await this.configs.all([...projects])
    const monitored = new Map<string, readonly string[]>()
    // The top-level members the fields of each model are under: only those are parsed.
    const members = new Map<string, string[]>()
    for (const [k, c] of configs) {
      if (!c.monitored_fields || c.monitored_fields.length === 0) continue
      monitored.set(k, c.monitored_fields)
      members.set(k, [...new Set(c.monitored_fields.map((f) => f.split('.', 1)[0]!))])
    }
    const writes = await this.coverage(ctx, batches, [...projects], monitored)

    const work = new Map<string, HourWork>()
    for (const b of batches) {
      for (const e of b.events) {
        const fields = monitored.get(configKey(e.project, e.model))
        if (!fields) continue
        const hourMs = hourStart(e.tsMs)
        const id = [e.project, e.model, e.version, e.stage, hourMs].join('\u0000')
        let w = work.get(id)
        if (!w) {
          w = {
            project: e.project,
            model: e.model,
            version: e.version,
            stage: e.stage,
            hourMs,
            fields,
            profiles: fields.map(() => createFieldProfile(this.options)),
            columns: fields.map(() => createColumnBuilder()),
            ts: [],
          }
          work.set(id, w)
        }
        const body = bodyOnly(e, members.get(configKey(e.project, e.model))!)
        for (let i = 0; i < fields.length; i++) {
          const v = this.getter(fields[i]!)(body)
          addValue(w.profiles[i]!, v)
          w.columns[i]!.push(v)
        }
        w.ts.push(e.tsMs)
      }
    }
    if (work.size > 0) {
      writes.push(...(await this.rowWrites(ctx, work)))
      writes.push(...(await this.chunkWrites(ctx, work, batches[0]!.position)))
    }
    return writes
  }

  /**
   * Records newly monitored fields and forgets undeclared ones. A field declared when its model
   * already had events committed is complete only from the hour after this step's first batch.
   */
  private async coverage(
    ctx: FeedContext,
    batches: readonly CommittedBatch[],
    projects: string[],
    monitored: Map<string, readonly string[]>,
  ): Promise<CompiledWrite[]> {
    const db = ctx.derived.db
    const rows = (await db
      .selectFrom('profile_fields')
      .select(['project', 'model', 'field'])
      .where('project', 'in', projects)
      .execute()) as { project: string; model: string; field: string }[]
    const known = new Set(rows.map((r) => `${configKey(r.project, r.model)}\u0000${r.field}`))
    const writes: CompiledWrite[] = []
    for (const r of rows) {
      if (monitored.get(configKey(r.project, r.model))?.includes(r.field)) continue
      writes.push(
        db
          .deleteFrom('profile_fields')
          .where('project', '=', r.project)
          .where('model', '=', r.model)
          .where('field', '=', r.field)
          .compile(),
      )
    }
    const first = batches[0]!
    const hadEvents = new Map<string, boolean>()
    for (const [k, fields] of monitored) {
      const fresh = fields.filter((f) => !known.has(`${k}\u0000${f}`))
      if (fresh.length === 0) continue
      const [project, model] = k.split('\u0000') as [string, string]
      let had = hadEvents.get(k)
      if (had === undefined) {
        had = false
        if (first.position > 1) {
          for await (const chunk of this.log.scanEvents(project, { model }, { upTo: first.position - 1 }, 1)) {
            had = chunk.length > 0
            break
          }
        }
        hadEvents.set(k, had)
      }
      const fromMs = had ? hourStart(first.committedMs) + HOUR_MS : COMPLETE_FROM_START
      for (const field of fresh) {
        writes.push(
          db
            .insertInto('profile_fields')
            .values({ project, model, field, since_position: first.position, from_ms: fromMs })
            .onConflict((oc) => oc.columns(['project', 'model', 'field']).doNothing())
            .compile(),
        )
      }
    }
    return writes
  }

  /**
   * One chunk per (hour key, field) with the step's values; an hour key that would pass
   * {@link MAX_CHUNKS_PER_HOUR} chunks is compacted into one instead (same transaction).
   */
  private async chunkWrites(ctx: FeedContext, work: Map<string, HourWork>, chunk: number): Promise<CompiledWrite[]> {
    const db = ctx.derived.db
    const byModel = new Map<string, HourWork[]>()
    for (const w of work.values()) {
      const k = configKey(w.project, w.model)
      const list = byModel.get(k)
      if (list) list.push(w)
      else byModel.set(k, [w])
    }
    const writes: CompiledWrite[] = []
    for (const list of byModel.values()) {
      const { project, model } = list[0]!
      const counts = (await db
        .selectFrom('value_chunks')
        .select(['hour_ms', 'version', 'stage', (eb) => eb.fn.countAll().as('c')])
        .where('project', '=', project)
        .where('model', '=', model)
        .where('field', '=', TS_FIELD)
        .where('hour_ms', 'in', [...new Set(list.map((w) => w.hourMs))])
        .groupBy(['hour_ms', 'version', 'stage'])
        .execute()) as { hour_ms: number | string; version: string; stage: string; c: number | string }[]
      const have = new Map(counts.map((r) => [`${Number(r.hour_ms)}\u0000${r.version}\u0000${r.stage}`, Number(r.c)]))
      for (const w of list) {
        const fresh = new Map<string, ColumnChunk>([[TS_FIELD, numericalColumn(Float64Array.from(w.ts))]])
        w.fields.forEach((f, i) => fresh.set(f, w.columns[i]!.finish()))
        const key = { project, model, hour_ms: w.hourMs, version: w.version, stage: w.stage }
        let rows = fresh
        let id = chunk
        if ((have.get(`${w.hourMs}\u0000${w.version}\u0000${w.stage}`) ?? 0) + 1 > MAX_CHUNKS_PER_HOUR) {
          const merged = await this.compacted(ctx, key, fresh)
          rows = merged.columns
          id = merged.chunk
          writes.push(
            db
              .deleteFrom('value_chunks')
              .where('project', '=', project)
              .where('model', '=', model)
              .where('hour_ms', '=', w.hourMs)
              .where('version', '=', w.version)
              .where('stage', '=', w.stage)
              .where('chunk', '>=', merged.chunk)
              .compile(),
          )
        }
        const t = this.compiled.get(ctx.derived.db).chunk
        const values = [...rows].map(([field, col]) => ({
          ...key,
          field,
          chunk: id,
          n: col.length,
          data: Buffer.from(encodeColumnChunk(col)),
        }))
        writes.push(...t.bind(values))
      }
    }
    return writes
  }

  /**
   * The newest stored chunks of an hour key merged with the step's, one column per field (opaque
   * where they do not line up). Size-tiered: walking back from the newest, a chunk joins while it
   * holds at most 4× the rows gathered so far, so big old chunks are rewritten rarely (each row
   * O(log n) times) and an hour keeps few chunks.
   */
  private async compacted(
    ctx: FeedContext,
    key: { project: string; model: string; hour_ms: number; version: string; stage: string },
    fresh: Map<string, ColumnChunk>,
  ): Promise<{ columns: Map<string, ColumnChunk>; chunk: number }> {
    const db = ctx.derived.db
    const where = <Q extends { where: (...a: any[]) => Q }>(q: Q): Q =>
      q
        .where('project', '=', key.project)
        .where('model', '=', key.model)
        .where('hour_ms', '=', key.hour_ms)
        .where('version', '=', key.version)
        .where('stage', '=', key.stage)
    const sizes = (await where(db.selectFrom('value_chunks').select(['chunk', 'n']).where('field', '=', TS_FIELD))
      .orderBy('chunk')
      .execute()) as { chunk: number | string; n: number | string }[]
    let acc = fresh.get(TS_FIELD)!.length
    let start = sizes.length
    for (let i = sizes.length - 1; i >= 0; i--) {
      const n = Number(sizes[i]!.n)
      if (n > 4 * acc && sizes.length - i > 2) break
      acc += n
      start = i
    }
    const from = start < sizes.length ? Number(sizes[start]!.chunk) : Number.POSITIVE_INFINITY
    const stored = (await where(
      db
        .selectFrom('value_chunks')
        .select(['field', 'chunk', 'data'])
        .where('field', 'in', [...fresh.keys()]),
    )
      .where('chunk', '>=', from)
      .orderBy('chunk')
      .execute()) as { field: string; chunk: number | string; data: unknown }[]
    const parts = new Map<string, { chunks: number[]; cols: ColumnChunk[] }>()
    for (const r of stored) {
      let p = parts.get(r.field)
      if (!p) parts.set(r.field, (p = { chunks: [], cols: [] }))
      p.chunks.push(Number(r.chunk))
      p.cols.push(decodeColumnChunk(blobBytes(r.data)))
    }
    const tsChunks = (parts.get(TS_FIELD)?.chunks ?? []).join(',')
    const total = (parts.get(TS_FIELD)?.cols ?? []).reduce((s, c) => s + c.length, 0) + fresh.get(TS_FIELD)!.length
    const columns = new Map<string, ColumnChunk>()
    for (const [field, col] of fresh) {
      const p = parts.get(field)
      // A field declared within the hour has fewer chunks than the timestamps: its rows no longer line up.
      const aligned = (p?.chunks ?? []).join(',') === tsChunks
      const joined = aligned ? concatColumnChunks([...(p?.cols ?? []), col]) : undefined
      columns.set(field, joined ?? { kind: 'opaque', length: total })
    }
    return { columns, chunk: Number.isFinite(from) ? from : 0 }
  }

  /** Merges the step's profiles into the stored hour and day rows and compiles the upserts. */
  private async rowWrites(ctx: FeedContext, work: Map<string, HourWork>): Promise<CompiledWrite[]> {
    const db = ctx.derived.db
    const targets = new Map<string, { key: RowKey; adds: FieldProfile[] }>()
    for (const w of work.values()) {
      w.fields.forEach((field, i) => {
        for (const [grain, startMs] of [
          ['h', w.hourMs],
          ['d', dayStart(w.hourMs)],
        ] as const) {
          const key: RowKey = { project: w.project, model: w.model, grain, startMs, version: w.version, stage: w.stage, field }
          const id = rowId(key)
          let t = targets.get(id)
          if (!t) targets.set(id, (t = { key, adds: [] }))
          t.adds.push(w.profiles[i]!)
        }
      })
    }
    // Stored rows, fetched per (project, model, grain) by start.
    const groups = new Map<string, { project: string; model: string; grain: ProfileGrain; starts: Set<number>; fields: Set<string> }>()
    for (const t of targets.values()) {
      const g = `${t.key.project}\u0000${t.key.model}\u0000${t.key.grain}`
      let e = groups.get(g)
      if (!e) groups.set(g, (e = { project: t.key.project, model: t.key.model, grain: t.key.grain, starts: new Set(), fields: new Set() }))
      e.starts.add(t.key.startMs)
      e.fields.add(t.key.field)
    }
    const stored = new Map<string, Uint8Array>()
    for (const g of groups.values()) {
      const starts = [...g.starts]
      const rows = (await db
        .selectFrom('profile_rows')
        .select(['start_ms', 'version', 'stage', 'field', 'profile'])
        .where('project', '=', g.project)
        .where('model', '=', g.model)
        .where('grain', '=', g.grain)
        .where('start_ms', 'in', starts)
        .where('field', 'in', [...g.fields])
        .execute()) as { start_ms: number | string; version: string; stage: string; field: string; profile: unknown }[]
      for (const r of rows) {
        const key: RowKey = {
          project: g.project,
          model: g.model,
          grain: g.grain,
          startMs: Number(r.start_ms),
          version: r.version,
          stage: r.stage,
          field: r.field,
        }
        stored.set(rowId(key), blobBytes(r.profile))
      }
    }
    const values: Record<(typeof PROFILE_FIELDS)[number], unknown>[] = []
    for (const [id, t] of targets) {
      const prev = stored.get(id)
      const merged = mergeProfiles(...(prev ? [decodeProfile(prev)] : []), ...t.adds)
      const bytes = Buffer.from(encodeProfile(merged))
      const k = t.key
      values.push({
        project: k.project,
        model: k.model,
        grain: k.grain,
        start_ms: k.startMs,
        version: k.version,
        stage: k.stage,
        field: k.field,
        n: merged.count,
        profile: bytes,
      })
    }
    // One row per key (targets are by row): a few multi-row upserts.
    return this.compiled.get(ctx.derived.db).profile.bind(values)
  }
}
