import type { PipelineRow } from '../build/pipeline.js'
import type { DatasetPlan } from '../spec/compile-plan.js'
import type { FormatWriter } from './format-writer.js'
import { openSplits, type SplitTarget } from './split-files.js'

/**
 * `JSON.stringify(s)` for a string: the string in quotes when no character of it needs an escape
 * (a quote, a backslash, a control character or a surrogate), as ids mostly are; else
 * `JSON.stringify` itself. The same text either way.
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s)
  }
  return `"${s}"`
}

/**
 * The generic row `{"id","ts","model","input","output","feedback":{COLUMN: VALUE},"label"?,"weight","split"}`,
 * one line per event. `model`, `input`, `output`, `ts` and feedback values are copied from the
 * stored JSON text (compacted onto one line when it was pretty-printed), never re-serialized, so
 * values keep their exact spelling. Feedback columns are in column-name order.
 */
export function createJsonlWriter(plan: DatasetPlan, out: SplitTarget): FormatWriter {
  const files = openSplits(out, plan.split.names, 'jsonl')
  const keys = plan.columns.map((c, i) => ({ i, prefix: `${JSON.stringify(c.column)}:`, implicit: c.implicit })).filter((c) => !c.implicit)
  const splitJson = new Map(plan.split.names.map((s) => [s, `,"split":${JSON.stringify(s)}}\n`]))
  const hasLabel = plan.label !== undefined
  // The last weight and its JSON text: most builds give many rows in a row the same weight.
  let lastWeight = Number.NaN
  let lastWeightJson = 'null'
  const weightJson = (w: number): string => {
    lastWeight = w
    lastWeightJson = JSON.stringify(w)
    return lastWeightJson
  }
  return {
    skipped: {},
    write(row: PipelineRow) {
      const e = row.event
      let feedback = ''
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k]!
        feedback += (k === 0 ? '' : ',') + key.prefix + row.values[key.i]
      }
      const text =
        `{"id":${jsonString(e.id)},"ts":${e.tsJson()},"model":${e.raw('model') ?? 'null'},"input":${e.raw('input') ?? 'null'},` +
        `"output":${e.raw('output') ?? 'null'},"feedback":{${feedback}}` +
        (hasLabel ? `,"label":${row.label}` : '') +
        `,"weight":${row.weight === lastWeight ? lastWeightJson : weightJson(row.weight)}${splitJson.get(row.split)!}`
      files.write(row.split, text)
      return 1
    },
    close: () => files.close(),
    abandon: () => files.abandon(),
  }
}
