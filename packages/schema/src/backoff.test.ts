import { describe, expect, it } from 'vitest'
import { nextBackoffMs, parseRetryAfter, retry } from './backoff.js'

/** A random source returning the given values in turn. */
const seq = (...xs: number[]) => {
  let i = 0
  return () => xs[i++ % xs.length]!
}

describe('nextBackoffMs', () => {
  it('draws uniformly below an exponential ceiling (full jitter), capped', () => {
    const o = { baseMs: 100, maxMs: 1000 }
    expect(nextBackoffMs(0, { ...o, random: () => 0.5 })).toBe(50)
    expect(nextBackoffMs(3, { ...o, random: () => 0.5 })).toBe(400)
    expect(nextBackoffMs(4, { ...o, random: () => 0.999 })).toBeCloseTo(999)
    expect(nextBackoffMs(4, { ...o, random: () => 0 })).toBe(0)
    // Huge attempt counts stay finite and capped.
    expect(nextBackoffMs(10_000, { ...o, random: () => 0.5 })).toBe(500)
  })

  it('defaults to base 100 ms and cap 15 s', () => {
    expect(nextBackoffMs(0, { random: () => 0.5 })).toBe(50)
    expect(nextBackoffMs(20, { random: () => 0.5 })).toBe(7500)
  })

  it("raises the delay to the server's Retry-After (plus up to 10 %), bounded by maxRetryAfterMs", () => {
    expect(nextBackoffMs(0, { retryAfterMs: 3000, random: seq(0.5, 0) })).toBe(3000)
    expect(nextBackoffMs(0, { retryAfterMs: 3000, random: seq(0.5, 1) })).toBeCloseTo(3300)
    // A backoff already longer than Retry-After wins.
    expect(nextBackoffMs(10, { maxMs: 60_000, retryAfterMs: 1000, random: seq(0.5, 0) })).toBe(30_000)
    expect(nextBackoffMs(0, { retryAfterMs: 3_600_000, maxRetryAfterMs: 60_000, random: seq(0.5, 0) })).toBe(60_000)
    expect(nextBackoffMs(0, { retryAfterMs: 0, random: () => 0.5 })).toBe(50)
  })
})

describe('parseRetryAfter', () => {
  it('reads delta seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000)
    expect(parseRetryAfter(' 0.5 ')).toBe(500)
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter(undefined)).toBeUndefined()
  })
})

describe('retry', () => {
  it('retries failures with backoff until one succeeds', async () => {
    const waits: number[] = []
    const seen: number[] = []
    const result = await retry(
      async (attempt) => {
        seen.push(attempt)
        if (attempt < 3) throw new Error(`fail ${attempt}`)
        return 'done'
      },
      { baseMs: 10, random: () => 0.5, sleep: async (ms) => void waits.push(ms) },
    )
    expect(result).toBe('done')
    expect(seen).toEqual([0, 1, 2, 3])
    expect(waits).toEqual([5, 10, 20])
  })

  it('rejects with the last failure once retries are spent, or when shouldRetry declines', async () => {
    let calls = 0
    await expect(
      retry(
        async () => {
          calls++
          throw new Error(`boom ${calls}`)
        },
        { retries: 2, sleep: async () => undefined },
      ),
    ).rejects.toThrow('boom 3')
    expect(calls).toBe(3)
    calls = 0
    await expect(
      retry(
        async () => {
          calls++
          throw new TypeError('fatal')
        },
        { shouldRetry: (e) => !(e instanceof TypeError), sleep: async () => undefined },
      ),
    ).rejects.toThrow('fatal')
    expect(calls).toBe(1)
  })

  it("waits at least the failure's Retry-After and reports each retry", async () => {
    const waits: number[] = []
    const retried: number[] = []
    let n = 0
    await retry(
      async () => {
        if (n++ === 0) throw Object.assign(new Error('overloaded'), { retryAfterMs: 2000 })
        return n
      },
      {
        random: () => 0,
        retryAfterMs: (e) => (e as { retryAfterMs?: number }).retryAfterMs,
        onRetry: (_e, attempt) => retried.push(attempt),
        sleep: async (ms) => void waits.push(ms),
      },
    )
    expect(waits).toEqual([2000])
    expect(retried).toEqual([0])
  })

  it('stops waiting when aborted, with the reason', async () => {
    const ac = new AbortController()
    const p = retry(
      async () => {
        throw new Error('down')
      },
      { retries: Infinity, baseMs: 60_000, maxMs: 60_000, random: () => 1, signal: ac.signal },
    )
    ac.abort(new Error('shutting down'))
    await expect(p).rejects.toThrow('shutting down')
  })
})
