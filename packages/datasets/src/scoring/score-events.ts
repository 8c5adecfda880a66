import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { pathToFileURL } from 'node:url'
import { DatasetError } from '../errors.js'
import type { SourceEvent } from '../source/dataset-source.js'

/** A reward function or model. */
export interface Scorer {
  name: string
  version: string
  /** The reward of one event (the parsed stored event). */
  score(event: Record<string, unknown>): number | Promise<number>
}

/** A feedback item as `POST /v1/feedback` takes it. */
export interface ScoredFeedback {
  id: string
  event_id: string
  name: string
  value: number
  source: { type: 'model'; id: string }
  ts: string
}

/** Options of {@link scoreEvents}. */
export interface ScoreEventsOptions {
  /** The events to score, in chunks (e.g. `source.scanEvents(...)`). */
  events: AsyncIterable<SourceEvent[]> | Iterable<SourceEvent[]>
  scorer: Scorer
  /** Feedback name the scores are written under, e.g. `reward`. */
  name: string
  /** Where scored items go, one call per batch (the store or `POST /v1/feedback`): must treat same id + same content as a no-op. */
  write(items: ScoredFeedback[]): Promise<void>
  /** Scorer calls in flight at once; default 8. */
  concurrency?: number
  /** Items per `write`; default 500. */
  batchSize?: number
  signal?: AbortSignal
}

/** What a run did. */
export interface ScoreEventsResult {
  scored: number
  written: number
  /** Events whose scorer threw or returned a non-finite number; the run went on. */
  errors: { eventId: string; message: string }[]
}

/**
 * The feedback id of a score: SHA-256 of event id, scorer `name@version` and feedback name (hex, 40
 * characters, prefixed `score-`). The same scorer re-run on the same event yields the same id and
 * value, so re-running a scoring job stores nothing new (idempotent ingest), while a new scorer
 * version writes new items beside the old ones.
 */
export function scoreFeedbackId(eventId: string, scorer: { name: string; version: string }, name: string): string {
  const h = createHash('sha256').update(`${eventId}\u0000${scorer.name}@${scorer.version}\u0000${name}`).digest('hex')
  return `score-${h.slice(0, 40)}`
}

/**
 * Runs a scorer over events with bounded concurrency and writes each score back as feedback
 * `{source: {type: 'model', id: 'NAME@VERSION'}}` timestamped with the event's own `ts` (so a
 * re-run sends identical content, and windows anchored at the event include it). A scorer that
 * throws on an event records the error for that event and the run goes on.
 */
export async function scoreEvents(options: ScoreEventsOptions): Promise<ScoreEventsResult> {
  const { scorer, name } = options
  const concurrency = Math.max(1, options.concurrency ?? 8)
  const batchSize = Math.max(1, options.batchSize ?? 500)
  const sourceId = `${scorer.name}@${scorer.version}`
  const result: ScoreEventsResult = { scored: 0, written: 0, errors: [] }
  let pending: ScoredFeedback[] = []
  const flush = async () => {
    if (pending.length === 0) return
    const items = pending
    pending = []
    await options.write(items)
    result.written += items.length
  }
  for await (const chunk of options.events) {
    if (options.signal?.aborted) throw new DatasetError('aborted', 'scoring was aborted', { cause: options.signal.reason })
    const scored: (ScoredFeedback | undefined)[] = new Array(chunk.length)
    let next = 0
    const worker = async () => {
      while (next < chunk.length) {
        const i = next++
        const e = chunk[i]!
        try {
          const event = JSON.parse(e.body) as Record<string, unknown>
          const value = await scorer.score(event)
          if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`score is not a finite number: ${String(value)}`)
          scored[i] = {
            id: scoreFeedbackId(e.id, scorer, name),
            event_id: e.id,
            name,
            value,
            source: { type: 'model', id: sourceId },
            ts: typeof event.ts === 'string' ? event.ts : new Date(e.tsMs).toISOString(),
          }
          result.scored++
        } catch (err) {
          result.errors.push({ eventId: e.id, message: err instanceof Error ? err.message : String(err) })
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, chunk.length) }, worker))
    // Kept in event order so batches do not depend on which call finished first.
    for (const item of scored) {
      if (item === undefined) continue
      pending.push(item)
      if (pending.length >= batchSize) await flush()
    }
  }
  await flush()
  return result
}

/**
 * Loads a scorer module (ESM) exporting `score(event)`, and optionally `name` and `version`.
 * Defaults: name = the file name without extension; version = the first 12 hex characters of the
 * file's SHA-256, so editing the scorer makes a new version instead of conflicting with old scores.
 */
export async function loadScorer(path: string): Promise<Scorer> {
  const mod = (await import(pathToFileURL(path).href)) as {
    score?: unknown
    name?: unknown
    version?: unknown
    default?: { score?: unknown }
  }
  const score = typeof mod.score === 'function' ? mod.score : mod.default?.score
  if (typeof score !== 'function') throw new DatasetError('invalid_input', `${path} exports no score(event) function`)
  return {
    name: typeof mod.name === 'string' ? mod.name : basename(path).replace(/\.[^.]+$/, ''),
    version: typeof mod.version === 'string' ? mod.version : createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12),
    score: score as Scorer['score'],
  }
}
