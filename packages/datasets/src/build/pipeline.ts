import canonicalize from 'canonicalize'
import { DatasetError } from '../errors.js'
import type { DatasetPlan } from '../spec/compile-plan.js'
import type { JsonValue } from '../spec/dataset-spec.js'
import type { DatasetSource, JoinedChunk, ScanBounds, SourceEvent, SourceFeedback } from '../source/dataset-source.js'
import { EventView } from './event-view.js'
import { DigestSet } from './hash-set.js'
import { aggregateColumn } from './join-feedback.js'
import { cachedSplitOf, sha256Bytes, splitKeyOf } from './split-assigner.js'

/** One event that became a dataset row, before a format writes it. */
export interface PipelineRow {
  event: EventView
  /** JSON text per `plan.columns` entry (the default applied where it was missing). */
  values: string[]
  /** JSON text of the label (after `map`), when the spec has a label. */
  label: string | undefined
  /** Canonical JSON of the label: the class key of counts and balanced weights. */
  labelKey: string | undefined
  weight: number
  split: string
  splitKey: string
}

/** What the pipeline saw and why events did not become rows. */
export interface PipelineCounts {
  /** Events the scan returned (after the store's filter). */
  scanned: number
  /** Events that passed `where`, up to `limit`. */
  selected: number
  /** Events that became rows. */
  rows: number
  dropped: {
    /** Per column: events left out by `missing: drop` (counted on the first missing column). */
    missing: Record<string, number>
    /** Label values outside `label.map`. */
    unmapped_label: number
    /** Inputs equal (RFC 8785) to an earlier row's. */
    duplicate_input: number
  }
}

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  plan: DatasetPlan
  source: DatasetSource
  project: string
  bounds: ScanBounds
  /** Feedback is joined up to this batch; default `bounds.upToBatch` (a range of a build: the build's watermark). */
  feedbackUpTo?: number
  /** Events per scan chunk and per feedback look-up; default 500. */
  chunkSize?: number
  /** Class → weight for `weight: balanced` (from the counting pass). */
  classWeights?: Map<string, number>
  signal?: AbortSignal
  /**
   * Set when this run compiles one range of the log for a coordinator (`compileRange`): `limit` is
   * not applied (every event passing `where` is selected) and duplicates are not dropped (each
   * row's input digest goes to `inputDigest`), because both depend on the rows before the range;
   * the coordinator applies them in commit order.
   */
  hooks?: PipelineHooks
  /**
   * A counting pass: its rows are only counted (label keys, values, priorities, column types), so
   * no split key, split or weight is computed for them (`split` and `splitKey` are empty, `weight`
   * is 1). Default false.
   */
  counting?: boolean
}

/** What a range compiled apart reports besides its rows (see {@link PipelineOptions.hooks}). */
export interface PipelineHooks {
  /** Each event passing `where`, by its index in the scanned chunk, before its row or drop. */
  select(index: number): void
  /** A selected event that became no row: -1 an unmapped label, -2 - c a missing column c. */
  drop(reason: number): void
  /** With `dedupe: input`, each row's input digest (SHA-256 of its canonical JSON), before `onRow`. */
  inputDigest(digest: Uint8Array): void
  /** After each chunk's rows, with the events it scanned; awaited (the coordinator's backpressure). */
  chunkEnd(scanned: number): void | Promise<void>
}

/** Drop codes of {@link PipelineHooks.drop}. */
export const DROP_UNMAPPED = -1
/** {@link PipelineHooks.drop} code of a missing column `c`. */
export function dropMissing(c: number): number {
  return -2 - c
}

function labelKeyOf(json: string): string {
  const c = json.charCodeAt(0)
  // Literals other than strings and containers are already canonical except for number spelling.
  return c === 34 || c === 123 || c === 91 || (c >= 48 && c <= 57) || c === 45 ? (canonicalize(JSON.parse(json)) as string) : json
}

function mapKeyOf(json: string): string {
  const v: unknown = JSON.parse(json)
  return typeof v === 'string' ? v : (canonicalize(v) as string)
}

