/**
 * Deterministic sampling by id: the same id always gets the same decision, in every process and
 * language that uses the same hash, so an event and its later feedback are kept or left out
 * together.
 */

/** FNV-1a (32-bit) of a string's UTF-16 code units, mixed with a seed. */
export function hashId(id: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  // Final avalanche (murmur3 fmix32) so nearby ids spread over the whole range.
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Seed of the internals-capture decision, independent of the event decision. */
export const INTERNALS_SEED = 0x5bd1e995

/**
 * Returns a predicate keeping a share `rate` of ids, or undefined when everything is kept
 * (so callers skip the check altogether).
 */
export function idSampler(rate: number, seed = 0): ((id: string) => boolean) | undefined {
  if (rate >= 1) return undefined
  const threshold = Math.floor(rate * 0x100000000)
  return (id) => hashId(id, seed) < threshold
}
