import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { DatasetError } from '../errors.js'
import { compilePlan, type DatasetPlan } from '../spec/compile-plan.js'
import { parseDatasetSpec, type SpecValidator } from '../spec/parse-spec.js'
import type { DatasetSource, ScanBounds } from '../source/dataset-source.js'
import type { TabularType } from '../spec/dataset-spec.js'
import { banditPriority } from '../writers/bandit-writer.js'
import type { FormatWriter } from '../writers/format-writer.js'
import { createParquetWriter } from '../writers/parquet-writer.js'
import { SplitFiles, type SplitTarget } from '../writers/split-files.js'
import { createLineWriter, modelKeys, type RangeCompiler } from './compile-range.js'
import { type CompileInRangesOptions, compileInRanges } from './compile-in-ranges.js'
import { TabularLayout, TypeInference } from '../writers/tabular-layout.js'
import type { WrittenFile } from '../writers/file-sink.js'
import { BuildTally } from './build-tally.js'
import { type DatasetManifest, type ManifestSplit, Tally } from './manifest.js'
import { type PipelineCounts, type PipelineRow, runPipeline } from './pipeline.js'
import { collectErased } from './collect-erased.js'
import { EventView } from './event-view.js'
import { MEMBERS_FILE } from './members-file.js'

/** Options of {@link buildDataset}. */
export interface BuildDatasetOptions {
  source: DatasetSource
  project: string
  /** A spec object, or its JSON/YAML text; validated before anything is read or written. */
  spec: unknown
  /** The version's directory; must not exist. Files appear there all at once (atomic rename) or not at all. */
  outDir: string
  /** Log position to pin; default `source.watermark(project)` at the start of the build. */
  watermark?: number
  /** The previous version's manifest: recorded as parent, and the lower bound of a `sinceLast` build. */
  parent?: DatasetManifest
  /** Only events committed after the parent's watermark; default false. Needs `parent`. */
  sinceLast?: boolean
  /** Name recorded in the manifest; default the spec's `name`, else the directory name. */
  name?: string
  /** Version id and number recorded in the manifest (a catalog sets them); default null. */
  id?: string
  version?: number
  /** Events per scan chunk and feedback look-up; default {@link defaultChunkSize} of the spec's format. */
  chunkSize?: number
  /** Parquet rows per row group; default 8 192. */
  rowGroupSize?: number
  /**
   * Parquet with inferred column types, built on this thread: the rows held before the types are
   * taken as final and the file written in the same pass; default 8 192. Every later row is still
   * observed: one that changes a type (a new column, a column seen null so far, a second kind) stops
   * the writing, the pass goes on counting, and a second pass writes with the final types. Either
   * way the same bytes as two passes (a counting pass, then the writing one) give.
   */
  typeSampleRows?: number
  /** Time source for `built_at`; default `Date.now`. */
  clock?: () => number
  signal?: AbortSignal
  /** A spec validator to reuse; default one compiled per build. */
  validator?: SpecValidator
  /**
   * Compiles ranges of the log in parallel (e.g. worker threads, each with its own store
   * connection; the server's `DatasetBuilds({ workers })` makes one). Default none: the whole log
   * is compiled on this thread. Used when it has more than one worker. The pinned log is cut into
   * consecutive batch ranges; each range comes back per scan chunk as output bytes (line formats)
   * or cells (parquet, whose row groups span ranges: this thread encodes them, at the same row
   * counts). This thread takes the pieces in commit order, applies `limit` and `dedupe: input`
   * (first occurrence in commit order), writes, hashes and counts: the files and manifest are the
   * same bytes as a build without it. The counting pass (`weight: balanced`, prioritized bandit
   * sampling, column types of parquet/csv without `columns`) runs over the ranges too, except when
   * it infers column types for a spec with `limit` or `dedupe: input` (on this thread: a range
   * cannot tell which of its rows the build keeps). Its lifetime is the caller's.
   */
  ranges?: RangeCompiler
  /** Ranges the log is cut into for {@link ranges}; default at most {@link DEFAULT_RANGES} (never more than its batches). */
  rangeCount?: number
}

/** Default number of ranges a parallel build cuts its log into (see {@link BuildDatasetOptions.ranges}). */
export const DEFAULT_RANGES = 512

