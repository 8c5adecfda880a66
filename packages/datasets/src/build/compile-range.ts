import { compilePlan, type DatasetPlan } from '../spec/compile-plan.js'
import type { DatasetSpec, TabularType } from '../spec/dataset-spec.js'
import type { DatasetSource, ScanBounds } from '../source/dataset-source.js'
import { banditPriority, createBanditWriter } from '../writers/bandit-writer.js'
import { createChatWriter } from '../writers/chat-writer.js'
import { createCsvWriter } from '../writers/csv-writer.js'
import type { WrittenFile } from '../writers/file-sink.js'
import type { FormatWriter } from '../writers/format-writer.js'
import { createJsonlWriter } from '../writers/jsonl-writer.js'
import { createPreferenceWriter } from '../writers/preference-writer.js'
import type { SplitTarget, SplitText } from '../writers/split-files.js'
import { CellColumns, type PackedCells, packedBuffers } from '../writers/packed-cells.js'
import { type Cell, TabularLayout, TypeInference } from '../writers/tabular-layout.js'
import { type PipelineRow, runPipeline } from './pipeline.js'

/**
 * One range of a build's pinned log, compiled apart (on another thread, with its own store
 * connection) by a {@link RangeCompiler}: everything a compiler needs is in it, as plain data.
 */
export interface RangeJob {
  project: string
  /** The validated spec. */
  spec: DatasetSpec
  /** The batches of this range: a slice of the build's bounds. */
  bounds: ScanBounds
  /** The build's pinned watermark: feedback is joined up to it, whatever the range. */
  watermark: number
  /** Events per scan chunk; each chunk becomes one {@link RangePiece}. */
  chunkSize: number
  /** `weight: balanced`: class → weight, from the counting pass. */
  classWeights?: [string, number][]
  /** csv: the column types (declared or inferred by the counting pass). */
  columnTypes?: [string, TabularType][]
  /** Bandit prioritized sampling: Σ priority, from the counting pass. */
  totalPriority?: number
  /**
   * The counting pass: no output, each row's label key (and bandit priority) only. The pieces
   * carry no bytes or cells and every row counts as written.
   */
  count?: boolean
  /**
   * With {@link count}, tabular formats without declared columns: also learn the column types of
   * the rows (`TypeInference`); each piece carries what its rows showed ({@link RangePiece.kinds}).
   */
  inferTypes?: boolean
}

/**
 * What one scanned chunk of a range became, before the rules that depend on earlier rows
 * (`limit`, `dedupe`): the coordinator applies those in commit order and writes the bytes.
 * Structured-clone friendly; the typed arrays' buffers may be transferred.
 */
export interface RangePiece {
  /** Events the chunk scanned. */
  scanned: number
  /** Per event passing `where`, in order: its index among the scanned events. */
  selectedAt: Int32Array
  /** Per selected event: the index of its row in `rows`, or a drop code (`-1` unmapped label, `-2 - c` missing column `c`). */
  outcomes: Int32Array
  rows: {
    /** The rows' event ids, concatenated (one string crosses threads faster than one per row); `idLengths` cut them. */
    idText: string
    idLengths: Int32Array
    batches: Float64Array
    /** Index of the row's split in the plan's split names. */
    splits: Uint8Array
    /** Output rows the format wrote (0: skipped, reason in `skips`). */
    written: Int32Array
    /** UTF-8 bytes of the row's output in its split's `data`. */
    bytes: Int32Array
    /** Index into `labelKeys`, -1 without a label. The one per-row field of a counting pass (`RangeJob.count`), with `digests` and `priorities`. */
    labels: Int32Array
    /** Index into `models`. */
    models: Int32Array
    /** Index into `skipReasons` of a row the format skipped, else -1. */
    skips: Int32Array
    /** `dedupe: input`: the first 12 bytes of each row's input digest. */
    digests: Uint8Array | undefined
    /** A counting pass with prioritized bandit sampling: each row's priority (0 without one). */
    priorities?: Float64Array
  }
  labelKeys: string[]
  /** `name@version` of the rows' models. */
  models: string[]
  skipReasons: string[]
  /** Per split (plan order): the rows' output bytes, concatenated (line formats). */
  data: Uint8Array[]
  /** Per split (plan order): the rows' cells (parquet), which the coordinator's writer encodes. */
  cells?: PackedCells[]
  /** {@link RangeJob.inferTypes}: the columns its rows showed and the kind of their values (`null`: only nulls). */
  kinds?: [string, TabularType | null][]
}

