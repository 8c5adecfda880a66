/**
 * UUIDv7 (RFC 9562) tuned for the log() hot path: the 48-bit millisecond prefix is formatted once
 * per millisecond, random bits come from a pooled `crypto.getRandomValues` buffer, and ids made in
 * the same millisecond stay strictly increasing through a 12-bit counter in `rand_a` (RFC 9562
 * §6.2 method 1) seeded at random each millisecond. Uses only Web APIs.
 */

const HEX_CODES = Array.from({ length: 16 }, (_, i) => i.toString(16).charCodeAt(0))
const POOL_WORDS = 1024
// Positions of the hex digits in "xxxxxxxx-xxxx-7xxx-Vxxx-xxxxxxxxxxxx".
const DASH = 0x2d

/** A function returning a new UUIDv7 string on every call. */
export type IdGenerator = () => string

/**
 * Creates an independent UUIDv7 generator.
 * @param now epoch-ms clock. Default `Date.now`.
 */
export function createUuidV7(now: () => number = Date.now): IdGenerator {
  const pool = new Uint32Array(POOL_WORDS)
  let next = POOL_WORDS
  let lastMs = -1
  let counter = 0
  // Character codes of the id, rewritten in place: one flat string per id (no rope of pieces
  // for the garbage collector to trace while the id waits in the queue).
  const codes: number[] = new Array(36).fill(DASH)
  codes[14] = 0x37 // version 7

  const random = (): number => {
    if (next === POOL_WORDS) {
      globalThis.crypto.getRandomValues(pool)
      next = 0
    }
    return pool[next++]!
  }

  const hex = (at: number, value: number, digits: number): void => {
    for (let i = digits - 1; i >= 0; i--) {
      codes[at + i] = HEX_CODES[value & 15]!
      value >>>= 4
    }
  }

  const setTime = (ms: number): void => {
    // 48-bit time as 12 hex digits: "tttttttt-tttt".
    const hi = Math.floor(ms / 0x10000)
    hex(0, hi, 8)
    hex(9, ms % 0x10000, 4)
  }

  return function uuidv7(): string {
    const ms = now()
    if (ms > lastMs) {
      lastMs = ms
      // Leave headroom so a burst in one millisecond rarely overflows the counter.
      counter = random() & 0x7ff
      setTime(ms)
    } else {
      // Same millisecond (or the clock stepped back): keep ids increasing.
      counter++
      if (counter > 0xfff) {
        lastMs++
        counter = random() & 0x7ff
        setTime(lastMs)
      }
    }
    const r1 = random()
    const r2 = random()
    // rand_a (12 bits) = counter; variant bits 10; rand_b = 62 random bits.
    hex(15, counter, 3)
    hex(19, 0x8000 | (r1 >>> 18), 4)
    hex(24, (r1 >>> 2) & 0xffff, 4)
    hex(28, r2, 8)
    return String.fromCharCode.apply(null, codes)
  }
}

let shared: IdGenerator | undefined

/**
 * A new UUIDv7 from a generator shared by the callers of this function (created on first use,
 * clock `Date.now`). Sharing is deliberate: ids from one process stay strictly increasing, the
 * way `crypto.randomUUID()` needs no instance. Code whose time is injected uses
 * {@link createUuidV7} with its own clock.
 */
export function uuidv7(): string {
  shared ??= createUuidV7()
  return shared()
}
