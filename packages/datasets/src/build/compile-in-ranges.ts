import { DatasetError } from '../errors.js'
import type { DatasetPlan } from '../spec/compile-plan.js'
import type { DatasetSpec } from '../spec/dataset-spec.js'
import type { ScanBounds } from '../source/dataset-source.js'
import type { FormatWriter } from '../writers/format-writer.js'
import type { SplitFiles } from '../writers/split-files.js'
import type { BuildTally } from './build-tally.js'
import type { RangeCompiler, RangeJob, RangePiece } from './compile-range.js'
import { DigestSet } from './hash-set.js'
import type { PipelineCounts } from './pipeline.js'

/** Options of {@link compileInRanges}. */
export interface CompileInRangesOptions {
  plan: DatasetPlan
  spec: DatasetSpec
  project: string
  bounds: ScanBounds
  chunkSize: number
  compiler: RangeCompiler
  /** Ranges to cut the bounds into (fewer when there are fewer batches). */
  rangeCount: number
  /** The format's split files (line formats). */
  out?: SplitFiles | undefined
  /** The format's writer: parquet's encodes the pieces' cells. */
  writer?: FormatWriter
  tally?: BuildTally
  /** What the counting pass learned, as plain data. */
  pass: Pick<RangeJob, 'classWeights' | 'columnTypes' | 'totalPriority'>
  /**
   * Makes this the counting pass: called for each row a build would write, in commit order, with
   * its label key and bandit priority (0 without); nothing is written or tallied.
   */
  count?: (labelKey: string | undefined, priority: number) => void
  /**
   * With {@link count}: the ranges also learn the column types (`RangeJob.inferTypes`), and each
   * piece's kinds come here, in commit order. They cover every row the ranges made, so a caller
   * wants them only when every row is kept (no `limit`, no `dedupe`).
   */
  kinds?: (kinds: NonNullable<RangePiece['kinds']>) => void
  signal?: AbortSignal
}

/**
 * Ranges started per worker of the compiler: a worker that finishes a range starts the next while
 * the build still takes an earlier one, up to this many ranges ahead (each holding at most the
 * compiler's few pieces).
 */
export const RANGES_AHEAD_PER_WORKER = 4

/**
 * Consecutive batch ranges covering `bounds`, `count` at most, of equal width (the last ones one
 * batch narrower). Widths are fixed by the bounds alone, so the cut never depends on timing.
 */
export function cutBounds(bounds: ScanBounds, count: number): ScanBounds[] {
  const after = bounds.afterBatch ?? 0
  const span = bounds.upToBatch - after
  if (span <= 0) return [bounds]
  const n = Math.max(1, Math.min(count, span))
  const out: ScanBounds[] = []
  let lo = after
  for (let i = 0; i < n; i++) {
    const hi = after + Math.round(((i + 1) * span) / n)
    out.push({ afterBatch: lo, upToBatch: hi })
    lo = hi
  }
  return out
}

/**
 * The coordinating side of a parallel build: cuts the pinned log into ranges, has
 * `compiler.workers` of them compiled at once ({@link RANGES_AHEAD_PER_WORKER} times as many
 * started, so a worker that finishes a range starts the next while this thread drains earlier ones), and takes the pieces strictly
 * in commit order: `limit` (the first N events passing `where`), `dedupe: input` (the first
 * occurrence wins), counts and tallies exactly as the serial pipeline keeps them, then the rows'
 * bytes into the split files. Memory: the compiler's bound on pieces held per range, times the
 * ranges started.
 *
 * `counts.scanned` with a `limit` is what the serial scan would have read: every event of the
 * chunk (of `chunkSize` events, counted from the start of the bounds) holding the last selected
 * event. That relies on a source yielding full chunks (both stores do).
 */
