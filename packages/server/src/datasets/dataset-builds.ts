import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import {
  createDatasetCatalog,
  type DatasetCatalog,
  DatasetError,
  findMembers,
  type DatasetManifest,
  type DatasetPreview,
  previewDataset,
} from '@inferlog/datasets'
import { InferlogError } from '../errors.js'
import { type DatasetLog, storeDatasetSource } from './store-dataset-source.js'
import { defaultDatasetWorkers, sharableStore } from './thread-range-compiler.js'

/** What a build returns (`POST /v1/datasets`). */
export interface BuiltDataset {
  id: string
  name: string
  version: number
  manifest: DatasetManifest
}

/** Options of {@link DatasetBuilds}. */
export interface DatasetBuildsOptions {
  /** Directory holding each project's datasets (`<dir>/<project>/<name>/<version>/`). */
  dir: string
  /**
   * The store's URL: builds then run in a worker thread with their own connection, so a long,
   * CPU-bound build never holds the collector's event loop. Without it (an in-process store in
   * tests) builds run on the calling thread.
   */
  storeUrl?: string
  /** Worker script. Default: the compiled `dataset-build-worker.js` beside this file. */
  workerScript?: URL
  /**
   * Young-generation size of the build worker's heap, MiB. Default {@link buildYoungGenerationMb}
   * of the spec's format: a row format allocates a string per stored body and per output row that
   * dies within its chunk, and a larger nursery lets them die there instead of being promoted
   * (measured: about 30% less CPU and a lower peak RSS than V8's default); parquet and csv hold
   * row groups that outlive any nursery, so a large one only adds to the peak RSS.
   */
  youngGenerationMb?: number
  /** Old-generation limit of the build worker's heap, MiB. Default {@link BUILD_OLD_GENERATION_MB} (1024). */
  oldGenerationMb?: number
  /** Events per scan chunk and feedback look-up. Default the compiler's (`defaultChunkSize`: 500, parquet 100). */
  chunkSize?: number
  /**
   * Read the store on a second thread, beside the compiler (`readAheadDatasetSource`); only
   * for threaded builds (`storeUrl`). Handing each chunk across threads costs about 2 µs of CPU
   * per row more in all, which pays off in wall-clock time only when a core is idle. The files
   * are the same. With it, {@link workers} and {@link parquetWorkers} are 1.
   *
   * Default: on for a parquet build with one compiler ({@link parquetWorkers} 1) on a SQLite file
   * store, off otherwise. One parquet compiler alone keeps one core busy, and the reading (the
   * scan, the feedback look-up, the cutting of bodies: about a fifth of its time) runs beside it.
   * `npm run bench:datasets` on a quiet 2-core box, 1M events / 900 000 rows, column types
   * inferred: 8.16-8.48 s (106 000-110 000 rows/s), 11.1-11.8 CPU s, peak RSS 253-254 MB, against
   * 8.89-10.13 s (88 800-101 300 rows/s), 9.6-10.9 CPU s, 202-205 MB without; the same files.
   * Line formats have range threads instead ({@link workers}); PostgreSQL was not measured.
   */
  readAhead?: boolean
  /**
   * Compilers of one build's log: the build's own thread and `workers - 1` worker threads
   * (`threadRangeCompiler`), each over ranges of the log with its own store connection; the
   * build's thread takes their output in commit order and writes it: the files are the same
   * bytes whatever the number. A spec's counting pass (`weight: balanced`, prioritized bandit
   * sampling, column types of parquet/csv without `columns`) runs over the ranges too, except one
   * that infers column types with a `limit` or `dedupe` (on the build's thread alone). Only for threaded builds
   * (`storeUrl`, not an in-memory store); parquet builds use {@link parquetWorkers}. 1 compiles
   * everything on the build's thread (the path before this option). Default
   * {@link defaultDatasetWorkers} (`min(2, os.availableParallelism())`); the server reads
   * `INFERLOG_DATASET_WORKERS`.
   */
  workers?: number
  /**
   * Young-generation size of each range thread's heap ({@link workers}), MiB. Default
   * {@link RANGE_YOUNG_GENERATION_MB} (32): several threads each with the single build's 96 MiB
   * nursery would take the peak RSS of a build past 300 MB.
   */
  rangeYoungGenerationMb?: number
  /**
   * {@link workers} for a parquet build. Default 1: the range threads make the cells and the
   * build's thread encodes the row groups (the same bytes), but on the 1M-event bench (2 cores
   * shared with other benchmarks) two threads were no faster (18.9 s against 17.1 s, 19.5 against
   * 16.4 CPU s: the build's thread, encoding and collecting ~13 µs per row, is the bottleneck) and
   * peaked at 320-335 MB RSS, past the 300 MB budget.
   */
  parquetWorkers?: number
}

