import type { DerivedMigration } from '../feed/derived-schema.js'

/** Grains of stored profiles: hour rows, and day rows that roll the hours up. */
export type ProfileGrain = 'h' | 'd'

/** Length of an hour and of a day, ms. */
export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000

/** `from_ms` of a field whose hourly profiles hold every event of its model since the first. */
export const COMPLETE_FROM_START = -8_640_000_000_000_000

/**
 * Tables of the hourly profiles: one row per (project, model, version, stage, grain, start,
 * field) with the encoded profile (`encodeProfile`), and per monitored (project, model, field)
 * the hour from which the rows hold every event of the model (`from_ms`; fields declared after
 * traffic began are complete from the hour after their first profiled batch).
 */
export const PROFILE_SCHEMA: readonly DerivedMigration[] = [
  async (db, dialect) => {
    await db.schema
      .createTable('profile_rows')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('grain', 'text', (c) => c.notNull())
      .addColumn('start_ms', 'bigint', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('field', 'text', (c) => c.notNull())
      .addColumn('n', 'bigint', (c) => c.notNull())
      .addColumn('profile', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
      .addPrimaryKeyConstraint('profile_rows_pk', ['project', 'model', 'grain', 'start_ms', 'version', 'stage', 'field'])
      .execute()
    await db.schema
      .createTable('profile_fields')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('field', 'text', (c) => c.notNull())
      .addColumn('since_position', 'bigint', (c) => c.notNull())
      .addColumn('from_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('profile_fields_pk', ['project', 'model', 'field'])
      .execute()
  },
  async (db, dialect) => {
    // The values themselves, for exact mode: per (model, version, stage, hour, field) chunks of a
    // typed column (`encodeColumnChunk`), one per consumer step (`chunk` = its first commit
    // position), compacted when an hour has many; field `#ts` holds each row's timestamp.
    await db.schema
      .createTable('value_chunks')
      .addColumn('project', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('hour_ms', 'bigint', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('field', 'text', (c) => c.notNull())
      .addColumn('chunk', 'bigint', (c) => c.notNull())
      .addColumn('n', 'bigint', (c) => c.notNull())
      .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
      .addPrimaryKeyConstraint('value_chunks_pk', ['project', 'model', 'hour_ms', 'version', 'stage', 'field', 'chunk'])
      .execute()
  },
]

/** Pseudo-field of {@link PROFILE_SCHEMA}'s value chunks holding each row's timestamp (epoch ms). */
export const TS_FIELD = '#ts'

/** An hour's chunks are compacted into one when a step would make more than this many. Default 16. */
export const MAX_CHUNKS_PER_HOUR = 16

/** Start of the hour holding `ms` (UTC). */
export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS
}

/** Start of the day holding `ms` (UTC). */
export function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS
}

/** Blob bytes as a store returns them (Buffer, Uint8Array, or base64 text from a copy). */
export function blobBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v
  if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'))
  throw new TypeError('profile row without bytes')
}
