import {
  costOf,
  type PriceLookup,
  addConversion,
  addEvent,
  addLabel,
  createMetricsAggregate,
  decodeAggregate,
  encodeAggregate,
  inferLabelConfig,
  type LabelConfig,
  type LabelContribution,
  labelContributionOf,
  type MetricsAggregate,
  mergeAggregate,
  mergeAggregates,
  observationOf,
  retractLabel,
  weightOf,
  withinAttributionWindow,
} from '@inferlog/analysis'
import type { InferenceEvent } from '@inferlog/schema'
import type { FeedConsumer, FeedContext } from '../feed/feed-consumer.js'
import { migrateDerived } from '../feed/derived-schema.js'
import { CompiledFor, RowsTemplate } from '../feed/write-template.js'
import type { CompiledWrite, CommittedBatch, LoggedEvent, LoggedFeedback, LogScanner } from '../store/store.js'
import { bodyWithout } from '../store/ports/partial-body.js'
import { parsedBody } from '../store/ports/parsed-body.js'
import { configKey, MAX_DIMENSION_VALUES, type ModelConfig, type ModelConfigs } from './model-config.js'
import {
  bucketStart,
  dimValue,
  type EventDims,
  type Grain,
  METRICS_SCHEMA,
  MINUTE_RETENTION_MS,
  ROW_KEY_COLUMNS,
  type RowKey,
  rowId,
  rowsOfGrain,
} from './metric-rows.js'
import { type PriceTables } from './price-tables.js'
import { type LabelState, labelStateTemplate, labelStateWrites, loadLabelStates } from './metric-labels.js'

type Json = InferenceEvent['output']

const UPSERT_FIELDS = [...ROW_KEY_COLUMNS, 'n', 'agg', 'wm'] as const

type UpsertField = (typeof UPSERT_FIELDS)[number]

/** Top-level members of an event the metrics never read: left unparsed (`bodyWithout`). */
const UNREAD_MEMBERS = ['input', 'internals'] as const

/** Options of {@link MetricsConsumer}. */
export interface MetricsConsumerOptions {
  /** Implicit feedback counts as a conversion when it happens within this long after the event, ms. Default 1 day. */
  attributionWindowMs?: number
  /** Epoch-ms clock (purging old minute buckets). Default `Date.now`. */
  now?: () => number
  /**
   * Most bucket rows kept decoded in memory between steps (the least recently written go first).
   * Default 5 000.
   */
  hotRows?: number
  /**
   * Least time between steps that are not catching up, ms: a step rewrites every minute, hour and
   * day row its events count in (33 or more per event identity), a cost per step rather than per
   * event, so live traffic is gathered into about one step a second (buckets reflect a commit
   * within about this long plus one step). Default 1000.
   */
  minStepIntervalMs?: number
}

/** What the consumer keeps of an event to place its labels. */
export interface EventFacts {
  model: string
  tsMs: number
  weight: number
  dims: EventDims
}

interface ParsedEvent {
  row: LoggedEvent
  facts: EventFacts
  body: InferenceEvent
}

/**
 * Work on one set of rows (an event identity and minute, or hour when the minute is past its
 * retention): additions merged, retractions applied after.
 */
interface RowWork {
  project: string
  facts: EventFacts
  add: MetricsAggregate
  retract: { name: string; c: LabelContribution }[]
  /** The piece has minute rows (its minute is within {@link MINUTE_RETENTION_MS}). */
  minute: boolean
}

/** Pieces of work of one bucket and identity, combined before they go into that bucket's rows. */
interface Combined {
  project: string
  facts: EventFacts
  adds: MetricsAggregate[]
  retract: RowWork['retract']
}

/**
 * The key of an event identity's piece of one bucket (per event: no JSON). Dimension values are
 * JSON texts (no raw NUL), so NUL separates them; a project or model name holding one falls back
 * to JSON.
 */
function identity(project: string, f: EventFacts, grain: Grain): string {
  if (project.includes('\u0000') || f.model.includes('\u0000'))
    return JSON.stringify([project, f.model, bucketStart(f.tsMs, grain), f.dims])
  const d = f.dims
  let k = `${project}\u0000${f.model}\u0000${bucketStart(f.tsMs, grain)}\u0000${d.version}\u0000${d.stage}\u0000${d.arm}\u0000${d.endpoint}`
  for (const name in d.declared) k += `\u0000${name}\u0000${d.declared[name]}`
  return k
}