/**
 * Events per scan chunk (and feedback look-up) of a build: 500, or {@link PARQUET_CHUNK} for
 * parquet. A chunk's stored rows, their member spans and views live until its last row is
 * written; parquet's build thread runs with a small nursery (24 MiB: its row groups outlive any
 * nursery), and with 500 events what survived its young-generation collections, and so was
 * promoted, was mostly chunks' stored rows and spans (sampling heap profiler), by an amount that
 * varied fourfold run to run (which V8 condition flips it was not found).
 */
export function defaultChunkSize(plan: Pick<DatasetPlan, 'format'>): number {
  return plan.format === 'parquet' ? PARQUET_CHUNK : 500
}

/**
 * Events per scan chunk of a parquet build. On the 1M-event bench (build worker, default flags,
 * 900 000 rows, parquet-declared, base code): 100 promoted 323-504 MB to the old generation with
 * 16-25 full collections, against 490-2 026 MB and 23-92 for 500 and 2 186 / 98 for 200 (50: 320 /
 * 16, no better); with `--single-threaded-gc` 324-328 MB against 492-2 415. Same files.
 */
export const PARQUET_CHUNK = 100

/** What the counting pass learned. */
interface FirstPass {
  classWeights?: Map<string, number>
  layout?: TabularLayout
  totalPriority?: number
  classWeightsJson?: Record<string, number>
  /** Inferred column types (tabular formats without declared columns). */
  types?: Map<string, TabularType>
}

function needsFirstPass(plan: DatasetPlan): boolean {
  const tabular = plan.format === 'parquet' || plan.format === 'csv'
  return plan.weight === 'balanced' || (tabular && plan.declared === undefined) || plan.bandit?.prioritized !== undefined
}

function needsInference(plan: DatasetPlan): boolean {
  return (plan.format === 'parquet' || plan.format === 'csv') && !plan.declared
}

/** Parquet whose counting pass would only infer column types: types taken from the first rows instead (see {@link BuildDatasetOptions.typeSampleRows}). */
function infersAsItWrites(plan: DatasetPlan): boolean {
  return plan.format === 'parquet' && !plan.declared && plan.weight !== 'balanced' && plan.bandit?.prioritized === undefined
}

/**
 * A row held until the column types are taken (see {@link inferWhileWriting}), as the fields of a
 * class instance; its event's view is made again when it is written. Holding the pipeline's own
 * objects instead (the row and its values, object and array literals, and the view's spans) for
 * thousands of young collections made V8 pretenure their allocation sites for the rest of the
 * build: every later row's objects were then made in the old generation, where they kept that
 * row's strings alive through young collections (bench, inferred parquet: 2.2 GB promoted and
 * 109 mark-compacts, against 0.2 GB and 12 with `--no-allocation-site-pretenuring`).
 */
class HeldRow {
  readonly id: string
  readonly batch: number
  readonly seq: number
  readonly tsMs: number
  readonly body: string
  readonly values: string[]
  readonly label: string | undefined
  readonly labelKey: string | undefined
  readonly weight: number
  readonly split: string
  readonly splitKey: string

  constructor(row: PipelineRow) {
    const e = row.event
    this.id = e.id
    this.batch = e.batch
    this.seq = e.seq
    this.tsMs = e.tsMs
    this.body = e.body
    this.values = row.values.slice()
    this.label = row.label
    this.labelKey = row.labelKey
    this.weight = row.weight
    this.split = row.split
    this.splitKey = row.splitKey
  }

  /** The pipeline row again (the event's view scanned anew). */
  row(): PipelineRow {
    const event = new EventView({ id: this.id, batch: this.batch, seq: this.seq, tsMs: this.tsMs, body: this.body })
    return {
      event,
      values: this.values,
      label: this.label,
      labelKey: this.labelKey,
      weight: this.weight,
      split: this.split,
      splitKey: this.splitKey,
    }
  }
}

/**
 * Parquet with inferred column types in one pass where it can (see
 * {@link BuildDatasetOptions.typeSampleRows}): the first rows are held until the types are taken,
 * then written with the rest as they come, into `dir/.speculative`; the files move to `dir` when
 * no later row changed a type, else are removed and a second pass writes them with the final types.
 * Tallies every row once.
 */
