import { setTimeout as delay } from 'node:timers/promises'
import { compareShadow, type ShadowPair } from '@inferlog/analysis'
import type { IngestReply, JsonValue } from '@inferlog/schema'
import { ApiError, type HttpClient } from '../http-client.js'
import { CandidateError, type Predict } from './replay-candidate.js'
import { applyOverrides, type Override, replayEventId } from './replay-overrides.js'

type Obj = Record<string, unknown>

/** Options of {@link runReplay}. */
export interface ReplayRunOptions {
  client: HttpClient
  /** `GET /v1/events` filter parameters selecting the originals (without `limit`/`cursor`). */
  filters: URLSearchParams
  /** Most originals to replay. Default: all that match. */
  limit?: number
  candidate: { name: string; version: string }
  predict: Predict
  overrides: Override[]
  /** Events in flight at once. Default 4. */
  concurrency?: number
  /** Most candidate calls started per second. Default: no limit. */
  rate?: number
  /** Shadow events per ingest request. Default 200. */
  batchSize?: number
  /** Epoch-ms clock for `ts`. Default `Date.now`. */
  now?: () => number
  /** Monotonic ms clock for latencies and the rate. Default `performance.now`. */
  clock?: () => number
  /** Waits (rate limit, retries). Default a timer. */
  sleep?: (ms: number) => Promise<void>
  /** Told after each event. Default none. */
  onProgress?: (s: ReplaySummary) => void
}

/** What a replay did. */
export interface ReplaySummary {
  /** `NAME@VERSION`. */
  candidate: string
  /** Originals read. */
  selected: number
  /** Shadow events stored by this run. */
  logged: number
  /** Originals already replayed with this candidate and overrides (nothing run, nothing added). */
  already: number
  /** Originals the candidate failed on (timeout, error reply, throw); each recorded as an error shadow. */
  errors: number
  /** Shadow events the collector refused. */
  not_logged: number
  /** Share of equal outputs (RFC 8785) over pairs where both sides have one, with a 95% Wilson interval. */
  agreement: { pairs: number; value: number; ci_low: number | null; ci_high: number | null } | null
  seconds: number
  /** The first failures, for the report. */
  failures: { id: string; type: string; message: string }[]
}

const MAX_FAILURES = 20
const PAGE = 1000

async function* selectEvents(client: HttpClient, filters: URLSearchParams, limit: number): AsyncGenerator<Obj> {
  let cursor: string | null = null
  let seen = 0
  do {
    const q = new URLSearchParams(filters)
    q.set('limit', String(Math.min(PAGE, limit - seen)))
    if (cursor) q.set('cursor', cursor)
    const { json } = await client.request<{ items: Obj[]; next_cursor: string | null }>('GET', `/v1/events?${q}`)
    for (const e of json.items) {
      if (seen >= limit) return
      seen++
      yield e
    }
    cursor = json.next_cursor
  } while (cursor && seen < limit)
}

/** Calls the collector, waiting out 503/429 and network errors a few times as `inferlog ingest` does. */
async function withRetries<T>(fn: () => Promise<T>, sleep: (ms: number) => Promise<void>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (e) {
      const retryable = e instanceof ApiError && (e.status === 0 || e.status === 503 || e.status === 429)
      if (!retryable || attempt >= 8) throw e
      await sleep(Math.min(15_000, (e.retryAfter ?? 0.2 * 2 ** attempt) * 1000))
    }
  }
}

function tagValue(v: unknown): string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v)
}

/**
 * Replays logged inputs against a candidate and logs each result as a shadow event of the
 * original (`shadow_of`, `model.stage: shadow`, the candidate's name and version, `--set`
 * overrides applied to the input and listed in `context.tags` as `replay.set.<path>`). Shadow ids
 * derive from original id + candidate + overrides, and an original whose shadow already exists
 * is not run again, so a replay can be repeated or resumed. A candidate failure is recorded as an
 * error shadow for that event and the run goes on.
 */