/**
 * Keeps the metrics buckets (`metric_rows`) from the commit feed, exactly once: every event
 * counts in its minute, hour and day rows and their roll-ups; every label counts in its **event's**
 * rows however late it arrives, and a newer label of the same name retracts the older one's exact
 * contribution (`metric_labels`); feedback that arrives before its event waits there and is
 * applied when the event's batch comes. Implicit feedback is a conversion when it happens within
 * the attribution window of its event.
 */
export class MetricsConsumer implements FeedConsumer {
  readonly name = 'metrics'
  readonly minStepIntervalMs: number
  private readonly windowMs: number
  private readonly now: () => number
  private readonly inferred = new Map<string, LabelConfig | null>()
  private lastPurgeMs = 0
  private readonly hotRows: number
  /**
   * Bucket rows as the store holds them at watermark {@link hotAt}, decoded, least recently
   * written first: a step merges into these instead of reading, decoding and re-merging each
   * touched row. Valid only while steps follow each other from the position the runner last
   * reported committed; dropped otherwise (a step that did not commit, another holder).
   */
  private readonly hot = new Map<string, MetricsAggregate>()
  private hotAt: number | undefined
  /** The bucket row upsert, compiled once for the store's dialect. */
  private readonly upserts = new CompiledFor(
    (db): RowsTemplate<UpsertField> =>
      new RowsTemplate(UPSERT_FIELDS, (rows) =>
        db
          .insertInto('metric_rows')
          .values(rows.map((v) => ({ ...v, rev: 1, point: null, point_rev: null })))
          .onConflict((oc) =>
            oc.columns([...ROW_KEY_COLUMNS]).doUpdateSet((eb) => ({
              n: eb.ref('excluded.n'),
              agg: eb.ref('excluded.agg'),
              wm: eb.ref('excluded.wm'),
              rev: eb('metric_rows.rev', '+', 1),
              point: null,
            })),
          ),
      ),
  )
  /** The label state upsert, compiled once for the store's dialect. */
  private readonly labelUpserts = new CompiledFor(labelStateTemplate)

  constructor(
    private readonly configs: ModelConfigs,
    private readonly log: Pick<LogScanner, 'eventsByIds'>,
    private readonly prices: PriceTables,
    o: MetricsConsumerOptions = {},
  ) {
    this.windowMs = o.attributionWindowMs ?? 86_400_000
    this.now = o.now ?? Date.now
    this.hotRows = o.hotRows ?? 5_000
    this.minStepIntervalMs = o.minStepIntervalMs ?? 1000
  }

  committed(position: number): void {
    this.hotAt = position
  }

  async prepare(ctx: FeedContext): Promise<void> {
    await migrateDerived(ctx.derived, this.name, METRICS_SCHEMA)
  }

