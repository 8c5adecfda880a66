import { createHash, type Hash } from 'node:crypto'
import type { DatasetFormat, DatasetSpec } from '../spec/dataset-spec.js'
import type { WrittenFile } from '../writers/file-sink.js'
import type { TabularColumn } from '../writers/tabular-layout.js'
import type { PipelineCounts } from './pipeline.js'
import { Utf8Batch } from './utf8-batch.js'

/** The events of one split, in a compact, checkable form. */
export interface ManifestIds {
  /** Events that produced at least one row. */
  count: number
  /** First and last event id in row order (commit order), null when empty. */
  first: string | null
  last: string | null
  /** Lowest and highest committed batch among them. */
  min_batch: number | null
  max_batch: number | null
  /** Hex SHA-256 of the event ids in row order, each followed by `\n`: recompute it from the files to check them. */
  sha256: string
}

/** One split of a built dataset. */
export interface ManifestSplit {
  /** Output rows (a preference event can give several). */
  rows: number
  /** Output rows per label class (canonical JSON of the label). */
  labels: Record<string, number>
  ids: ManifestIds
}

/** What a dataset version is and how it was made: written as `manifest.json` beside its files. */
export interface DatasetManifest {
  schema: 'inferlog.dataset-manifest/v1'
  /** The version's id (`name@version` in a catalog), when the build had one. */
  id: string | null
  name: string
  version: number | null
  project: string
  /** The spec as given (after validation). */
  spec: DatasetSpec
  format: DatasetFormat
  /** The pinned log position: the highest committed batch the build read. */
  watermark: number
  /** Exclusive lower batch bound (a `sinceLast` build: the parent's watermark), else null. */
  after_batch: number | null
  parent: { id: string | null; version: number | null; watermark: number } | null
  /** RFC 3339 time the build finished (the only field that differs between identical rebuilds, with id/version). */
  built_at: string
  counts: PipelineCounts & {
    /** Output rows over all splits. */
    written: number
    /** Events a format could not use, by reason (e.g. `no_messages`). */
    skipped: Record<string, number>
  }
  splits: Record<string, ManifestSplit>
  /** Output rows per label class over all splits. */
  labels: Record<string, number>
  /** `name@version` → output rows. */
  models: Record<string, number>
  /** Balanced class weights, when `weight: balanced`. */
  class_weights?: Record<string, number>
  /** Tabular formats: the columns and their types. */
  columns?: TabularColumn[]
  /** Bandit prioritized sampling: Σ priority over the candidate rows. */
  sampling?: { size: number; total_priority: number }
  /** Records at or below the watermark erased or removed by retention since (so a rebuild left them out). */
  erased?: { events: number; feedback: number; sha256: string; sample: string[] }
  /** Every data file with its size and SHA-256. */
  files: WrittenFile[]
  /**
   * Set when the data files were deleted because the version held events erased since it was
   * built (privacy erasure): when, how many of its events, and the audit record. Rebuild the spec
   * to get the version without them.
   */
  purged?: { at: string; events: number; record: string | null }
}

/** Accumulates the id digest of one split as rows are written. */
export class IdDigest {
  #hash: Hash = createHash('sha256')
  // Bytes, not a pending string: a string would keep each id (often a slice of its stored row) alive.
  readonly #pending = new Utf8Batch((bytes) => this.#hash.update(bytes))
  count = 0
  first: string | null = null
  last: string | null = null
  minBatch: number | null = null
  maxBatch: number | null = null

  add(id: string, batch: number): void {
    this.count++
    if (this.first === null) this.first = id
    this.last = id
    if (this.minBatch === null || batch < this.minBatch) this.minBatch = batch
    if (this.maxBatch === null || batch > this.maxBatch) this.maxBatch = batch
    this.#pending.add(id)
    this.#pending.byte(10)
  }

  result(): ManifestIds {
    this.#pending.flush()
    return {
      count: this.count,
      first: this.first,
      last: this.last,
      min_batch: this.minBatch,
      max_batch: this.maxBatch,
      sha256: this.#hash.copy().digest('hex'),
    }
  }
}

/** Counts by key, then a plain object with keys sorted (stable JSON). */
export class Tally {
  readonly #m = new Map<string, number>()
  add(key: string, n = 1): void {
    this.#m.set(key, (this.#m.get(key) ?? 0) + n)
  }
  get size(): number {
    return this.#m.size
  }
  entries(): [string, number][] {
    return [...this.#m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.entries())
  }
}