async function inferWhileWriting(
  plan: DatasetPlan,
  run: (onRow: Parameters<typeof runPipeline>[1]) => Promise<PipelineCounts>,
  dir: string,
  tally: BuildTally,
  options: BuildDatasetOptions,
): Promise<{ counts: PipelineCounts; files: WrittenFile[]; skipped: Record<string, number>; pass: FirstPass }> {
  const inference = new TypeInference(plan)
  const sample = Math.max(1, options.typeSampleRows ?? 8_192)
  const groups = options.rowGroupSize === undefined ? {} : { rowGroupSize: options.rowGroupSize }
  const first = join(dir, '.speculative')
  mkdirSync(first)
  const modelKeyOfRow = modelKeys()
  let held: HeldRow[] | undefined = []
  let writer: FormatWriter | undefined
  let taken = 0
  const take = (rows: HeldRow[]) => {
    taken = inference.changes
    writer = createParquetWriter(plan, first, new TabularLayout(plan, inference.types()), groups)
    for (const r of rows) writer.write(r.row())
  }
  try {
    const counts = await run((row) => {
      inference.observe(row)
      // Parquet writes one output row per pipeline row.
      tally.add(row.event.id, row.event.batch, row.split, row.labelKey, modelKeyOfRow(row), 1)
      if (held !== undefined) {
        held.push(new HeldRow(row))
        if (held.length >= sample) {
          const rows = held
          held = undefined
          take(rows)
        }
      } else if (writer !== undefined) {
        if (inference.changes === taken) writer.write(row)
        else {
          // A type moved: this file cannot hold the row. Count on; write again afterwards.
          writer.abandon()
          writer = undefined
        }
      }
    })
    if (held !== undefined) take(held)
    held = undefined
    const types = inference.types()
    const layout = new TabularLayout(plan, types)
    const pass: FirstPass = { types, layout }
    if (writer !== undefined) {
      const files = (writer as FormatWriter).close()
      const skipped = (writer as FormatWriter).skipped
      writer = undefined
      for (const f of files) renameSync(join(first, f.name), join(dir, f.name))
      rmSync(first, { recursive: true, force: true })
      return { counts, files, skipped, pass }
    }
    rmSync(first, { recursive: true, force: true })
    const again = createParquetWriter(plan, dir, layout, groups)
    writer = again
    await run((row) => void again.write(row))
    writer = undefined
    return { counts, files: again.close(), skipped: again.skipped, pass }
  } catch (e) {
    ;(writer as FormatWriter | undefined)?.abandon()
    throw e
  }
}

/** Class weights from the counting pass's tallies. */
function classWeightsOf(classes: Tally, rows: number): { classWeights: Map<string, number>; classWeightsJson: Record<string, number> } {
  // As scikit-learn's compute_class_weight('balanced'): n_rows / (n_classes × n_class).
  const classWeights = new Map(classes.entries().map(([k, n]) => [k, rows / (classes.size * n)]))
  return { classWeights, classWeightsJson: Object.fromEntries(classWeights) }
}

/**
 * Whether the counting pass can infer column types over ranges compiled in parallel: each range
 * learns the types of the rows it made, which are the rows the build writes only when none is
 * left out for what came before it (`limit`, `dedupe: input`).
 */
function infersInRanges(plan: DatasetPlan): boolean {
  return plan.limit === undefined && !plan.dedupe
}

/**
 * The counting pass over ranges compiled in parallel: the same rows in the same order as
 * {@link firstPass}, so the same totals; column types (see {@link infersInRanges}) merged from
 * what each range's rows showed, which gives the same types whatever the order.
 */
async function countInRanges(plan: DatasetPlan, options: Omit<CompileInRangesOptions, 'count'>): Promise<FirstPass> {
  const classes = new Tally()
  let rows = 0
  let totalPriority = 0
  const inference = needsInference(plan) ? new TypeInference(plan) : undefined
  await compileInRanges({
    ...options,
    count(labelKey, priority) {
      rows++
      if (plan.weight === 'balanced') classes.add(labelKey!)
      totalPriority += priority
    },
    ...(inference ? { kinds: (kinds) => inference.merge(kinds) } : {}),
  })
  const types = inference?.types()
  return {
    ...(plan.weight === 'balanced' ? classWeightsOf(classes, rows) : {}),
    ...(plan.bandit?.prioritized ? { totalPriority } : {}),
    ...(types ? { types, layout: new TabularLayout(plan, types) } : {}),
  }
}