  async apply(batches: readonly CommittedBatch[], ctx: FeedContext): Promise<readonly CompiledWrite[]> {
    // The hot rows hold the store's state only if this step starts where the last committed one
    // ended; until this step is reported committed they are in flux (merged in place).
    if (ctx.from === undefined || ctx.from !== this.hotAt) this.hot.clear()
    this.hotAt = undefined
    const events: LoggedEvent[] = []
    const feedback: LoggedFeedback[] = []
    for (const b of batches) {
      events.push(...b.events)
      feedback.push(...b.feedback)
    }
    const projects = [...new Set([...events.map((e) => e.project), ...feedback.map((f) => f.project)])]
    const configs = await this.configs.all(projects)
    const dims = await this.dimensionValues(ctx, events, configs)
    const work = new Map<string, RowWork>()
    // Events whose minute rows are past retention (a backfill) count in hours and days only: their
    // pieces are per hour, so a sparse hour is one piece instead of one per event.
    const minuteFloor = this.now() - MINUTE_RETENTION_MS
    const workFor = (project: string, facts: EventFacts) => {
      const minute = bucketStart(facts.tsMs, 'm') >= minuteFloor
      const id = identity(project, facts, minute ? 'm' : 'h')
      let w = work.get(id)
      if (!w) work.set(id, (w = { project, facts, add: createMetricsAggregate(), retract: [], minute }))
      return w
    }

    const parsed = new Map<string, ParsedEvent>()
    const lookups = new Map<string, PriceLookup | undefined>()
    for (const p of projects) lookups.set(p, await this.prices.lookup(p))
    for (const row of events) {
      const p = this.parse(row, configs, dims)
      parsed.set(`${row.project}\u0000${row.id}`, p)
      // A cost the client did not send comes from the price in effect at the event's time.
      const lookup = lookups.get(row.project)
      const usage = p.body.usage
      const derived = lookup && usage && usage.cost_usd === undefined ? costOf(usage, lookup(row.model, row.tsMs)).cost_usd : undefined
      addEvent(workFor(row.project, p.facts).add, observationOf(p.body, derived))
    }

    // Label states of every (event, name) this step touches, and of feedback waiting for these events.
    const states = await loadLabelStates(
      ctx.derived,
      feedback.map((f) => ({ project: f.project, eventId: f.eventId, name: f.name })),
      events.map((e) => ({ project: e.project, eventId: e.id })),
    )
    const changed = new Set<LabelState>()

    // Events this feedback is about that were applied in earlier steps: their output is needed.
    const missing = new Map<string, Set<string>>()
    for (const f of feedback) {
      if (parsed.has(`${f.project}\u0000${f.eventId}`)) continue
      const s = states.get(f.project, f.eventId, f.name)
      if (s && s.pending) continue
      let ids = missing.get(f.project)
      if (!ids) missing.set(f.project, (ids = new Set()))
      ids.add(f.eventId)
    }
    const older = new Map<string, ParsedEvent>()
    for (const [project, ids] of missing) {
      for (const row of await this.log.eventsByIds(project, [...ids]))
        older.set(`${project}\u0000${row.id}`, this.parse(row, configs, dims))
    }
    const eventOf = (project: string, id: string) => parsed.get(`${project}\u0000${id}`) ?? older.get(`${project}\u0000${id}`)

    // Feedback that waited for an event of this step: apply it now, in the event's rows.
    for (const s of states.pendingFor(events)) {
      const e = eventOf(s.project, s.eventId)
      if (!e) continue
      s.pending = false
      s.facts = e.facts
      this.settle(s, e, configs, workFor)
      changed.add(s)
    }

    for (const f of feedback) {
      const body = parsedBody<{ value: Json; kind?: string }>(f)
      const e = eventOf(f.project, f.eventId)
      const s =
        states.get(f.project, f.eventId, f.name) ??
        states.create(f.project, f.eventId, f.name, body.kind === 'implicit' ? 'conversion' : 'label')
      changed.add(s)
      if (s.kind === 'conversion') {
        s.times = [...s.times, f.tsMs].sort((a, b) => a - b).slice(0, 32)
      } else if (s.order === null || f.tsMs > s.order[0] || (f.tsMs === s.order[0] && f.seq > s.order[1])) {
        // A newer label replaces the effective one (by the time the signal happened, not arrival).
        s.order = [f.tsMs, f.seq]
        s.value = body.value
      } else continue
      if (!e) {
        s.pending = true
        continue
      }
      s.pending = false
      s.facts = e.facts
      this.settle(s, e, configs, workFor)
    }

    const dimWrites = dims.added.map((d) =>
      ctx.derived.db
        .insertInto('metric_dim_values')
        .values(d)
        .onConflict((oc) => oc.doNothing())
        .compile(),
    )
    return [
      ...(await this.rowWrites(ctx, work.values(), batches[batches.length - 1]?.position ?? 0)),
      ...labelStateWrites(this.labelUpserts.get(ctx.derived.db), changed),
      ...dimWrites,
      ...this.purge(ctx),
    ]
  }

  /** Brings a label state's contribution in line with its effective value: retract the old one, add the new one. */
  private settle(s: LabelState, e: ParsedEvent, configs: Map<string, ModelConfig>, workFor: (p: string, f: EventFacts) => RowWork): void {
    const w = workFor(s.project, e.facts)
    if (s.kind === 'conversion') {
      if (s.converted) return
      if (s.times.some((t) => withinAttributionWindow(e.facts.tsMs, t, this.windowMs))) {
        addConversion(w.add, s.name, e.facts.weight)
        s.converted = true
      }
      return
    }
    if (s.contribution && s.contributedTo) workFor(s.project, s.contributedTo).retract.push({ name: s.name, c: s.contribution })
    s.contribution = undefined
    s.contributedTo = undefined
    const config = this.labelConfig(s.project, e, s.name, s.value, configs)
    if (!config) return
    const c = labelContributionOf(e.body.output, s.value ?? null, config, e.facts.weight)
    if (!c) return
    addLabel(w.add, s.name, c)
    s.contribution = c
    s.contributedTo = e.facts
  }

