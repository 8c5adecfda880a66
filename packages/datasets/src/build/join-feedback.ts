import type { ColumnPlan } from '../spec/compile-plan.js'
import type { SourceFeedback } from '../source/dataset-source.js'
import { memberValue } from './json-spans.js'

/** The `value` member of a stored feedback body, as one-line JSON text (`null` when absent). */
export function feedbackValueJson(item: SourceFeedback): string {
  const host = item.host
  return (host === undefined ? memberValue(item.body, 'value') : memberValue(host, 'value', host.length - item.body.length)) ?? 'null'
}

/** Feedback order: `ts`, then commit order (batch, seq), then id, so ties break the same way on every build. */
export function compareFeedback(a: SourceFeedback, b: SourceFeedback): number {
  return a.tsMs - b.tsMs || a.batch - b.batch || a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

function numeric(json: string): number | undefined {
  const v: unknown = JSON.parse(json)
  if (typeof v === 'number') return v
  if (typeof v === 'boolean') return v ? 1 : 0
  return undefined
}

/**
 * The value of one column for one event, as JSON text, or `undefined` when no item counts (the
 * `missing` rule then applies). Items count when their name matches and, with a window, their ts
 * lies in [event ts, event ts + window]. Numeric aggregates read numbers and booleans (as 1/0) and
 * skip other values; with no number left the column is missing. `count` counts every matching item.
 */
export function aggregateColumn(column: ColumnPlan, eventTsMs: number, items: readonly SourceFeedback[] | undefined): string | undefined {
  if (items === undefined) return undefined
  const lo = eventTsMs
  const hi = column.windowMs === undefined ? undefined : eventTsMs + column.windowMs
  let matched: SourceFeedback[] | undefined
  for (const f of items) {
    if (f.name !== column.name) continue
    if (hi !== undefined && (f.tsMs < lo || f.tsMs > hi)) continue
    ;(matched ??= []).push(f)
  }
  if (matched === undefined) return undefined
  switch (column.aggregate) {
    case 'latest': {
      let best = matched[0]!
      for (const f of matched) if (compareFeedback(f, best) > 0) best = f
      return feedbackValueJson(best)
    }
    case 'earliest': {
      let best = matched[0]!
      for (const f of matched) if (compareFeedback(f, best) < 0) best = f
      return feedbackValueJson(best)
    }
    case 'count':
      return String(matched.length)
    case 'all':
      return `[${matched.sort(compareFeedback).map(feedbackValueJson).join(',')}]`
    default: {
      // Summed in feedback order so floating-point results do not depend on the store's row order.
      matched.sort(compareFeedback)
      let n = 0
      let acc = 0
      for (const f of matched) {
        const x = numeric(feedbackValueJson(f))
        if (x === undefined) continue
        if (n === 0) acc = x
        else if (column.aggregate === 'min') acc = Math.min(acc, x)
        else if (column.aggregate === 'max') acc = Math.max(acc, x)
        else acc += x
        n++
      }
      if (n === 0) return undefined
      return JSON.stringify(column.aggregate === 'mean' ? acc / n : acc)
    }
  }
}
