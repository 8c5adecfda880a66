import { createHash } from 'node:crypto'
import type { InferenceEvent } from '@inferlog/schema'
import canonicalize from 'canonicalize'

/** One request for the cache analysis. */
export interface CacheRequest {
  /** The event id (reported as an example of a repeated input). */
  id?: string
  /** Exact-match cache key: hash of the canonical input and model parameters (see {@link cacheKeyOf}). */
  key: string
  /** Epoch ms. */
  ts: number
  inputTokens?: number
  outputTokens?: number
  costUsd?: number
  latencyMs?: number
}

/** Options of {@link cacheOpportunity}. */
export interface CacheOpportunityOptions {
  /** Time to live of a cached answer, ms. Default 3 600 000 (1 h). */
  windowMs?: number
  /** How many repeated keys to list. Default 10. */
  top?: number
}

/** What an exact-match cache would have saved. */
export interface CacheSavings {
  input_tokens: number
  output_tokens: number
  cost_usd: number
  latency_ms: number
}

/** One repeated input. */
export interface RepeatedInput {
  key: string
  requests: number
  /** Requests that would have been cache hits. */
  hits: number
  saved: CacheSavings
  /** Id of the first request with this key. */
  example_id?: string
}

/** Reply of the cache analysis (`GET /v1/analysis/cache`). */
export interface CacheOpportunity {
  window_ms: number
  requests: number
  /** Requests an exact-match cache would have answered. */
  hits: number
  /** hits / requests, `null` without requests. */
  hit_share: number | null
  saved: CacheSavings
  /** Keys with the most hits, then the most saved cost. */
  top: RepeatedInput[]
}

function zero(): CacheSavings {
  return { input_tokens: 0, output_tokens: 0, cost_usd: 0, latency_ms: 0 }
}

function addSaving(s: CacheSavings, r: CacheRequest): void {
  s.input_tokens += r.inputTokens ?? 0
  s.output_tokens += r.outputTokens ?? 0
  s.cost_usd += r.costUsd ?? 0
  s.latency_ms += r.latencyMs ?? 0
}

/**
 * Simulates an exact-match cache with a time to live over requests in time order (then id): a
 * request is a hit when the same key was computed (a miss) at most `windowMs` before it; a miss
 * computes and stores the answer, so the TTL runs from the computation, not from the last hit. The
 * first request of a key is always a miss. Hits save their tokens, cost and latency. Counts are of
 * stored requests: with sampling (sample_rate < 1) repeats are under-detected, so run it on
 * unsampled traffic or read it as a lower bound.
 */
export function cacheOpportunity(requests: readonly CacheRequest[], options: CacheOpportunityOptions = {}): CacheOpportunity {
  const windowMs = options.windowMs ?? 3_600_000
  const sorted = [...requests].sort((a, b) => a.ts - b.ts || ((a.id ?? '') < (b.id ?? '') ? -1 : (a.id ?? '') > (b.id ?? '') ? 1 : 0))
  const computedAt = new Map<string, number>()
  const perKey = new Map<string, RepeatedInput>()
  const saved = zero()
  let hits = 0
  for (const r of sorted) {
    let k = perKey.get(r.key)
    if (!k) {
      k = { key: r.key, requests: 0, hits: 0, saved: zero() }
      if (r.id !== undefined) k.example_id = r.id
      perKey.set(r.key, k)
    }
    k.requests++
    const last = computedAt.get(r.key)
    if (last !== undefined && r.ts - last <= windowMs) {
      hits++
      k.hits++
      addSaving(saved, r)
      addSaving(k.saved, r)
    } else {
      computedAt.set(r.key, r.ts)
    }
  }
  const top = [...perKey.values()]
    .filter((k) => k.hits > 0)
    .sort((a, b) => b.hits - a.hits || b.saved.cost_usd - a.saved.cost_usd || (a.key < b.key ? -1 : 1))
    .slice(0, options.top ?? 10)
  return { window_ms: windowMs, requests: sorted.length, hits, hit_share: sorted.length > 0 ? hits / sorted.length : null, saved, top }
}

/**
 * The exact-match cache key of an event: SHA-256 (hex) of the RFC 8785 canonical JSON of
 * `{model: model.name, params: model.params ?? null, input}`. The version is left out on purpose:
 * a response cache in front of a model name serves across its deployments.
 */
export function cacheKeyOf(event: Pick<InferenceEvent, 'model' | 'input'>): string {
  const text = canonicalize({ model: event.model.name, params: event.model.params ?? null, input: event.input }) ?? ''
  return createHash('sha256').update(text).digest('hex')
}