/**
 * The counting pass, when the spec needs totals before the first row is written: class counts for
 * `weight: balanced`, column types for parquet/csv without declared `columns`, Σ priority for
 * prioritized bandit sampling. It re-reads the pinned log (the same rows, the same decisions)
 * instead of keeping rows or a temp file: memory stays bounded and a rebuild stays byte-identical.
 */
async function firstPass(
  plan: DatasetPlan,
  run: (onRow: Parameters<typeof runPipeline>[1]) => Promise<PipelineCounts>,
): Promise<FirstPass> {
  const classes = new Tally()
  const inference = (plan.format === 'parquet' || plan.format === 'csv') && !plan.declared ? new TypeInference(plan) : undefined
  let totalPriority = 0
  let rows = 0
  await run((row) => {
    rows++
    if (plan.weight === 'balanced') classes.add(row.labelKey!)
    inference?.observe(row)
    if (plan.bandit?.prioritized) totalPriority += banditPriority(plan, row) ?? 0
  })
  const out: FirstPass = {}
  if (plan.weight === 'balanced') Object.assign(out, classWeightsOf(classes, rows))
  if (inference) {
    out.types = inference.types()
    out.layout = new TabularLayout(plan, out.types)
  }
  if (plan.bandit?.prioritized) out.totalPriority = totalPriority
  return out
}