  /** The declared label config, or the one inferred from the first output seen (kept per model and name). */
  private labelConfig(
    project: string,
    e: ParsedEvent,
    name: string,
    value: Json,
    configs: Map<string, ModelConfig>,
  ): LabelConfig | undefined {
    const declared = configs.get(configKey(project, e.facts.model))?.labels?.[name]
    if (declared) return declared
    const k = `${configKey(project, e.facts.model)}\u0000${name}`
    if (!this.inferred.has(k)) this.inferred.set(k, inferLabelConfig(e.body.output, name, value ?? null) ?? null)
    return this.inferred.get(k) ?? undefined
  }

  private parse(row: LoggedEvent, configs: Map<string, ModelConfig>, dims: DimensionValues): ParsedEvent {
    // Metrics never read an event's input or internals (often most of its text).
    const body = bodyWithout<InferenceEvent>(row, UNREAD_MEMBERS)
    const declared: Record<string, string> = {}
    for (const d of configs.get(configKey(row.project, row.model))?.dimensions ?? []) {
      const [scope, key] = [d.slice(0, d.indexOf('.')), d.slice(d.indexOf('.') + 1)]
      const ctx = body.context as { entities?: Record<string, unknown>; tags?: Record<string, unknown> } | undefined
      const raw = (scope === 'entity' ? ctx?.entities : ctx?.tags)?.[key]
      declared[d] = dims.admit(row.project, row.model, d, raw === undefined || raw === null ? null : String(raw))
    }
    return {
      row,
      body,
      facts: {
        model: row.model,
        tsMs: row.tsMs,
        weight: weightOf(body.sample_rate),
        dims: {
          version: dimValue(row.version),
          stage: dimValue(row.stage),
          arm: dimValue(row.arm),
          endpoint: dimValue(typeof body.model?.endpoint === 'string' ? body.model.endpoint : null),
          declared,
        },
      },
    }
  }

  /** Known values of declared dimensions, so each keeps at most {@link MAX_DIMENSION_VALUES}. */
  private async dimensionValues(
    ctx: FeedContext,
    events: readonly LoggedEvent[],
    configs: Map<string, ModelConfig>,
  ): Promise<DimensionValues> {
    const wanted = new Set<string>()
    for (const e of events) if (configs.get(configKey(e.project, e.model))?.dimensions?.length) wanted.add(configKey(e.project, e.model))
    const known = new Map<string, Set<string>>()
    const added: { project: string; model: string; dim_key: string; dim_value: string }[] = []
    for (const pm of wanted) {
      const [project, model] = pm.split('\u0000') as [string, string]
      const rows = (await ctx.derived.db
        .selectFrom('metric_dim_values')
        .select(['dim_key', 'dim_value'])
        .where('project', '=', project)
        .where('model', '=', model)
        .execute()) as { dim_key: string; dim_value: string }[]
      for (const r of rows) {
        const k = `${pm}\u0000${r.dim_key}`
        let s = known.get(k)
        if (!s) known.set(k, (s = new Set()))
        s.add(r.dim_value)
      }
    }
    return {
      added,
      admit(project, model, dim, raw) {
        const v = dimValue(raw)
        const k = `${configKey(project, model)}\u0000${dim}`
        let s = known.get(k)
        if (!s) known.set(k, (s = new Set()))
        if (s.has(v)) return v
        if (s.size >= MAX_DIMENSION_VALUES) return dimValue('(other)')
        s.add(v)
        added.push({ project, model, dim_key: dim, dim_value: v })
        return v
      },
    }
  }

