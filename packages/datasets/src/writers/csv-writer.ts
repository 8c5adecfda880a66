import type { PipelineRow } from '../build/pipeline.js'
import type { DatasetPlan } from '../spec/compile-plan.js'
import type { FormatWriter } from './format-writer.js'
import { openSplits, type SplitTarget } from './split-files.js'
import type { Cell, TabularLayout } from './tabular-layout.js'

const NEEDS_QUOTES = /[",\r\n]/

function field(v: Cell, timestamp: boolean): string {
  if (v === null) return ''
  if (timestamp) return new Date(v as number).toISOString()
  if (typeof v === 'string') return NEEDS_QUOTES.test(v) ? `"${v.replace(/"/g, '""')}"` : v
  if (typeof v === 'number') return JSON.stringify(v)
  return String(v)
}

/**
 * CSV (RFC 4180: comma-separated, CRLF-free `\n` line ends, fields quoted when they hold a comma,
 * quote or line break), one file per split with a header row; the same columns as parquet. Null is
 * an empty field; ts is RFC 3339; json columns hold JSON text.
 */
export function createCsvWriter(plan: DatasetPlan, out: SplitTarget, layout: TabularLayout): FormatWriter {
  const header = `${layout.columns.map((c) => field(c.name, false)).join(',')}\n`
  const files = openSplits(out, plan.split.names, 'csv', header)
  const ts = layout.columns.map((c) => c.type === 'timestamp')
  const scratch: Cell[] = []
  return {
    skipped: {},
    write(row: PipelineRow) {
      const cells = layout.cells(row, scratch)
      let line = ''
      for (let i = 0; i < cells.length; i++) line += (i === 0 ? '' : ',') + field(cells[i]!, ts[i]!)
      files.write(row.split, `${line}\n`)
      return 1
    },
    close: () => files.close(),
    abandon: () => files.abandon(),
  }
}