/** True for a SQLite store in a file (`sqlite:PATH`), which another thread can open. */
function sqliteFileStore(url: string): boolean {
  return url.startsWith('sqlite:') && sharableStore(url)
}

/**
 * How a threaded build of `spec` on the store at `storeUrl` reads and compiles: whether it reads
 * ahead ({@link DatasetBuildsOptions.readAhead}, its default included) and its compilers
 * ({@link DatasetBuildsOptions.workers} or `parquetWorkers`; 1 when reading ahead, its own
 * two-thread layout of a reader beside one compiler).
 */
export function buildThreads(
  spec: unknown,
  storeUrl: string,
  o: Pick<DatasetBuildsOptions, 'readAhead' | 'workers' | 'parquetWorkers'>,
): { readAhead: boolean; workers: number } {
  const parquet = specFormat(spec) === 'parquet'
  const readAhead = o.readAhead ?? (parquet && (o.parquetWorkers ?? 1) === 1 && sqliteFileStore(storeUrl))
  const workers = readAhead ? 1 : parquet ? (o.parquetWorkers ?? 1) : (o.workers ?? defaultDatasetWorkers())
  return { readAhead, workers }
}

/** A dataset version that contains an event (`GET /v1/events/{id}/lineage`). */
export interface ContainingVersion {
  id: string
  name: string
  version: number
  /** The split the event's rows went to. */
  split: string
  watermark: number
  built_at: string
  /** Its data files were deleted (it held erased events). */
  purged?: true
}

/** What an event is matched on when looking for the versions that contain it. */
export interface EventKey {
  id: string
  /** Commit position of its batch. */
  batch: number
  model: string
  version: string
}

function selects(m: DatasetManifest, e: EventKey): boolean {
  if (e.batch > m.watermark || (m.after_batch !== null && e.batch <= m.after_batch)) return false
  const sel = (m.spec as { select?: { model?: unknown; version?: unknown } }).select ?? {}
  if (typeof sel.model === 'string' && sel.model !== e.model) return false
  if (typeof sel.version === 'string' && sel.version !== e.version) return false
  if (Array.isArray(sel.version) && !sel.version.includes(e.version)) return false
  return true
}

/**
 * Default old-generation limit of a build worker, MiB. With V8's own limit (a share of the
 * machine's memory, 4 GiB here) the heap of a parquet build grew to ~200 MiB of mostly dead row
 * groups between full collections (peak RSS 350-390 MB on the 1M-event bench); with an explicit
 * 1 GiB V8 collects sooner: ~210 MB peak RSS for the same CPU (live data stays under 60 MiB).
 */
export const BUILD_OLD_GENERATION_MB = 1024

/** Default young-generation size of a build worker, MiB (semi-spaces of 32 MiB). */
export const BUILD_YOUNG_GENERATION_MB = 96

