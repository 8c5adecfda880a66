import { MersenneTwister19937, Random } from 'random-js'

/** The random choices the demo makes, all from one seed (same seed, same traffic and feedback). */
export class SeededRandom {
  private readonly r: Random

  constructor(seed: number) {
    this.r = new Random(MersenneTwister19937.seed(seed))
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.r.realZeroToOneExclusive()
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** Uniform in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next()
  }

  /** Exponentially distributed with this mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next())
  }

  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list')
    return items[Math.floor(this.next() * items.length)] as T
  }
}