/**
 * Compiles ranges of a build's log, several at once (`workers`), each range's pieces in order. The
 * build hands it consecutive ranges and consumes them in commit order; an implementation holds at
 * most a few pieces per range ahead of the consumer (backpressure through the iterator). A failed
 * range fails its iterator; the caller that made the compiler closes it after the build.
 */
export interface RangeCompiler {
  /** Ranges compiled at once (e.g. worker threads). */
  readonly workers: number
  /** Starts compiling `job` now (queued behind running ranges), its pieces in scan order. */
  compile(job: RangeJob): AsyncIterable<RangePiece>
}

/** The writer of a line format (every format but parquet) into `target`. */
export function createLineWriter(
  plan: DatasetPlan,
  target: SplitTarget,
  layout: () => TabularLayout,
  totalPriority: number | undefined,
): FormatWriter {
  switch (plan.format) {
    case 'jsonl':
      return createJsonlWriter(plan, target)
    case 'openai-chat':
      return createChatWriter(plan, target)
    case 'preference':
      return createPreferenceWriter(plan, target)
    case 'bandit':
      return createBanditWriter(plan, target, totalPriority)
    case 'csv':
      return createCsvWriter(plan, target, layout())
    case 'parquet':
      throw new Error('parquet is not a line format')
  }
}

/** Per split, the UTF-8 bytes of one piece, in a buffer of its own (so it can be transferred). */
class SplitBytes implements SplitText {
  readonly index: Map<string, number>
  bufs: Buffer[]
  pos: number[]

  constructor(readonly splits: readonly string[]) {
    this.index = new Map(splits.map((s, i) => [s, i]))
    this.bufs = splits.map(() => Buffer.allocUnsafe(1 << 16))
    this.pos = splits.map(() => 0)
  }

  write(split: string, text: string): void {
    const i = this.index.get(split)!
    let buf = this.bufs[i]!
    const pos = this.pos[i]!
    // A UTF-16 code unit is at most 3 UTF-8 bytes.
    if (pos + text.length * 3 > buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + text.length * 3))
      buf.copy(grown, 0, 0, pos)
      this.bufs[i] = buf = grown
    }
    this.pos[i] = pos + buf.write(text, pos)
  }

  /**
   * The piece's bytes per split, each copied into a buffer of its exact size (its own, so it can
   * be transferred and holds no spare capacity while it waits); the working buffers are reused.
   */
  take(): Uint8Array[] {
    const out = this.bufs.map((b, i) => {
      const copy = new Uint8Array(this.pos[i]!)
      copy.set(b.subarray(0, this.pos[i]!))
      return copy
    })
    this.pos = this.splits.map(() => 0)
    return out
  }

  close(): WrittenFile[] {
    return []
  }

  abandon(): void {}
}

/** Interns strings per piece: the piece carries each label key or model once. */
class Interned {
  readonly list: string[] = []
  readonly #at = new Map<string, number>()
  of(s: string): number {
    let i = this.#at.get(s)
    if (i === undefined) {
      i = this.list.length
      this.list.push(s)
      this.#at.set(s, i)
    }
    return i
  }
}

function growInt32(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  if (n < a.length) return a
  const b = new Int32Array(a.length * 2)
  b.set(a)
  return b
}

/** The manifest's `name@version` key of a row's stored `model` text. */
function modelKeyOf(raw: string): string {
  const m = JSON.parse(raw || 'null') as { name?: unknown; version?: unknown } | null
  return `${String(m?.name)}@${String(m?.version)}`
}

