import type { ByteReader, ByteWriter } from './byte-codec.js'

/** Options of {@link FrequentItems}. */
export interface FrequentItemsOptions {
  /** Items kept after a purge. Default 256. */
  capacity?: number
}

/**
 * Bounded counts of the most frequent items (Misra–Gries with weights and batched purges, as
 * DataSketches' frequent-items sketch): counts are exact until more than `capacity` distinct
 * items are seen; after that every count is an underestimate by at most `offset`, and any item
 * more frequent than `offset` is kept. Mergeable.
 */
export class FrequentItems<K extends string | number> {
  readonly capacity: number
  counts = new Map<K, number>()
  /** Largest undercount of any item (0 while counts are exact). */
  offset = 0
  /** Total weight added. */
  total = 0

  constructor(options: FrequentItemsOptions = {}) {
    this.capacity = options.capacity ?? 256
  }

  /** True while every count is exact (no purge has happened). */
  get exact(): boolean {
    return this.offset === 0
  }

  /** Adds `weight` occurrences of `item`. */
  add(item: K, weight = 1): void {
    this.total += weight
    this.counts.set(item, (this.counts.get(item) ?? 0) + weight)
    if (this.counts.size > 2 * this.capacity) this.purge()
  }

  /** Subtracts the (capacity+1)-th largest count from all and drops what falls to zero. */
  private purge(): void {
    if (this.counts.size <= this.capacity) return
    const sorted = Float64Array.from(this.counts.values()).sort()
    const cut = sorted[sorted.length - this.capacity - 1]!
    this.offset += cut
    for (const [k, c] of this.counts) {
      if (c <= cut) this.counts.delete(k)
      else this.counts.set(k, c - cut)
    }
  }

  /** Adds every item of `other`. */
  merge(other: FrequentItems<K>): void {
    for (const [k, c] of other.counts) this.counts.set(k, (this.counts.get(k) ?? 0) + c)
    this.total += other.total
    this.offset += other.offset
    if (this.counts.size > this.capacity) this.purge()
  }

  /** Lower bound of an item's count (exact while {@link exact}). */
  count(item: K): number {
    return this.counts.get(item) ?? 0
  }

  /** Writes capacity, totals and items; `kind` says how keys are encoded. */
  write(w: ByteWriter): void {
    w.u32(this.capacity)
    w.f64(this.total)
    w.f64(this.offset)
    w.u32(this.counts.size)
    for (const [k, c] of this.counts) {
      if (typeof k === 'number') {
        w.u8(0)
        w.f64(k)
      } else {
        w.u8(1)
        w.string(k)
      }
      w.f64(c)
    }
  }

  /** Reads items written by {@link FrequentItems.write}. */
  static read<K extends string | number>(r: ByteReader): FrequentItems<K> {
    const f = new FrequentItems<K>({ capacity: r.u32() })
    f.total = r.f64()
    f.offset = r.f64()
    const n = r.u32()
    for (let i = 0; i < n; i++) {
      const key = (r.u8() === 0 ? r.f64() : r.string()) as K
      f.counts.set(key, r.f64())
    }
    return f
  }
}