  /**
   * Loads the rows the work touches, applies it, and compiles the upserts. The pieces of one hour
   * and identity are merged once, then into that hour's 16+ roll-up rows; the hours of a day
   * likewise into its rows: a step costs merges per touched row, not per event × row.
   */
  private async rowWrites(ctx: FeedContext, work: Iterable<RowWork>, position: number): Promise<CompiledWrite[]> {
    const db = ctx.derived.db
    const targets = new Map<string, { key: RowKey; adds: MetricsAggregate[]; retract: RowWork['retract'] }>()
    const into = (keys: RowKey[], add: MetricsAggregate, retract: RowWork['retract']) => {
      for (const key of keys) {
        const id = rowId(key)
        let t = targets.get(id)
        if (!t) targets.set(id, (t = { key, adds: [], retract: [] }))
        t.adds.push(add)
        for (const r of retract) t.retract.push(r)
      }
    }
    const combine = (
      m: Map<string, Combined>,
      grain: Grain,
      c: { project: string; facts: EventFacts },
      add: MetricsAggregate,
      retract: RowWork['retract'],
    ) => {
      const id = identity(c.project, c.facts, grain)
      let g = m.get(id)
      if (!g) m.set(id, (g = { project: c.project, facts: c.facts, adds: [], retract: [] }))
      g.adds.push(add)
      for (const r of retract) g.retract.push(r)
    }
    const merged = (g: Combined) => (g.adds.length === 1 ? (g.adds[0] as MetricsAggregate) : mergeAggregates(g.adds))
    const hours = new Map<string, Combined>()
    for (const w of work) {
      // Minute buckets are kept for a while only: old events (a backfill) count in hours and days.
      if (w.minute) into(rowsOfGrain(w.project, w.facts.model, 'm', w.facts.tsMs, w.facts.dims), w.add, w.retract)
      combine(hours, 'h', w, w.add, w.retract)
    }
    const days = new Map<string, Combined>()
    for (const h of hours.values()) {
      const add = merged(h)
      into(rowsOfGrain(h.project, h.facts.model, 'h', h.facts.tsMs, h.facts.dims), add, h.retract)
      combine(days, 'd', h, add, h.retract)
    }
    for (const d of days.values()) into(rowsOfGrain(d.project, d.facts.model, 'd', d.facts.tsMs, d.facts.dims), merged(d), d.retract)
    // Rows not kept hot, fetched per (project, model, grain) by bucket start.
    const groups = new Map<string, { project: string; model: string; grain: string; starts: Set<number> }>()
    for (const [id, t] of targets) {
      if (this.hot.has(id)) continue
      const g = `${t.key.project}\u0000${t.key.model}\u0000${t.key.grain}`
      let e = groups.get(g)
      if (!e) groups.set(g, (e = { project: t.key.project, model: t.key.model, grain: t.key.grain, starts: new Set() }))
      e.starts.add(t.key.startMs)
    }
    const current = new Map<string, string>()
    for (const g of groups.values()) {
      const rows = (await db
        .selectFrom('metric_rows')
        .selectAll()
        .where('project', '=', g.project)
        .where('model', '=', g.model)
        .where('grain', '=', g.grain)
        .where('start_ms', 'in', [...g.starts])
        .execute()) as Record<string, unknown>[]
      for (const r of rows) {
        const key: RowKey = {
          project: r.project as string,
          model: r.model as string,
          grain: r.grain as RowKey['grain'],
          version: r.version as string,
          stage: r.stage as string,
          arm: r.arm as string,
          endpoint: r.endpoint as string,
          dimKey: r.dim_key as string,
          dimValue: r.dim_value as string,
          startMs: Number(r.start_ms),
        }
        current.set(rowId(key), r.agg as string)
      }
    }
    const rows: Record<UpsertField, unknown>[] = []
    for (const [id, t] of targets) {
      let agg = this.hot.get(id)
      if (agg) this.hot.delete(id)
      else {
        const prev = current.get(id)
        agg = prev ? decodeAggregate(prev) : createMetricsAggregate()
      }
      for (const a of t.adds) mergeAggregate(agg, a)
      for (const r of t.retract) retractLabel(agg, r.name, r.c)
      // Most recently written last: the first ones are the coldest.
      this.hot.set(id, agg)
      const k = t.key
      rows.push({
        project: k.project,
        model: k.model,
        grain: k.grain,
        version: k.version,
        stage: k.stage,
        arm: k.arm,
        endpoint: k.endpoint,
        dim_key: k.dimKey,
        dim_value: k.dimValue,
        start_ms: k.startMs,
        n: agg.events.n,
        agg: encodeAggregate(agg),
        wm: position,
      })
    }
    for (const id of this.hot.keys()) {
      if (this.hot.size <= this.hotRows) break
      this.hot.delete(id)
    }
    // Each row's key once (targets are by row): one multi-row upsert per few hundred rows.
    return this.upserts.get(ctx.derived.db).bind(rows)
  }

  /** Minute buckets past their retention, dropped at most once an hour. */
  private purge(ctx: FeedContext): CompiledWrite[] {
    const now = this.now()
    if (now - this.lastPurgeMs < 3_600_000) return []
    this.lastPurgeMs = now
    return [
      ctx.derived.db
        .deleteFrom('metric_rows')
        .where('grain', '=', 'm')
        .where('start_ms', '<', now - MINUTE_RETENTION_MS)
        .compile(),
    ]
  }
}

/** Admission of declared dimension values under their cap, and the values first seen in this step. */
interface DimensionValues {
  added: { project: string; model: string; dim_key: string; dim_value: string }[]
  admit(project: string, model: string, dim: string, raw: string | null): string
}