function createWriter(plan: DatasetPlan, dir: SplitTarget, pass: FirstPass, options: BuildDatasetOptions): FormatWriter {
  const layout = () => pass.layout ?? new TabularLayout(plan, plan.declared!)
  if (plan.format === 'parquet')
    return createParquetWriter(
      plan,
      dir as string,
      layout(),
      options.rowGroupSize === undefined ? {} : { rowGroupSize: options.rowGroupSize },
    )
  return createLineWriter(plan, dir, layout, pass.totalPriority)
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Builds one dataset version: validate the spec → pin the watermark → (counting pass) → select,
 * join, label, dedupe, split, weight → stream rows into per-split files → manifest → atomic rename.
 * Writes into a hidden sibling directory and renames it to `outDir` only when every file is synced,
 * so a failed or aborted build leaves nothing visible (and removes its temporary directory).
 * Rebuilding the same spec at the same watermark writes byte-identical files.
 */
export async function buildDataset(options: BuildDatasetOptions): Promise<DatasetManifest> {
  const spec = parseDatasetSpec(options.spec, options.validator ? { validator: options.validator } : {})
  const plan = compilePlan(spec)
  const { source, project, outDir } = options
  if (options.sinceLast && !options.parent) throw new DatasetError('no_parent', 'sinceLast needs a parent version')
  if (existsSync(outDir)) throw new DatasetError('already_exists', `${outDir} already exists`)
  const afterBatch = options.sinceLast ? options.parent!.watermark : undefined
  const watermark = options.watermark ?? (await source.watermark(project))
  const bounds: ScanBounds = afterBatch === undefined ? { upToBatch: watermark } : { afterBatch, upToBatch: watermark }
  const base = {
    plan,
    source,
    project,
    bounds,
    chunkSize: options.chunkSize ?? defaultChunkSize(plan),
    ...(options.signal ? { signal: options.signal } : {}),
  }

  mkdirSync(dirname(outDir), { recursive: true })
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${randomBytes(6).toString('hex')}`)
  mkdirSync(tmp)
  let writer: FormatWriter | undefined
  try {
    const parallel = options.ranges !== undefined && options.ranges.workers > 1
    const inRanges = {
      plan,
      spec,
      project,
      bounds,
      chunkSize: base.chunkSize,
      compiler: options.ranges!,
      rangeCount: options.rangeCount ?? DEFAULT_RANGES,
      ...(options.signal ? { signal: options.signal } : {}),
    }
    // The counting pass runs over the ranges too, unless it infers column types with a limit or
    // dedupe (kept serial); a serial parquet build infers them as it writes.
    const oneWay = !parallel && infersAsItWrites(plan)
    let pass: FirstPass =
      !needsFirstPass(plan) || oneWay
        ? {}
        : parallel && (!needsInference(plan) || infersInRanges(plan))
          ? await countInRanges(plan, { ...inRanges, pass: {} })
          : await firstPass(plan, (onRow) => runPipeline({ ...base, counting: true }, onRow))
    const tally = new BuildTally(plan.split.names, join(tmp, MEMBERS_FILE))
    let counts: PipelineCounts
    let files: WrittenFile[]
    let skipped: Record<string, number>
    if (parallel) {
      // A line format's writer is made only for its split files (with the format's extension and
      // header); parquet's encodes the cells the ranges made.
      let out: SplitFiles | undefined
      writer = createWriter(
        plan,
        plan.format === 'parquet'
          ? tmp
          : (splits, extension, header) => {
              out = new SplitFiles(tmp, splits, extension, header)
              return out
            },
        pass,
        options,
      )
      const got = await compileInRanges({
        ...inRanges,
        out,
        writer,
        tally,
        pass: {
          ...(pass.classWeights ? { classWeights: [...pass.classWeights] } : {}),
          ...(pass.types ? { columnTypes: [...pass.types] } : {}),
          ...(pass.totalPriority !== undefined ? { totalPriority: pass.totalPriority } : {}),
        },
      })
      counts = got.counts
      skipped = got.skipped
      files = writer.close()
    } else if (oneWay) {
      const got = await inferWhileWriting(plan, (onRow) => runPipeline(base, onRow), tmp, tally, options)
      ;({ counts, files, skipped, pass } = got)
    } else {
      writer = createWriter(plan, tmp, pass, options)
      const w = writer
      const modelKeyOfRow = modelKeys()
      counts = await runPipeline({ ...base, ...(pass.classWeights ? { classWeights: pass.classWeights } : {}) }, (row) => {
        const n = w.write(row)
        if (n === 0) return
        tally.add(row.event.id, row.event.batch, row.split, row.labelKey, modelKeyOfRow(row), n)
      })
      skipped = writer.skipped
      files = writer.close()
    }
    writer = undefined
    const { splits, labels, models, written } = tally
    tally.close()
    const erased = source.erased ? await collectErased(source.erased(project, watermark)) : undefined
    const splitJson: Record<string, ManifestSplit> = {}
    for (const [name, s] of splits) splitJson[name] = { rows: s.rows, labels: s.labels.toJSON(), ids: s.ids.result() }
    const parent = options.parent
    const manifest: DatasetManifest = {
      schema: 'inferlog.dataset-manifest/v1',
      id: options.id ?? null,
      name: options.name ?? spec.name ?? basename(outDir),
      version: options.version ?? null,
      project,
      spec,
      format: plan.format,
      watermark,
      after_batch: afterBatch ?? null,
      parent: parent ? { id: parent.id, version: parent.version, watermark: parent.watermark } : null,
      built_at: new Date((options.clock ?? Date.now)()).toISOString(),
      counts: { ...counts, written, skipped: sortKeys(skipped) },
      splits: splitJson,
      labels: labels.toJSON(),
      models: models.toJSON(),
      ...(pass.classWeightsJson ? { class_weights: pass.classWeightsJson } : {}),
      ...(plan.format === 'parquet' || plan.format === 'csv'
        ? { columns: (pass.layout ?? new TabularLayout(plan, plan.declared!)).columns }
        : {}),
      ...(plan.bandit?.prioritized ? { sampling: { size: plan.bandit.prioritized.size, total_priority: pass.totalPriority ?? 0 } } : {}),
      ...(erased ? { erased } : {}),
      files,
    }
    writeManifest(tmp, manifest)
    renameSync(tmp, outDir)
    fsyncDir(dirname(outDir))
    return manifest
  } catch (e) {
    writer?.abandon()
    rmSync(tmp, { recursive: true, force: true })
    throw e
  }
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** Writes `manifest.json` (2-space indented) and syncs the directory. */
export function writeManifest(dir: string, manifest: DatasetManifest): void {
  const path = join(dir, 'manifest.json')
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  fsyncDir(dir)
}