export async function runReplay(o: ReplayRunOptions): Promise<ReplaySummary> {
  const now = o.now ?? Date.now
  const clock = o.clock ?? (() => performance.now())
  const sleep = o.sleep ?? ((ms: number) => delay(ms))
  const label = `${o.candidate.name}@${o.candidate.version}`
  const t0 = clock()
  const s: ReplaySummary = {
    candidate: label,
    selected: 0,
    logged: 0,
    already: 0,
    errors: 0,
    not_logged: 0,
    agreement: null,
    seconds: 0,
    failures: [],
  }
  const pairs: ShadowPair[] = []
  const overrideTags: Record<string, string | number | boolean> = { 'replay.candidate': label }
  for (const ov of o.overrides) overrideTags[`replay.set.${ov.path}`] = tagValue(ov.value)
  const fail = (id: string, type: string, message: string) => {
    if (s.failures.length < MAX_FAILURES) s.failures.push({ id, type, message })
  }
  let pending: Obj[] = []
  const post = async (batch: Obj[]) => {
    if (batch.length === 0) return
    const body = `${batch.map((e) => JSON.stringify(e)).join('\n')}\n`
    const { json } = await withRetries(() => o.client.request<IngestReply>('POST', '/v1/events', body, 'application/x-ndjson'), sleep)
    s.logged += json.accepted
    s.already += json.duplicates
    s.not_logged += json.rejected.length
    for (const r of json.rejected) fail(String(batch[r.index]?.shadow_of ?? '?'), r.code, `shadow not stored: ${r.message}`)
  }
  let nextStart = t0
  const gate = async () => {
    if (!o.rate) return
    const t = clock()
    const wait = nextStart - t
    nextStart = Math.max(t, nextStart) + 1000 / o.rate
    if (wait > 0) await sleep(wait)
  }

  const one = async (original: Obj) => {
    const originalId = String(original.id)
    const id = replayEventId(originalId, label, o.overrides)
    let existing: Obj | undefined
    try {
      existing = (await withRetries(() => o.client.request<{ event: Obj }>('GET', `/v1/events/${encodeURIComponent(id)}`), sleep)).json
        .event
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e
    }
    const primary = {
      output: original.output as JsonValue,
      latencyMs: (original.latency_ms as Obj | undefined)?.total as number | undefined,
    }
    if (existing) {
      s.already++
      if (existing.status !== 'error') pairs.push({ id: originalId, primary, shadow: { output: existing.output as JsonValue } })
      return
    }
    const input = applyOverrides(original.input, o.overrides)
    await gate()
    const started = now()
    const t = clock()
    const shadow: Obj = {
      id,
      ts: new Date(started).toISOString(),
      model: { name: o.candidate.name, version: o.candidate.version, stage: 'shadow' },
      shadow_of: originalId,
      input: input ?? null,
      context: { tags: overrideTags },
    }
    const trace = original.trace as Obj | undefined
    if (trace?.session_id || trace?.user_id) {
      shadow.trace = { ...(trace.session_id ? { session_id: trace.session_id } : {}), ...(trace.user_id ? { user_id: trace.user_id } : {}) }
    }
    try {
      const output = await o.predict(input, original)
      shadow.output = output === undefined ? null : (output as JsonValue)
      shadow.latency_ms = { total: clock() - t }
      pairs.push({ id: originalId, primary, shadow: { output: shadow.output as JsonValue, latencyMs: clock() - t } })
    } catch (e) {
      const type = e instanceof CandidateError ? e.type : 'error'
      const message = e instanceof Error ? e.message : String(e)
      shadow.latency_ms = { total: clock() - t }
      shadow.status = 'error'
      shadow.error = { type, message }
      s.errors++
      fail(originalId, type, message)
    }
    pending.push(shadow)
    if (pending.length >= (o.batchSize ?? 200)) {
      const batch = pending
      pending = []
      await post(batch)
    }
  }

  const source = selectEvents(o.client, o.filters, o.limit ?? Number.POSITIVE_INFINITY)
  // Async generators queue concurrent next() calls, so workers can share one.
  const worker = async () => {
    for (;;) {
      const next = await source.next()
      if (next.done) return
      s.selected++
      await one(next.value)
      o.onProgress?.(s)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 4) }, worker))
  await post(pending)
  const cmp = compareShadow(pairs)
  if (cmp.agreement) s.agreement = { pairs: cmp.pairs, ...cmp.agreement }
  s.seconds = Number(((clock() - t0) / 1000).toFixed(3))
  return s
}
