import { sql } from 'kysely'
import type { DerivedMigration } from '../feed/derived-schema.js'

/** Bucket grains kept: minute (recent only), hour and day. */
export type Grain = 'm' | 'h' | 'd'

/** Length of a bucket of each grain, ms. */
export const GRAIN_MS: Readonly<Record<Grain, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 }

/** How long minute buckets are kept, ms (hour and day buckets are kept with the log). Default 8 days. */
export const MINUTE_RETENTION_MS = 8 * 86_400_000

/** A column value that stands for "every value" in a roll-up row. */
export const ALL = '*'

/** The dimensions every bucket row carries (besides the model). */
export const FIXED_DIMS = ['version', 'stage', 'arm', 'endpoint'] as const
export type FixedDim = (typeof FIXED_DIMS)[number]

/**
 * A dimension value as stored: JSON text of the value (`"B"`, `null`), so it can never be the
 * roll-up marker {@link ALL}, whatever the client named its arms or versions.
 */
export function dimValue(v: string | null | undefined): string {
  return v === undefined || v === null ? 'null' : JSON.stringify(v)
}

/** The value back from {@link dimValue}. */
export function readDimValue(stored: string): string | null {
  return stored === 'null' ? null : (JSON.parse(stored) as string)
}

/**
 * The columns of a bucket row's key (`metric_rows`' primary key), for statements that write rows
 * by key. The migrations below keep their own literal copy: a migration never changes.
 */
export const ROW_KEY_COLUMNS = ['project', 'model', 'grain', ...FIXED_DIMS, 'dim_key', 'dim_value', 'start_ms'] as const

/** The identity of one bucket row. */
export interface RowKey {
  project: string
  model: string
  grain: Grain
  version: string
  stage: string
  arm: string
  endpoint: string
  /** '' for rows of the fixed dimensions; else a declared `entity.KEY` / `tag.KEY`. */
  dimKey: string
  /** `dimValue` of the declared dimension ('' when `dimKey` is ''). */
  dimValue: string
  startMs: number
}

/** A row key as one string (map keys). */
export function rowId(k: RowKey): string {
  return [k.project, k.model, k.grain, k.version, k.stage, k.arm, k.endpoint, k.dimKey, k.dimValue, k.startMs].join('\u0000')
}

/** Start of the bucket of grain `g` holding `tsMs` (UTC). */
export function bucketStart(tsMs: number, g: Grain): number {
  const len = GRAIN_MS[g]
  return Math.floor(tsMs / len) * len
}

/** The fixed-dimension values of one event, already encoded with {@link dimValue}. */
export interface EventDims {
  version: string
  stage: string
  arm: string
  endpoint: string
  /** Declared dimensions of its model: key → encoded value (capped). */
  declared: Record<string, string>
}

/**
 * Every row one event (or one of its labels) counts in. Minute rows: the event's own dimensions,
 * plus one per declared dimension. Hour and day rows: also every roll-up where any of version,
 * stage, arm and endpoint is {@link ALL} (16 combinations), so a query for any group-by and filter
 * over them reads exactly one row per point; declared dimensions roll up with version only.
 */
export function rowsOf(project: string, model: string, tsMs: number, d: EventDims): RowKey[] {
  return [
    ...rowsOfGrain(project, model, 'm', tsMs, d),
    ...rowsOfGrain(project, model, 'h', tsMs, d),
    ...rowsOfGrain(project, model, 'd', tsMs, d),
  ]
}

/** The rows of {@link rowsOf} of one grain (an aggregate of one bucket and one set of dimensions counts in all of them). */
export function rowsOfGrain(project: string, model: string, grain: Grain, tsMs: number, d: EventDims): RowKey[] {
  const out: RowKey[] = []
  const startMs = bucketStart(tsMs, grain)
  // Object literals of one shape (no spreads): this runs for every touched bucket of a step.
  const row = (version: string, stage: string, arm: string, endpoint: string, dimKey: string, dimValue: string): RowKey => ({
    project,
    model,
    grain,
    version,
    stage,
    arm,
    endpoint,
    dimKey,
    dimValue,
    startMs,
  })
  if (grain === 'm') {
    out.push(row(d.version, d.stage, d.arm, d.endpoint, '', ''))
    for (const [k, v] of Object.entries(d.declared)) out.push(row(d.version, ALL, ALL, ALL, k, v))
    return out
  }
  for (let mask = 0; mask < 16; mask++) {
    out.push(row(mask & 1 ? ALL : d.version, mask & 2 ? ALL : d.stage, mask & 4 ? ALL : d.arm, mask & 8 ? ALL : d.endpoint, '', ''))
  }
  for (const [k, v] of Object.entries(d.declared)) {
    out.push(row(d.version, ALL, ALL, ALL, k, v))
    out.push(row(ALL, ALL, ALL, ALL, k, v))
  }
  return out
}

/** Tables of the metrics consumer. */
export const METRICS_SCHEMA: readonly DerivedMigration[] = [
  async (db) => {
    await db.schema
      .createTable('metric_rows')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('grain', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('arm', 'text', (c) => c.notNull())
      .addColumn('endpoint', 'text', (c) => c.notNull())
      .addColumn('dim_key', 'text', (c) => c.notNull())
      .addColumn('dim_value', 'text', (c) => c.notNull())
      .addColumn('start_ms', 'bigint', (c) => c.notNull())
      .addColumn('n', 'bigint', (c) => c.notNull())
      .addColumn('agg', 'text', (c) => c.notNull())
      // Bumped by every change; `point` is the finalized reply point of revision `point_rev`.
      .addColumn('rev', 'bigint', (c) => c.notNull())
      .addColumn('point', 'text')
      .addColumn('point_rev', 'bigint')
      .addPrimaryKeyConstraint('metric_rows_pk', [
        'project',
        'model',
        'grain',
        'version',
        'stage',
        'arm',
        'endpoint',
        'dim_key',
        'dim_value',
        'start_ms',
      ])
      .execute()
    // The effective label (or conversion) of each (event, feedback name), with what it added, so a
    // replacement retracts exactly that; `pending` while the event has not been seen.
    await db.schema
      .createTable('metric_labels')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('fb_ts_ms', 'bigint', (c) => c.notNull())
      .addColumn('fb_order', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('pending', 'integer', (c) => c.notNull())
      .addColumn('event', 'text')
      .addColumn('contribution', 'text')
      .addPrimaryKeyConstraint('metric_labels_pk', ['project', 'event_id', 'name'])
      .execute()
    await db.schema
      .createIndex('metric_labels_pending')
      .on('metric_labels')
      .columns(['project', 'event_id'])
      .where(sql.ref('pending'), '=', 1)
      .execute()
    await db.schema
      .createTable('metric_dim_values')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('dim_key', 'text', (c) => c.notNull())
      .addColumn('dim_value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('metric_dim_values_pk', ['project', 'model', 'dim_key', 'dim_value'])
      .execute()
  },
  // `wm`: the feed position of the step that last wrote the row, so a reader holding a reply read
  // at watermark W re-reads only the rows with wm > W (hour and day rows are never deleted).
  async (db) => {
    await db.schema
      .alterTable('metric_rows')
      .addColumn('wm', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute()
    await db.schema.createIndex('metric_rows_wm').on('metric_rows').columns(['project', 'model', 'grain', 'wm']).execute()
  },
]