/** A test of feedback names: a few compared in turn (no string hashing), more through a `Set`. */
function nameTest(names: readonly string[]): (name: string) => boolean {
  if (names.length > 4) {
    const set = new Set(names)
    return (name) => set.has(name)
  }
  return (name) => {
    for (let i = 0; i < names.length; i++) if (names[i] === name) return true
    return false
  }
}

/**
 * Feedback grouped per selected event by {@link SourceFeedback.eventIndex} (through `slotOf` for a
 * joined chunk, whose positions are the chunk's), in the items' order; undefined when an item has
 * no usable position (the caller groups by id instead).
 */
function byPosition(
  items: readonly SourceFeedback[],
  selected: number,
  slotOf: Int32Array | undefined,
  wanted: (name: string) => boolean,
  upTo: number,
): (SourceFeedback[] | undefined)[] | undefined {
  const size = slotOf === undefined ? selected : slotOf.length
  const lists = new Array<SourceFeedback[] | undefined>(selected)
  for (let j = 0; j < items.length; j++) {
    const f = items[j]!
    let at = f.eventIndex
    if (at === undefined || (at | 0) !== at || at < 0 || at >= size) return undefined
    if (f.batch > upTo || !wanted(f.name)) continue
    if (slotOf !== undefined) {
      at = slotOf[at]!
      if (at < 0) continue
    }
    const list = lists[at]
    if (list === undefined) lists[at] = [f]
    else list.push(f)
  }
  return lists
}

function matches(event: EventView, where: DatasetPlan['where']): boolean {
  for (const w of where) {
    const v = event.at(w.path)
    if (v === undefined) return false
    const c = typeof v === 'string' ? JSON.stringify(v) : (canonicalize(v) as string)
    if (c !== w.canonical) return false
  }
  return true
}

/**
 * Select → join → label → dedupe → split → weight over the pinned log, calling `onRow` for each row in
 * commit order. Reads one chunk of events and its feedback at a time (bounded memory); the
 * dedupe set is the only state that grows (≈24 bytes per row). Drops happen in that order:
 * a missing column first, then an unmapped label, then a duplicate input.
 */
