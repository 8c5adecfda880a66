/** Below this length the built-in comparison sort wins over the radix passes. */
const RADIX_MIN_LENGTH = 4096

/**
 * Sorts finite (or infinite, but not NaN) doubles ascending in place and returns the same array.
 * Long arrays use a least-significant-digit radix sort on the IEEE 754 bit patterns (8 passes of
 * 8 bits): linear time, about 5x faster than `Float64Array.prototype.sort` on 500k values, which
 * is what lets exact drift over 20 fields of 500k rows fit the 2 s budget. `-0` sorts before `+0`,
 * as the built-in sort does. NaN must be removed by the caller.
 */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length
  if (n < RADIX_MIN_LENGTH) return values.sort()
  const scratch = new Float64Array(n)
  // Map each double to an unsigned key that orders like the number: flip the sign bit of
  // non-negatives, flip every bit of negatives. Done in place on the 32-bit halves.
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2)
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1]!
    if (hi & 0x80000000) {
      words[2 * i] = ~words[2 * i]! >>> 0
      words[2 * i + 1] = ~hi >>> 0
    } else {
      words[2 * i + 1] = (hi | 0x80000000) >>> 0
    }
  }
  // One read computes the histograms of all eight 8-bit digits; 256 buckets stay in cache,
  // which matters more than the pass count (16-bit digits were slower on random doubles).
  const counts = new Uint32Array(8 * 256)
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]!
    const hi = words[2 * i + 1]!
    counts[lo & 0xff]!++
    counts[256 + ((lo >>> 8) & 0xff)]!++
    counts[512 + ((lo >>> 16) & 0xff)]!++
    counts[768 + (lo >>> 24)]!++
    counts[1024 + (hi & 0xff)]!++
    counts[1280 + ((hi >>> 8) & 0xff)]!++
    counts[1536 + ((hi >>> 16) & 0xff)]!++
    counts[1792 + (hi >>> 24)]!++
  }
  let src: Float64Array = values
  let dst: Float64Array = scratch
  for (let pass = 0; pass < 8; pass++) {
    const base = pass * 256
    // A digit on which every key agrees moves nothing: skip the scatter.
    let skip = false
    for (let d = 0; d < 256; d++) {
      const c = counts[base + d]!
      if (c === n) skip = true
      if (c !== 0) break
    }
    if (skip) continue
    let sum = 0
    for (let d = 0; d < 256; d++) {
      const c = counts[base + d]!
      counts[base + d] = sum
      sum += c
    }
    const srcWords = new Uint32Array(src.buffer, src.byteOffset, n * 2)
    const wordOffset = pass < 4 ? 0 : 1
    const shift = (pass & 3) * 8
    for (let i = 0; i < n; i++) {
      const d = base + ((srcWords[2 * i + wordOffset]! >>> shift) & 0xff)
      dst[counts[d]!++] = src[i]!
    }
    const t = src
    src = dst
    dst = t
  }
  if (src !== values) values.set(src)
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1]!
    if (hi & 0x80000000) {
      words[2 * i + 1] = (hi & 0x7fffffff) >>> 0
    } else {
      words[2 * i] = ~words[2 * i]! >>> 0
      words[2 * i + 1] = ~hi >>> 0
    }
  }
  return values
}