/**
 * The {@link modelKeyOf} of each row's model, remembered per stored text (a build sees a handful
 * of models; up to 10 000 distinct texts are kept, the rest parsed each time).
 */
export function modelKeys(): (row: PipelineRow) => string {
  const known = new Map<string, string>()
  return (row) => {
    const raw = row.event.raw('model') ?? ''
    let key = known.get(raw)
    if (key === undefined) {
      key = modelKeyOf(raw)
      if (known.size < 10_000) known.set(raw, key)
    }
    return key
  }
}

/**
 * Compiles one range of the log (`job`) read from `source`: select (`where`), join, label, split,
 * weight and format, as a build does, but without `limit` and `dedupe`, which the coordinator
 * applies in commit order. Calls `emit` once per scanned chunk with what it became, and awaits it
 * (backpressure); `transfer` lists the buffers the piece owns alone.
 */
export async function compileRange(
  source: DatasetSource,
  job: RangeJob,
  emit: (piece: RangePiece, transfer: ArrayBuffer[]) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const plan = compilePlan(job.spec)
  const layout = () => new TabularLayout(plan, job.columnTypes ? new Map(job.columnTypes) : plan.declared!)
  const splitIndex = new Map(plan.split.names.map((s, i) => [s, i]))
  let bytes: SplitBytes | undefined
  let cells: CellColumns[] | undefined
  let writer: FormatWriter
  const priorities: number[] | undefined = job.count && plan.bandit?.prioritized ? [] : undefined
  // Each piece's own rows' kinds (a new inference per piece).
  let inference = job.count && job.inferTypes ? new TypeInference(plan) : undefined
  if (job.count) {
    writer = {
      skipped: {},
      write(row) {
        priorities?.push(banditPriority(plan, row) ?? 0)
        return 1
      },
      close: () => [],
      abandon() {},
    }
  } else if (plan.format === 'parquet') {
    // Parquet's row groups span ranges: the cells are made here, encoded by the coordinator.
    const tabular = layout()
    const types = tabular.columns.map((c) => c.type)
    const bySplit = plan.split.names.map(() => new CellColumns(types))
    cells = bySplit
    const scratch: Cell[] = []
    writer = {
      skipped: {},
      write(row) {
        bySplit[splitIndex.get(row.split)!]!.add(tabular.cells(row, scratch))
        return 1
      },
      close: () => [],
      abandon() {},
    }
  } else {
    writer = createLineWriter(
      plan,
      (splits) => {
        bytes = new SplitBytes(splits)
        return bytes
      },
      layout,
      job.totalPriority,
    )
  }
  const out = bytes
  const noBytes: Uint8Array[] = plan.split.names.map(() => new Uint8Array(0))
  const modelKeyOfRow = modelKeys()
  // Per-piece state, reset by `chunkEnd`.
  let selectedAt = new Int32Array(1024)
  let outcomes = new Int32Array(1024)
  let nSelected = 0
  // The rows' ids, joined into one flat string per piece: a string built with `+=` would be a rope of
  // slices, each keeping its whole stored row alive while the piece waits to be taken.
  let ids: string[] = []
  let idLengths: number[] = []
  let batches: number[] = []
  let splits: number[] = []
  let written: number[] = []
  let rowBytes: number[] = []
  let labels: number[] = []
  let models: number[] = []
  let skips: number[] = []
  let digests: number[] | undefined = plan.dedupe ? [] : undefined
  let labelKeys = new Interned()
  let modelNames = new Interned()
  let skipNames = new Interned()
  const seenSkips: Record<string, number> = {}
  // The counting pass needs each row's label key (and digest, priority) only.
  const countRow = (row: PipelineRow) => {
    writer.write(row)
    inference?.observe(row)
    outcomes[nSelected - 1] = labels.length
    labels.push(row.labelKey === undefined ? -1 : labelKeys.of(row.labelKey))
  }
  const onRow = (row: PipelineRow) => {
    const s = splitIndex.get(row.split)!
    const before = out === undefined ? 0 : out.pos[s]!
    const n = writer.write(row)
    outcomes[nSelected - 1] = idLengths.length
    ids.push(row.event.id)
    idLengths.push(row.event.id.length)
    batches.push(row.event.batch)
    splits.push(s)
    written.push(n)
    rowBytes.push(out === undefined ? 0 : out.pos[s]! - before)
    labels.push(row.labelKey === undefined ? -1 : labelKeys.of(row.labelKey))
    models.push(modelNames.of(modelKeyOfRow(row)))
    let skip = -1
    if (n === 0) {
      // The writer counted the skip under its reason: find which one moved.
      for (const [reason, count] of Object.entries(writer.skipped)) {
        if ((seenSkips[reason] ?? 0) !== count) {
          seenSkips[reason] = count
          skip = skipNames.of(reason)
          break
        }
      }
    }
    skips.push(skip)
  }
  await runPipeline(
    {
      plan,
      source,
      project: job.project,
      bounds: job.bounds,
      feedbackUpTo: job.watermark,
      chunkSize: job.chunkSize,
      ...(job.classWeights ? { classWeights: new Map(job.classWeights) } : {}),
      ...(signal ? { signal } : {}),
      ...(job.count ? { counting: true } : {}),
      hooks: {
        select(index) {
          selectedAt = growInt32(selectedAt, nSelected)
          outcomes = growInt32(outcomes, nSelected)
          selectedAt[nSelected++] = index
        },
        drop(reason) {
          outcomes[nSelected - 1] = reason
        },
        inputDigest(digest) {
          for (let i = 0; i < 12; i++) digests!.push(digest[i]!)
        },
        chunkEnd(scanned) {
          const piece: RangePiece = {
            scanned,
            selectedAt: selectedAt.slice(0, nSelected),
            outcomes: outcomes.slice(0, nSelected),
            rows: {
              idText: ids.join(''),
              idLengths: Int32Array.from(idLengths),
              batches: Float64Array.from(batches),
              splits: Uint8Array.from(splits),
              written: Int32Array.from(written),
              bytes: Int32Array.from(rowBytes),
              labels: Int32Array.from(labels),
              models: Int32Array.from(models),
              skips: Int32Array.from(skips),
              ...(priorities ? { priorities: Float64Array.from(priorities) } : {}),
              digests: digests ? Uint8Array.from(digests) : undefined,
            },
            labelKeys: labelKeys.list,
            models: modelNames.list,
            skipReasons: skipNames.list,
            data: out === undefined ? noBytes : out.take(),
            ...(cells ? { cells: cells.map((c) => c.pack()) } : {}),
            ...(inference ? { kinds: inference.kinds() } : {}),
          }
          if (inference) inference = new TypeInference(plan)
          nSelected = 0
          ids = []
          idLengths = []
          batches = []
          splits = []
          written = []
          rowBytes = []
          labels = []
          models = []
          skips = []
          if (priorities) priorities.length = 0
          if (digests) digests = []
          labelKeys = new Interned()
          modelNames = new Interned()
          skipNames = new Interned()
          const r = piece.rows
          const transfer = [
            piece.selectedAt,
            piece.outcomes,
            r.idLengths,
            r.batches,
            r.splits,
            r.written,
            r.bytes,
            r.labels,
            r.models,
            r.skips,
          ]
            .map((a) => a.buffer as ArrayBuffer)
            .concat(out === undefined ? [] : piece.data.map((d) => d.buffer as ArrayBuffer))
          if (r.digests) transfer.push(r.digests.buffer as ArrayBuffer)
          if (r.priorities) transfer.push(r.priorities.buffer as ArrayBuffer)
          if (piece.cells) for (const c of piece.cells) transfer.push(...packedBuffers(c))
          return emit(piece, transfer)
        },
      },
    },
    job.count ? countRow : onRow,
  )
}
