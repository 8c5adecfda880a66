import { createHash, hash } from 'node:crypto'
import canonicalize from 'canonicalize'
import type { SplitPlan } from '../spec/compile-plan.js'
import type { EventView } from './event-view.js'

// crypto.hash (Node ≥ 20.12) is several times cheaper than createHash for one short input.
const sha256 =
  typeof hash === 'function'
    ? (text: string): Buffer => hash('sha256', text, 'buffer') as unknown as Buffer
    : (text: string): Buffer => createHash('sha256').update(text).digest()

/** SHA-256 of UTF-8 text, as bytes. */
export function sha256Bytes(text: string): Buffer {
  return sha256(text)
}

const TRACE_USER = ['trace', 'user_id']

/** The split key of an event: `by`, falling back to `trace.user_id`, then the event id; non-strings as canonical JSON. */
export function splitKeyOf(event: EventView, by: readonly string[]): string {
  let v = event.at(by)
  if (v === undefined || v === null) v = event.at(TRACE_USER)
  if (v === undefined || v === null) return event.id
  return typeof v === 'string' ? v : (canonicalize(v) as string)
}

/**
 * Where a key goes: u = the first 48 bits of SHA-256(seed ∥ 0x00 ∥ key) as a fraction of 2^48, and
 * the split is the first (by sorted name) whose cumulative ratio exceeds u. Depends only on the
 * seed, the key and the ratios, so one key never lands in two splits, on any build.
 */
export function splitOf(plan: SplitPlan, key: string): string {
  if (plan.names.length === 1) return plan.names[0]!
  const d = sha256(`${plan.seed}\u0000${key}`)
  const u = (d.readUIntBE(0, 6) as number) / 2 ** 48
  for (let i = 0; i < plan.bounds.length; i++) if (u < plan.bounds[i]!) return plan.names[i]!
  return plan.names[plan.names.length - 1]!
}

/**
 * {@link splitOf} with the last keys remembered: rows of one session or user usually come close
 * together in commit order, so most rows skip the hash. Bounded (cleared past `size` keys).
 */
export function cachedSplitOf(plan: SplitPlan, size = 4096): (key: string) => string {
  const cache = new Map<string, string>()
  return (key) => {
    let s = cache.get(key)
    if (s === undefined) {
      if (cache.size >= size) cache.clear()
      s = splitOf(plan, key)
      cache.set(key, s)
    }
    return s
  }
}