export async function runPipeline(options: PipelineOptions, onRow: (row: PipelineRow) => void): Promise<PipelineCounts> {
  const { plan, source, project, bounds, signal, hooks } = options
  const chunkSize = options.chunkSize ?? 500
  const counts: PipelineCounts = { scanned: 0, selected: 0, rows: 0, dropped: { missing: {}, unmapped_label: 0, duplicate_input: 0 } }
  const seen = plan.dedupe && !hooks ? new DigestSet() : undefined
  const digests = plan.dedupe && hooks !== undefined
  const limit = hooks ? undefined : plan.limit
  const wantedName = nameTest(plan.feedbackNames)
  const labelIndex = plan.label ? plan.columns.findIndex((c) => c.column === plan.label!.from) : -1
  const sampleRate = plan.weight === 'inverse_sample_rate'
  const splitOf = cachedSplitOf(plan.split)
  let done = false
  // With a joined scan the source reads each chunk's feedback along (ahead of the compiler); the
  // items of events that `where` or `limit` leave out are simply never looked up.
  const upTo = options.feedbackUpTo ?? bounds.upToBatch
  const joined = plan.columns.length > 0 && source.scanJoined !== undefined && upTo === bounds.upToBatch
  const chunks: AsyncIterable<JoinedChunk | SourceEvent[]> = joined
    ? source.scanJoined!(project, plan.filter, bounds, chunkSize, plan.feedbackNames)
    : source.scanEvents(project, plan.filter, bounds, chunkSize)
  // One chunk, compiled in a function of its own: nothing of the chunk (its events, views and
  // feedback) stays referenced from this frame while `chunkEnd` waits for the coordinator (a
  // chunk held through young collections gets its allocation sites pretenured, after which every
  // row of the build is promoted).
  const compileChunk = async (got: JoinedChunk | SourceEvent[]): Promise<number> => {
    const chunk = joined ? (got as JoinedChunk).events : (got as SourceEvent[])
    if (signal?.aborted) throw new DatasetError('aborted', 'the build was aborted', { cause: signal.reason })
    counts.scanned += chunk.length
    const selected: EventView[] = []
    const at: number[] | undefined = hooks ? [] : undefined
    // A joined chunk's feedback names its event by position in the chunk: chunk → selected position.
    const slotOf = joined ? new Int32Array(chunk.length).fill(-1) : undefined
    for (let i = 0; i < chunk.length; i++) {
      const view = new EventView(chunk[i]!)
      if (plan.where.length > 0 && !matches(view, plan.where)) continue
      if (slotOf !== undefined) slotOf[i] = selected.length
      selected.push(view)
      at?.push(i)
      if (limit !== undefined && counts.selected + selected.length >= limit) {
        done = true
        break
      }
    }
    counts.selected += selected.length
    let byEvent: Map<string, SourceFeedback[]> | undefined
    let lists: (SourceFeedback[] | undefined)[] | undefined
    if (plan.columns.length > 0 && selected.length > 0) {
      const items = joined
        ? (got as JoinedChunk).feedback
        : await source.feedbackFor(
            project,
            selected.map((v) => v.id),
            upTo,
            plan.feedbackNames,
          )
      lists = byPosition(items, selected.length, slotOf, wantedName, upTo)
      if (lists === undefined) {
        byEvent = new Map()
        for (const f of items) {
          if (!wantedName(f.name) || f.batch > upTo) continue
          const list = byEvent.get(f.eventId)
          if (list) list.push(f)
          else byEvent.set(f.eventId, [f])
        }
      }
    }
    for (let k = 0; k < selected.length; k++) {
      const event = selected[k]!
      hooks?.select(at![k]!)
      const values: string[] = []
      let dropped = false
      const items = lists !== undefined ? lists[k] : byEvent?.get(event.id)
      for (const column of plan.columns) {
        const v = aggregateColumn(column, event.tsMs, items)
        if (v !== undefined) values.push(v)
        else if (column.missing === 'drop') {
          counts.dropped.missing[column.column] = (counts.dropped.missing[column.column] ?? 0) + 1
          hooks?.drop(dropMissing(plan.columns.indexOf(column)))
          dropped = true
          break
        } else values.push(column.missing.json)
      }
      if (dropped) continue
      let label: string | undefined
      let labelKey: string | undefined
      if (labelIndex >= 0) {
        label = values[labelIndex]!
        const map = plan.label!.map
        if (map !== undefined) {
          const mapped: JsonValue | undefined = map.get(mapKeyOf(label))
          if (mapped === undefined) {
            counts.dropped.unmapped_label++
            hooks?.drop(DROP_UNMAPPED)
            continue
          }
          label = JSON.stringify(mapped)
        }
        labelKey = labelKeyOf(label)
      }
      if (seen !== undefined) {
        const input = event.get('input')
        if (!seen.add(sha256Bytes(canonicalize(input ?? null) as string))) {
          counts.dropped.duplicate_input++
          continue
        }
      } else if (digests) hooks!.inputDigest(sha256Bytes(canonicalize(event.get('input') ?? null) as string))
      if (options.counting) {
        counts.rows++
        onRow({ event, values, label, labelKey, weight: 1, split: '', splitKey: '' })
        continue
      }
      const splitKey = splitKeyOf(event, plan.split.by)
      let weight = 1
      if (sampleRate) {
        // A JSON number's text is valid Number() syntax: no parse needed.
        const raw = event.raw('sample_rate')
        const rate = raw === undefined ? 1 : Number(raw)
        if (rate > 0 && rate <= 1) weight = 1 / rate
      } else if (plan.weight === 'balanced') weight = options.classWeights?.get(labelKey!) ?? 1
      counts.rows++
      onRow({ event, values, label, labelKey, weight, split: splitOf(splitKey), splitKey })
    }
    return chunk.length
  }
  const iterator = chunks[Symbol.asyncIterator]()
  let exhausted = false
  try {
    for (;;) {
      const next = await iterator.next()
      if (next.done) {
        exhausted = true
        break
      }
      const scanned = await compileChunk(next.value)
      if (hooks) await hooks.chunkEnd(scanned)
      if (done) break
    }
  } finally {
    // As `for await` does when a loop ends early: the source releases its cursor.
    if (!exhausted) await iterator.return?.()
  }
  return counts
}