/** The `format` of a spec object or JSON/YAML text, as far as it can be seen without parsing; default `jsonl`. */
function specFormat(spec: unknown): unknown {
  let format: unknown
  if (typeof spec === 'object' && spec !== null) format = (spec as { format?: unknown }).format
  else if (typeof spec === 'string') format = /^format:\s*["']?(\w[\w-]*)/m.exec(spec)?.[1] ?? /"format"\s*:\s*"([\w-]+)"/.exec(spec)?.[1]
  return format ?? 'jsonl'
}

/** The worker's young generation for a spec: {@link BUILD_YOUNG_GENERATION_MB}, or 24 MiB for parquet and csv. */
export function buildYoungGenerationMb(spec: unknown): number {
  const format = specFormat(spec)
  return format === 'parquet' || format === 'csv' ? 24 : BUILD_YOUNG_GENERATION_MB
}

/**
 * Young generation of the build worker, MiB, when range threads compile the log with it
 * ({@link DatasetBuildsOptions.workers}): it compiles ranges too, and writes everything. 48 MiB
 * measured on the 1M-event bench with 2 workers: 10.2-11.8 CPU s and 276-284 MB peak RSS, against
 * 11.5 / 278-285 with 32 MiB, 10.3 / 310 with 64 and 10.3 / 324 with the single build's 96.
 */
export const COORDINATOR_YOUNG_GENERATION_MB = 48

/** Default young generation of each range thread, MiB (see {@link DatasetBuildsOptions.rangeYoungGenerationMb}). */
export const RANGE_YOUNG_GENERATION_MB = 32

/** Maps the compiler's errors to the server's: an invalid spec is a 400 with every issue. */
export function toInferlogError(e: unknown): unknown {
  if (e instanceof DatasetError || (e as { name?: string })?.name === 'DatasetError') {
    const d = e as DatasetError
    if (d.code === 'nothing_new') return new InferlogError('conflict', d.message, { details: { reason: 'nothing_new' } })
    const code =
      d.code === 'not_found' || d.code === 'no_parent'
        ? 'not_found'
        : d.code === 'erased'
          ? 'erased'
          : d.code === 'invalid_spec' || d.code === 'invalid_input'
            ? 'validation_failed'
            : 'invalid_parameter'
    return new InferlogError(code, d.message, { details: d.issues, status: d.status })
  }
  return e
}

/** True for the error of a `skipEmpty` build that found nothing new (no version was made). */
export function isNothingNew(e: unknown): boolean {
  return (e as { code?: string; details?: { reason?: string } })?.details?.reason === 'nothing_new'
}

/** Dataset versions of every project, built from the log and kept on the collector's disk. */
export class DatasetBuilds {
  private readonly catalogs = new Map<string, DatasetCatalog>()
  private readonly script: URL

  constructor(
    private readonly log: DatasetLog,
    private readonly o: DatasetBuildsOptions,
  ) {
    this.script = o.workerScript ?? new URL('./dataset-build-worker.js', import.meta.url)
  }

  /** The catalog of a project's datasets. */
  catalog(project: string): DatasetCatalog {
    let c = this.catalogs.get(project)
    if (!c) {
      const dir = path.join(this.o.dir, project)
      fs.mkdirSync(dir, { recursive: true })
      this.catalogs.set(project, (c = createDatasetCatalog({ dir })))
    }
    return c
  }

  /** Counts what a build of `spec` would write (rows per split and label), writing nothing; at most `maxRows` rows. */
  async preview(project: string, spec: unknown, maxRows: number): Promise<DatasetPreview> {
    try {
      return await previewDataset({ source: storeDatasetSource(this.log), project, spec, maxRows })
    } catch (e) {
      throw toInferlogError(e)
    }
  }

  /** Versions of a project's datasets holding `event` (by their members files), oldest first per name. */
  containing(project: string, event: EventKey): ContainingVersion[] {
    if (!fs.existsSync(path.join(this.o.dir, project))) return []
    const catalog = this.catalog(project)
    const out: ContainingVersion[] = []
    for (const d of catalog.list()) {
      for (const v of d.versions) {
        const m = catalog.get(v.id)
        // The manifest rules most versions out without opening their members file.
        if (!selects(m, event)) continue
        const members = catalog.members(v.id)
        const split = members ? findMembers(members, [event.id]).get(event.id) : undefined
        if (split === undefined) continue
        out.push({
          id: v.id,
          name: d.name,
          version: v.version,
          split,
          watermark: m.watermark,
          built_at: m.built_at,
          ...(m.purged ? { purged: true as const } : {}),
        })
      }
    }
    return out
  }

  /**
   * Deletes the data files of every version holding one of these (erased) events, recording why in
   * its manifest. Returns the purged version ids.
   */
  purgeErased(project: string, eventIds: readonly string[], record: string | null, nowMs = Date.now()): string[] {
    if (eventIds.length === 0 || !fs.existsSync(path.join(this.o.dir, project))) return []
    const catalog = this.catalog(project)
    const purged: string[] = []
    for (const d of catalog.list()) {
      for (const v of d.versions) {
        const members = catalog.members(v.id)
        if (!members) continue
        const found = findMembers(members, eventIds).size
        if (found === 0) continue
        catalog.purge(v.id, { events: found, record, at: new Date(nowMs).toISOString() })
        purged.push(v.id)
      }
    }
    return purged
  }

  /**
   * Builds the next version of a dataset; resolves once its files and manifest are in place.
   * With `skipEmpty`, a build with nothing new rejects with `nothing_new` and publishes nothing
   * (see the catalog's `skipEmpty`).
   */
  async build(project: string, name: string | undefined, spec: unknown, sinceLast: boolean, skipEmpty = false): Promise<BuiltDataset> {
    const threaded = this.o.storeUrl !== undefined && fs.existsSync(fileURLToPath(this.script))
    if (!threaded) {
      try {
        return await this.catalog(project).build({
          source: storeDatasetSource(this.log),
          project,
          spec,
          sinceLast,
          skipEmpty,
          ...(this.o.chunkSize !== undefined ? { chunkSize: this.o.chunkSize } : {}),
          ...(name !== undefined ? { name } : {}),
        })
      } catch (e) {
        throw toInferlogError(e)
      }
    }
    this.catalog(project)
    const { readAhead, workers } = buildThreads(spec, this.o.storeUrl!, this.o)
    // With range threads this thread compiles ranges too and merges their output (a line format:
    // a smaller nursery than alone, the threads have theirs; parquet: its usual one).
    const ranged = workers > 1 && sharableStore(this.o.storeUrl!)
    const young =
      this.o.youngGenerationMb ??
      (ranged && specFormat(spec) !== 'parquet' ? COORDINATOR_YOUNG_GENERATION_MB : buildYoungGenerationMb(spec))
    const old = this.o.oldGenerationMb ?? BUILD_OLD_GENERATION_MB
    return new Promise<BuiltDataset>((resolve, reject) => {
      const w = new Worker(this.script, {
        resourceLimits: {
          maxYoungGenerationSizeMb: young,
          maxOldGenerationSizeMb: old,
        },
        workerData: {
          storeUrl: this.o.storeUrl,
          dir: path.join(this.o.dir, project),
          project,
          name,
          spec,
          sinceLast,
          skipEmpty,
          ...(this.o.chunkSize !== undefined ? { chunkSize: this.o.chunkSize } : {}),
          ...(readAhead ? { readAhead: true } : {}),
          workers,
          youngGenerationMb: this.o.rangeYoungGenerationMb ?? RANGE_YOUNG_GENERATION_MB,
          oldGenerationMb: old,
        },
      })
      w.once(
        'message',
        (
          m:
            | { ok: true; result: BuiltDataset }
            | { ok: false; error: { name: string; code: string; message: string; status?: number; issues?: unknown } },
        ) => {
          if (m.ok) resolve(m.result)
          else if (m.error.name === 'DatasetError') {
            reject(
              toInferlogError(
                Object.assign(new Error(m.error.message), {
                  name: 'DatasetError',
                  code: m.error.code,
                  status: m.error.status,
                  issues: m.error.issues,
                }),
              ),
            )
          } else reject(new InferlogError('internal', `dataset build failed: ${m.error.message}`))
        },
      )
      w.once('error', (e) => reject(new InferlogError('internal', `dataset build failed: ${e.message}`)))
      w.once('exit', (code) => {
        if (code !== 0) reject(new InferlogError('internal', `dataset build worker exited with ${code}`))
      })
    })
  }
}
