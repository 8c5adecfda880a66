import { DatasetError } from '../errors.js'
import { compilePlan } from '../spec/compile-plan.js'
import { parseDatasetSpec, type SpecValidator } from '../spec/parse-spec.js'
import type { DatasetSource } from '../source/dataset-source.js'
import { Tally } from './manifest.js'
import { type PipelineCounts, runPipeline } from './pipeline.js'

/** Options of {@link previewDataset}. */
export interface PreviewDatasetOptions {
  source: DatasetSource
  project: string
  /** The spec: an object, or JSON/YAML text. */
  spec: unknown
  /** Rows counted before the preview stops and says `truncated`. Default 100 000. */
  maxRows?: number
  validator?: SpecValidator
  signal?: AbortSignal
}

/** What a build of the spec would write, counted without writing anything. */
export interface DatasetPreview {
  /** The log position the preview read up to (a build now would pin at least this). */
  watermark: number
  /** Rows per split with their label classes (canonical JSON keys, as in the manifest). */
  splits: Record<string, { rows: number; labels: Record<string, number> }>
  /** Rows per label class over all splits. */
  labels: Record<string, number>
  rows: number
  /** Scan counts (scanned, selected, dropped by reason), up to where the preview stopped. */
  counts: PipelineCounts
  /** True when it stopped at `maxRows`: the figures are a lower bound. */
  truncated: boolean
}

/**
 * Runs a spec's select → join → label → dedupe → split over the pinned log and counts the rows per
 * split and label it would produce, without writing files (the editor's preview). Format-specific
 * skips (e.g. chat rows without messages) are not counted: they need the writer.
 */
export async function previewDataset(o: PreviewDatasetOptions): Promise<DatasetPreview> {
  const spec = parseDatasetSpec(o.spec, o.validator ? { validator: o.validator } : {})
  const plan = compilePlan(spec)
  const watermark = await o.source.watermark(o.project)
  const maxRows = o.maxRows ?? 100_000
  const splits = new Map(plan.split.names.map((s) => [s, { rows: 0, labels: new Tally() }]))
  const labels = new Tally()
  const stop = new AbortController()
  const onAbort = () => stop.abort(o.signal?.reason)
  o.signal?.addEventListener('abort', onAbort)
  let rows = 0
  let truncated = false
  let counts: PipelineCounts = { scanned: 0, selected: 0, rows: 0, dropped: { missing: {}, unmapped_label: 0, duplicate_input: 0 } }
  try {
    counts = await runPipeline(
      { plan, source: o.source, project: o.project, bounds: { upToBatch: watermark }, signal: stop.signal },
      (row) => {
        if (rows >= maxRows) {
          truncated = true
          stop.abort()
          return
        }
        rows++
        const s = splits.get(row.split)!
        s.rows++
        if (row.labelKey !== undefined) {
          s.labels.add(row.labelKey)
          labels.add(row.labelKey)
        }
      },
    )
  } catch (e) {
    if (!(truncated && e instanceof DatasetError && e.code === 'aborted')) throw e
    counts = { ...counts, rows }
  } finally {
    o.signal?.removeEventListener('abort', onAbort)
  }
  return {
    watermark,
    splits: Object.fromEntries([...splits].map(([k, s]) => [k, { rows: s.rows, labels: s.labels.toJSON() }])),
    labels: labels.toJSON(),
    rows,
    counts,
    truncated,
  }
}
