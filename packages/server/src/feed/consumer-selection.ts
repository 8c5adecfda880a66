import { InferlogError } from '../errors.js'

/** Which feed consumers a process runs: every default one, none, or those named. */
export type ConsumerSelection = 'all' | 'none' | string[]

/**
 * Names a selection may list: the defaults (`catalog`, `metrics`, `audit`, `profiles`; see
 * `defaultConsumers`) and `noop`, which `all` leaves out.
 */
export const CONSUMER_NAMES: readonly string[] = ['catalog', 'metrics', 'audit', 'profiles', 'noop']

/**
 * Parses a consumer selection as `--consumers` / `INFERLOG_CONSUMERS` give it: `all`, `none`, or a
 * comma list of {@link CONSUMER_NAMES}. An empty list or an unknown name is an `invalid_parameter`.
 */
export function parseConsumerSelection(raw: string): ConsumerSelection {
  const v = raw.trim()
  if (v === 'all' || v === 'none') return v
  const names = [...new Set(v.split(',').map((c) => c.trim()))].filter(Boolean)
  if (names.length === 0)
    throw new InferlogError('invalid_parameter', `consumers: give all, none, or a comma list of ${CONSUMER_NAMES.join(', ')}`)
  const unknown = names.filter((n) => !CONSUMER_NAMES.includes(n))
  if (unknown.length > 0)
    throw new InferlogError('invalid_parameter', `unknown consumers ${unknown.join(', ')}; known: ${CONSUMER_NAMES.join(', ')}`)
  return names
}
