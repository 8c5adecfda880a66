import {
  addValue,
  type Column,
  compileFieldPath,
  computeDrift,
  computeQuality,
  createColumnBuilder,
  createFieldProfile,
  decodeProfile,
  type DriftReport,
  type DriftRequest,
  driftFromProfiles,
  encodeProfile,
  type FieldProfile,
  type QualityReport,
} from '@inferlog/analysis'
import { InferlogError } from '../errors.js'
import { type DerivedMigration, migrateDerived } from '../feed/derived-schema.js'
import type { DerivedStore, EventFilter, LogScanner } from '../store/store.js'
import { type CoveredSpan, HourlyProfiles } from './hourly-profiles.js'
import { ValueColumns } from './value-columns.js'

/** Most rows one drift window reads in exact mode unless the request asks for a `sample`. Default 1 000 000. */
export const MAX_EXACT_ROWS = 1_000_000

/** A window of a drift request: a FILTER, or a saved profile. */
export type DriftWindow = { filter: EventFilter } | { profile: string }

/** A parsed drift request. */
export interface DriftQuery extends DriftRequest {
  reference: DriftWindow
  current: { filter: EventFilter }
  mode: 'exact' | 'profile'
  /** Rows per window to sample (seeded reservoir), when a window is larger. */
  sample?: number
}

const SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('saved_profiles')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('filter', 'text', (c) => c.notNull())
      .addColumn('fields', 'text', (c) => c.notNull())
      .addColumn('profiles', 'text', (c) => c.notNull())
      .addColumn('rows', 'bigint', (c) => c.notNull())
      .addColumn('created_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('saved_profiles_pk', ['project', 'name'])
      .execute()
  },
]

/** Where the profiles of one window came from, as a drift reply states it. */
export interface WindowSource {
  source: 'saved' | 'hourly' | 'scan' | 'columns'
  /** Hourly: the hours merged, `[from, to)` (null for an open end). */
  covered?: { from: string | null; to: string | null }
  /** Scan: why the hourly profiles (profile mode) or the stored columns (exact mode) could not answer. */
  reason?: string
  /** Columns: events read from the log after the stored columns (the consumer's lag). */
  tail?: number
}

interface ProfileWindow extends WindowSource {
  profiles: Map<string, FieldProfile>
  rows?: number
}

/** The reply of {@link DriftService.drift}: the DESIGN contract plus where the numbers came from. */
export type DriftReply = DriftReport & {
  mode: 'exact' | 'profile'
  reference_rows?: number
  current_rows: number
  sampled?: number
  /** Profile mode: the source of each window. */
  windows?: { reference: WindowSource; current: WindowSource }
  /** When hourly profiles answered: the commit position they hold, and the head at the request. */
  profiles?: { position: number; head: number }
}

function spanJson(s: CoveredSpan): { from: string | null; to: string | null } {
  const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null)
  return { from: iso(s.fromMs), to: iso(s.toMs) }
}

function describe(w: ProfileWindow): WindowSource {
  return { source: w.source, ...(w.covered ? { covered: w.covered } : {}), ...(w.reason ? { reason: w.reason } : {}) }
}

/** A deterministic PRNG for reservoir sampling (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Drift, data quality and saved profiles over the log. Exact mode reads every event of each window
 * committed before the request (a streaming scan; values go straight into typed columns, the
 * events are not kept), refusing windows over {@link MAX_EXACT_ROWS} unless the request asks to
 * `sample` them (a seeded reservoir, so the same data gives the same answer). A saved profile is a
 * mergeable sketch of a window per field (count, missing, moments, quantiles, frequent items,
 * distinct count) that a later request compares against in milliseconds.
 */
export class DriftService {
  private ready: Promise<void> | undefined
  private readonly hourly: HourlyProfiles
  private readonly stored: ValueColumns

  constructor(
    private readonly log: Pick<LogScanner, 'scanEvents' | 'commitHead'>,
    private readonly derived: DerivedStore,
    private readonly now: () => number = Date.now,
  ) {
    this.hourly = new HourlyProfiles(derived)
    this.stored = new ValueColumns(derived, log)
  }

