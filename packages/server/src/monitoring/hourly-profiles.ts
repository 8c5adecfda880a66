import { createFieldProfile, decodeProfile, type FieldProfile, mergeProfiles } from '@inferlog/analysis'
import { migrateDerived } from '../feed/derived-schema.js'
import type { DerivedStore, EventFilter } from '../store/store.js'
import { blobBytes, COMPLETE_FROM_START, DAY_MS, HOUR_MS, PROFILE_SCHEMA } from './profile-rows.js'

/** Filter keys the hourly profiles can answer; any other needs the raw rows. */
const ANSWERABLE = new Set<keyof EventFilter>(['model', 'version', 'versions', 'stage', 'fromMs', 'toMs'])

/** The span of hours a window is answered with: `[fromMs, toMs)`, open ends as ±Infinity. */
export interface CoveredSpan {
  fromMs: number
  toMs: number
}

/** A window answered from the hourly profiles. */
export interface HourlyWindow {
  profiles: Map<string, FieldProfile>
  /** Events in the covered hours. */
  rows: number
  covered: CoveredSpan
  /** Stored rows merged (day and hour rows, all fields). */
  merged: number
}

/** Why a window cannot be answered from the hourly profiles (the caller scans instead). */
export interface NotAnswerable {
  reason: string
}

/** Rounds a window edge to the nearest hour boundary (half an hour rounds up). */
export function roundToHour(ms: number): number {
  return Math.floor((ms + HOUR_MS / 2) / HOUR_MS) * HOUR_MS
}

/**
 * The hours a window `[from, to)` is answered with: each finite edge rounded to the nearest hour
 * boundary (half up), so adjacent windows stay disjoint and no event is more than half an hour
 * from an edge it should be inside; a window shorter than that becomes the hour holding its
 * `from`. Open ends stay open.
 */
export function coveredSpan(fromMs: number | undefined, toMs: number | undefined): CoveredSpan {
  const from = fromMs === undefined ? Number.NEGATIVE_INFINITY : roundToHour(fromMs)
  const to = toMs === undefined ? Number.POSITIVE_INFINITY : roundToHour(toMs)
  if (!(to > from)) {
    const h = Math.floor((fromMs ?? 0) / HOUR_MS) * HOUR_MS
    return { fromMs: h, toMs: h + HOUR_MS }
  }
  return { fromMs: from, toMs: to }
}

/** Day rows for the whole days inside a span, hour rows for the rest: `[grain, from, to)` ranges. */
export function spanRanges(s: CoveredSpan): ['d' | 'h', number, number][] {
  const firstDay = s.fromMs === Number.NEGATIVE_INFINITY ? s.fromMs : Math.ceil(s.fromMs / DAY_MS) * DAY_MS
  const lastDay = s.toMs === Number.POSITIVE_INFINITY ? s.toMs : Math.floor(s.toMs / DAY_MS) * DAY_MS
  if (firstDay >= lastDay) return [['h', s.fromMs, s.toMs]]
  const out: ['d' | 'h', number, number][] = [['d', firstDay, lastDay]]
  if (s.fromMs < firstDay) out.push(['h', s.fromMs, firstDay])
  if (lastDay < s.toMs) out.push(['h', lastDay, s.toMs])
  return out
}

/**
 * Reads windows from the hourly profiles the `profiles` feed consumer keeps: merges the day rows
 * of whole days and the hour rows at the edges of the covered span ({@link coveredSpan}) per
 * field. A window is answerable when it names its model, uses only model / version / stage /
 * from / to, and every field is monitored and complete over the span.
 */
export class HourlyProfiles {
  private ready: Promise<void> | undefined

  constructor(private readonly derived: DerivedStore) {}

  private ensure(): Promise<void> {
    this.ready ??= migrateDerived(this.derived, 'hourly_profiles', PROFILE_SCHEMA).catch((e) => {
      this.ready = undefined
      throw e
    })
    return this.ready
  }

  /** The consumer's watermark: profiles hold every batch up to this commit position. */
  async position(): Promise<number> {
    return this.derived.watermark('profiles')
  }

  /** The window's profiles, or why they cannot answer it. */
  async window(project: string, f: EventFilter, fields: readonly string[]): Promise<HourlyWindow | NotAnswerable> {
    const extra = (Object.keys(f) as (keyof EventFilter)[]).filter((k) => f[k] !== undefined && !ANSWERABLE.has(k))
    if (extra.length > 0) return { reason: `the filter uses ${extra.join(', ')}, which hourly profiles do not keep` }
    if (!f.model) return { reason: 'the filter names no model' }
    await this.ensure()
    const covered = coveredSpan(f.fromMs, f.toMs)
    const coverage = (await this.derived.db
      .selectFrom('profile_fields')
      .select(['field', 'from_ms'])
      .where('project', '=', project)
      .where('model', '=', f.model)
      .execute()) as { field: string; from_ms: number | string }[]
    const from = new Map(coverage.map((c) => [c.field, Number(c.from_ms)]))
    const missing = fields.filter((x) => !from.has(x))
    if (missing.length > 0) return { reason: `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not monitored for ${f.model}` }
    const late = fields.filter((x) => from.get(x)! !== COMPLETE_FROM_START && from.get(x)! > covered.fromMs)
    if (late.length > 0) {
      const since = new Date(Math.max(...late.map((x) => from.get(x)!))).toISOString()
      return { reason: `${late.join(', ')} ${late.length > 1 ? 'have' : 'has'} complete hourly profiles from ${since} only` }
    }
    const versions = f.versions ?? (f.version !== undefined ? [f.version] : undefined)
    const parts = new Map<string, FieldProfile[]>(fields.map((x) => [x, []]))
    let merged = 0
    for (const [grain, lo, hi] of spanRanges(covered)) {
      let q = this.derived.db
        .selectFrom('profile_rows')
        .select(['field', 'profile'])
        .where('project', '=', project)
        .where('model', '=', f.model)
        .where('grain', '=', grain)
        .where('field', 'in', fields as string[])
      if (lo !== Number.NEGATIVE_INFINITY) q = q.where('start_ms', '>=', lo)
      if (hi !== Number.POSITIVE_INFINITY) q = q.where('start_ms', '<', hi)
      if (versions) q = q.where('version', 'in', versions)
      if (f.stage !== undefined) q = q.where('stage', '=', f.stage)
      const rows = (await q.execute()) as { field: string; profile: unknown }[]
      for (const r of rows) parts.get(r.field)?.push(decodeProfile(blobBytes(r.profile)))
      merged += rows.length
    }
    const profiles = new Map<string, FieldProfile>()
    let rows = 0
    for (const [field, ps] of parts) {
      const p = ps.length === 0 ? createFieldProfile() : ps.length === 1 ? ps[0]! : mergeProfiles(...ps)
      profiles.set(field, p)
      rows = Math.max(rows, p.count)
    }
    return { profiles, rows, covered, merged }
  }
}