export async function compileInRanges(o: CompileInRangesOptions): Promise<{ counts: PipelineCounts; skipped: Record<string, number> }> {
  const { plan, compiler, out, writer, tally, signal, count } = o
  const counts: PipelineCounts = { scanned: 0, selected: 0, rows: 0, dropped: { missing: {}, unmapped_label: 0, duplicate_input: 0 } }
  const skipped: Record<string, number> = {}
  const seen = plan.dedupe ? new DigestSet() : undefined
  const names = plan.split.names
  const limit = plan.limit
  const ranges = cutBounds(o.bounds, o.rangeCount)
  const window = compiler.workers * RANGES_AHEAD_PER_WORKER
  const started: AsyncIterator<RangePiece>[] = []
  let next = 0
  const start = () => {
    while (started.length < window && next < ranges.length) {
      const job: RangeJob = {
        project: o.project,
        spec: o.spec,
        bounds: ranges[next++]!,
        watermark: o.bounds.upToBatch,
        chunkSize: o.chunkSize,
        ...o.pass,
        ...(o.count ? { count: true } : {}),
        ...(o.count && o.kinds ? { inferTypes: true } : {}),
      }
      started.push(compiler.compile(job)[Symbol.asyncIterator]())
    }
  }
  // With a limit reached: the scanned count the serial scan would stop at.
  let stopAt: number | undefined
  const keep = new Uint8Array(1 << 12)
  const apply = (p: RangePiece) => {
    const before = counts.scanned
    counts.scanned += p.scanned
    if (stopAt !== undefined) return
    if (p.kinds !== undefined) o.kinds?.(p.kinds)
    let take = p.outcomes.length
    if (limit !== undefined && counts.selected + take >= limit) {
      take = limit - counts.selected
      const last = before + p.selectedAt[take - 1]!
      stopAt = Math.ceil((last + 1) / o.chunkSize) * o.chunkSize
    }
    counts.selected += take
    const r = p.rows
    const n = r.labels.length
    const kept = n <= keep.length ? keep : new Uint8Array(n)
    kept.fill(0, 0, n)
    let all = take === p.outcomes.length
    let idOff = 0
    let idRow = 0
    for (let k = 0; k < take; k++) {
      const row = p.outcomes[k]!
      if (row < 0) {
        if (row === -1) counts.dropped.unmapped_label++
        else {
          const column = plan.columns[-2 - row]!.column
          counts.dropped.missing[column] = (counts.dropped.missing[column] ?? 0) + 1
        }
        continue
      }
      if (seen !== undefined && !seen.add(r.digests!.subarray(row * 12, row * 12 + 12))) {
        counts.dropped.duplicate_input++
        all = false
        continue
      }
      kept[row] = 1
      counts.rows++
      if (count !== undefined) {
        const label = r.labels[row]!
        count(label < 0 ? undefined : p.labelKeys[label], r.priorities?.[row] ?? 0)
        continue
      }
      const w = r.written[row]!
      if (w === 0) {
        const reason = p.skipReasons[r.skips[row]!]!
        skipped[reason] = (skipped[reason] ?? 0) + 1
        continue
      }
      const label = r.labels[row]!
      // Rows come in order: the id's offset in the piece's id text moves forward.
      while (idRow < row) idOff += r.idLengths[idRow++]!
      tally!.add(
        r.idText.slice(idOff, idOff + r.idLengths[row]!),
        r.batches[row]!,
        names[r.splits[row]!]!,
        label < 0 ? undefined : p.labelKeys[label],
        p.models[r.models[row]!]!,
        w,
      )
    }
    if (count !== undefined) return
    if (p.cells !== undefined) {
      // Parquet: the kept rows' cells, in row order, into the writer's row groups.
      const at = names.map(() => 0)
      for (let i = 0; i < n; i++) {
        const s = r.splits[i]!
        const k = at[s]!++
        if (kept[i] === 1 && r.written[i]! > 0) writer!.writePacked!(names[s]!, p.cells[s]!, k)
      }
      return
    }
    if (all) {
      // Every row of the piece stays: each split's bytes as they came.
      const rows = names.map(() => 0)
      for (let i = 0; i < n; i++) rows[r.splits[i]!]! += r.written[i]!
      for (let s = 0; s < names.length; s++) if (p.data[s]!.length > 0 || rows[s]! > 0) out!.writeBytes(names[s]!, p.data[s]!, rows[s]!)
      return
    }
    const at = names.map(() => 0)
    for (let i = 0; i < n; i++) {
      const s = r.splits[i]!
      const len = r.bytes[i]!
      if (kept[i] === 1 && len > 0) out!.writeBytes(names[s]!, p.data[s]!.subarray(at[s]!, at[s]! + len), r.written[i]!)
      at[s]! += len
    }
  }
  try {
    start()
    outer: while (started.length > 0) {
      const it = started.shift()!
      start()
      for (;;) {
        const got = await it.next()
        if (got.done) break
        if (signal?.aborted) throw new DatasetError('aborted', 'the build was aborted', { cause: signal.reason })
        apply(got.value)
        if (stopAt !== undefined && counts.scanned >= stopAt) {
          await it.return?.()
          break outer
        }
      }
    }
  } finally {
    await Promise.all(started.map((it) => it.return?.()))
  }
  if (stopAt !== undefined) counts.scanned = Math.min(counts.scanned, stopAt)
  return { counts, skipped }
}