  private ensure(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'profiles', SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  /** Parsed events of a window (committed before the call), in commit order, with their ids. */
  private async *window(
    project: string,
    f: EventFilter,
    max: number | undefined,
    upTo: number,
  ): AsyncGenerator<{ id: string; event: unknown }> {
    let n = 0
    for await (const chunk of this.log.scanEvents(project, f, { upTo }, 1000)) {
      for (const row of chunk) {
        if (max !== undefined && ++n > max) {
          throw new InferlogError('invalid_parameter', `a drift window holds more than ${max} events; narrow it or pass "sample": N`)
        }
        yield { id: row.id, event: JSON.parse(row.body) }
      }
    }
  }

  /** Typed columns of the fields over a window (all rows, or a seeded reservoir of `sample` rows). */
  async columns(
    project: string,
    f: EventFilter,
    fields: readonly string[],
    sample: number | undefined,
    upTo: number,
  ): Promise<{ columns: Map<string, Column>; ids: string[] }> {
    const getters = fields.map((p) => compileFieldPath(p))
    if (sample === undefined) {
      const builders = fields.map(() => createColumnBuilder())
      const ids: string[] = []
      for await (const { id, event } of this.window(project, f, MAX_EXACT_ROWS, upTo)) {
        ids.push(id)
        for (let i = 0; i < getters.length; i++) builders[i]!.push(getters[i]!(event))
      }
      return { columns: new Map(fields.map((p, i) => [p, builders[i]!.finish()])), ids }
    }
    // Reservoir of the extracted values (not the events): memory is sample × fields.
    const rnd = prng(0x1f2e3d4c)
    const kept: { id: string; values: unknown[] }[] = []
    let seen = 0
    for await (const { id, event } of this.window(project, f, undefined, upTo)) {
      seen++
      const values = getters.map((g) => g(event))
      if (kept.length < sample) kept.push({ id, values })
      else {
        const j = Math.floor(rnd() * seen)
        if (j < sample) kept[j] = { id, values }
      }
    }
    const builders = fields.map(() => createColumnBuilder())
    for (const k of kept) for (let i = 0; i < fields.length; i++) builders[i]!.push(k.values[i])
    return { columns: new Map(fields.map((p, i) => [p, builders[i]!.finish()])), ids: kept.map((k) => k.id) }
  }

  /** Profiles of the fields over a window, built streaming (no window cap: sketches are bounded). */
  async profiles(
    project: string,
    f: EventFilter,
    fields: readonly string[],
    upTo: number,
  ): Promise<{ profiles: Map<string, FieldProfile>; rows: number }> {
    const getters = fields.map((p) => compileFieldPath(p))
    const profiles = fields.map(() => createFieldProfile())
    let rows = 0
    for await (const { event } of this.window(project, f, undefined, upTo)) {
      rows++
      for (let i = 0; i < getters.length; i++) addValue(profiles[i]!, getters[i]!(event))
    }
    return { profiles: new Map(fields.map((p, i) => [p, profiles[i]!])), rows }
  }

  /**
   * A window's profiles for profile mode: from the hourly profiles when they can answer it (see
   * {@link HourlyProfiles}), else built by scanning the window.
   */
  private async profileWindow(project: string, f: EventFilter, fields: readonly string[], upTo: number): Promise<ProfileWindow> {
    const hourly = await this.hourly.window(project, f, fields)
    if ('profiles' in hourly) return { source: 'hourly', profiles: hourly.profiles, rows: hourly.rows, covered: spanJson(hourly.covered) }
    const scanned = await this.profiles(project, f, fields, upTo)
    return { source: 'scan', profiles: scanned.profiles, rows: scanned.rows, reason: hourly.reason }
  }

  async drift(project: string, q: DriftQuery): Promise<DriftReply> {
    const upTo = await this.log.commitHead()
    const request: DriftRequest = {
      fields: q.fields,
      ...(q.methods ? { methods: q.methods } : {}),
      ...(q.thresholds ? { thresholds: q.thresholds } : {}),
      ...(q.correction ? { correction: q.correction } : {}),
    }
    if ('profile' in q.reference || q.mode === 'profile') {
      const ref: ProfileWindow =
        'profile' in q.reference
          ? { source: 'saved', profiles: await this.saved(project, q.reference.profile, q.fields) }
          : await this.profileWindow(project, q.reference.filter, q.fields, upTo)
      const cur = await this.profileWindow(project, q.current.filter, q.fields, upTo)
      const report = driftFromProfiles(request, ref.profiles, cur.profiles)
      const windows = { reference: describe(ref), current: describe(cur) }
      const reply: DriftReply = { mode: 'profile', ...report, current_rows: cur.rows ?? 0, windows }
      if (ref.rows !== undefined) reply.reference_rows = ref.rows
      if (ref.source === 'hourly' || cur.source === 'hourly') reply.profiles = { position: await this.hourly.position(), head: upTo }
      return reply
    }
    const [ref, cur] = await Promise.all([
      this.exactWindow(project, q.reference.filter, q.fields, q.sample, upTo),
      this.exactWindow(project, q.current.filter, q.fields, q.sample, upTo),
    ])
    return {
      mode: 'exact',
      ...computeDrift(request, ref.columns, cur.columns),
      reference_rows: ref.rows,
      current_rows: cur.rows,
      ...(q.sample !== undefined ? { sampled: q.sample } : {}),
      windows: { reference: ref.source, current: cur.source },
    }
  }

  /**
   * An exact window: from the stored columns of monitored fields when they can answer it (no
   * JSON parsing, see {@link ValueColumns}), else by scanning the log.
   */
  private async exactWindow(
    project: string,
    f: EventFilter,
    fields: readonly string[],
    sample: number | undefined,
    upTo: number,
  ): Promise<{ columns: Map<string, Column>; rows: number; source: WindowSource }> {
    // A sample is a seeded reservoir over the log's order: always scanned.
    const stored = sample === undefined ? await this.stored.window(project, f, fields, upTo) : { reason: 'sampled' }
    if ('columns' in stored) {
      if (stored.rows > MAX_EXACT_ROWS)
        throw new InferlogError(
          'invalid_parameter',
          `a drift window holds more than ${MAX_EXACT_ROWS} events; narrow it or pass "sample": N`,
        )
      return { columns: stored.columns, rows: stored.rows, source: { source: 'columns', tail: stored.tail } }
    }
    const scanned = await this.columns(project, f, fields, sample, upTo)
    return { columns: scanned.columns, rows: scanned.ids.length, source: { source: 'scan', reason: stored.reason } }
  }

  async quality(
    project: string,
    reference: EventFilter,
    current: EventFilter,
    fields: readonly string[],
    sample: number | undefined,
  ): Promise<QualityReport> {
    const upTo = await this.log.commitHead()
    const [ref, cur] = await Promise.all([
      this.columns(project, reference, fields, sample, upTo),
      this.columns(project, current, fields, sample, upTo),
    ])
    return computeQuality(fields, ref.columns, cur.columns, { reference: ref.ids, current: cur.ids })
  }

  /** Saves the profile of a window under a name (replacing an earlier one of that name). */
  async saveProfile(
    project: string,
    name: string,
    f: EventFilter,
    fields: readonly string[],
  ): Promise<{ name: string; fields: readonly string[]; rows: number; created_at: string }> {
    await this.ensure()
    const { profiles, rows } = await this.profiles(project, f, fields, await this.log.commitHead())
    const encoded = Object.fromEntries([...profiles].map(([k, p]) => [k, Buffer.from(encodeProfile(p)).toString('base64')]))
    const now = this.now()
    const row = {
      project,
      name,
      filter: JSON.stringify(f),
      fields: JSON.stringify(fields),
      profiles: JSON.stringify(encoded),
      rows,
      created_ms: now,
    }
    const { project: _p, name: _n, ...update } = row
    await this.derived.write([
      this.derived.db
        .insertInto('saved_profiles')
        .values(row)
        .onConflict((oc) => oc.columns(['project', 'name']).doUpdateSet(update))
        .compile(),
    ])
    return { name, fields, rows, created_at: new Date(now).toISOString() }
  }

  async listProfiles(project: string): Promise<{ name: string; fields: string[]; rows: number; created_at: string }[]> {
    await this.ensure()
    const rows = (await this.derived.db
      .selectFrom('saved_profiles')
      .select(['name', 'fields', 'rows', 'created_ms'])
      .where('project', '=', project)
      .orderBy('name')
      .execute()) as Record<string, unknown>[]
    return rows.map((r) => ({
      name: r.name as string,
      fields: JSON.parse(r.fields as string) as string[],
      rows: Number(r.rows),
      created_at: new Date(Number(r.created_ms)).toISOString(),
    }))
  }

  /** A saved profile's sketches for `fields` (every field must have been profiled). 404 when unknown. */
  async saved(project: string, name: string, fields?: readonly string[]): Promise<Map<string, FieldProfile>> {
    await this.ensure()
    const r = (await this.derived.db
      .selectFrom('saved_profiles')
      .select('profiles')
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst()) as { profiles: string } | undefined
    if (!r) throw new InferlogError('not_found', `no saved profile ${JSON.stringify(name)} (POST /v1/profiles)`)
    const all = JSON.parse(r.profiles) as Record<string, string>
    const out = new Map<string, FieldProfile>()
    for (const [k, v] of Object.entries(all))
      if (!fields || fields.includes(k)) out.set(k, decodeProfile(new Uint8Array(Buffer.from(v, 'base64'))))
    return out
  }
}
