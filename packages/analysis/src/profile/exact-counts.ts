import type { ByteReader, ByteWriter } from './byte-codec.js'

/**
 * Exact counts of each distinct number, kept only while there are at most `capacity` of them:
 * beyond that the set gives up (`overflowed`) and stops costing anything. Low-cardinality numeric
 * fields (integers, flags, ratings) thus get exact value-keyed and binned shares from profiles.
 */
export class ExactCounts {
  readonly capacity: number
  counts: Map<number, number> | undefined = new Map()

  constructor(capacity = 256) {
    this.capacity = capacity
  }

  /** True once more than `capacity` distinct values were seen. */
  get overflowed(): boolean {
    return this.counts === undefined
  }

  /** Adds `weight` occurrences of `x` (−0 counts as 0). */
  add(x: number, weight = 1): void {
    const m = this.counts
    if (!m) return
    const k = x === 0 ? 0 : x
    m.set(k, (m.get(k) ?? 0) + weight)
    if (m.size > this.capacity) this.counts = undefined
  }

  /** Adds another set's counts (overflowing if either did or the union is too large). */
  merge(o: ExactCounts): void {
    if (!this.counts) return
    if (!o.counts) {
      this.counts = undefined
      return
    }
    for (const [k, c] of o.counts) this.add(k, c)
  }

  write(w: ByteWriter): void {
    w.u32(this.capacity)
    if (!this.counts) {
      w.u8(0)
      return
    }
    w.u8(1)
    w.f64s([...this.counts.keys()])
    w.f64s([...this.counts.values()])
  }

  static read(r: ByteReader): ExactCounts {
    const e = new ExactCounts(r.u32())
    if (r.u8() === 0) e.counts = undefined
    else {
      const keys = r.f64s()
      const counts = r.f64s()
      keys.forEach((k, i) => e.counts!.set(k, counts[i]!))
    }
    return e
  }
}
