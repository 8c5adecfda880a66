/**
 * UUIDv7 (RFC 9562) tuned for the log() hot path: the 48-bit millisecond prefix is formatted once
 * per millisecond, random bits come from a pooled `crypto.getRandomValues` buffer, and ids made in
 * the same millisecond stay strictly increasing through a 12-bit counter in `rand_a` (RFC 9562
 * §6.2 method 1) seeded at random each millisecond. Uses only Web APIs.
 */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const POOL_WORDS = 1024

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
  let prefix = ''

  const random = (): number => {
    if (next === POOL_WORDS) {
      globalThis.crypto.getRandomValues(pool)
      next = 0
    }
    return pool[next++]!
  }

  const setPrefix = (ms: number): void => {
    // 48-bit time as 12 hex digits: "tttttttt-tttt".
    const hi = Math.floor(ms / 0x1000000)
    const lo = ms % 0x1000000
    const h = hi.toString(16).padStart(6, '0') + lo.toString(16).padStart(6, '0')
    prefix = `${h.slice(0, 8)}-${h.slice(8, 12)}-7`
  }

  return function uuidv7(): string {
    const ms = now()
    if (ms > lastMs) {
      lastMs = ms
      // Leave headroom so a burst in one millisecond rarely overflows the counter.
      counter = random() & 0x7ff
      setPrefix(ms)
    } else {
      // Same millisecond (or the clock stepped back): keep ids increasing.
      counter++
      if (counter > 0xfff) {
        lastMs++
        counter = random() & 0x7ff
        setPrefix(lastMs)
      }
    }
    const r1 = random()
    const r2 = random()
    // rand_a (12 bits) = counter; variant bits 10; rand_b = 62 random bits.
    return (
      prefix +
      HEX[counter >>> 8]![1]! +
      HEX[counter & 0xff]! +
      '-' +
      HEX[0x80 | ((r1 >>> 24) & 0x3f)]! +
      HEX[(r1 >>> 16) & 0xff]! +
      '-' +
      HEX[(r1 >>> 8) & 0xff]! +
      HEX[r1 & 0xff]! +
      HEX[r2 >>> 24]! +
      HEX[(r2 >>> 16) & 0xff]! +
      HEX[(r2 >>> 8) & 0xff]! +
      HEX[r2 & 0xff]!
    )
  }
}
