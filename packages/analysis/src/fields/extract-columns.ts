import type { Column, ColumnKind } from './column.js'
import { createColumnBuilder } from './column-builder.js'
import { compileFieldPath } from './field-path.js'

/** Options of {@link extractColumns}. */
export interface ExtractColumnsOptions {
  /** Forced kind per field path (see `ColumnBuilderOptions.kind`). Default: inferred per field. */
  kinds?: Readonly<Record<string, ColumnKind>>
}

/**
 * Extracts the columns of `fields` (dotted paths) from parsed events, one row per event, in one
 * pass. Each field is classified independently; a field of incompatible types comes back as a
 * `mixed` column rather than failing the others.
 */
export function extractColumns(
  events: Iterable<unknown>,
  fields: readonly string[],
  options: ExtractColumnsOptions = {},
): Map<string, Column> {
  const getters = fields.map((f) => compileFieldPath(f))
  const builders = fields.map((f) => createColumnBuilder({ kind: options.kinds?.[f] }))
  for (const event of events) {
    for (let i = 0; i < getters.length; i++) builders[i]!.push(getters[i]!(event))
  }
  const out = new Map<string, Column>()
  fields.forEach((f, i) => out.set(f, builders[i]!.finish()))
  return out
}
