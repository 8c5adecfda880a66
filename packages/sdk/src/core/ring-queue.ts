/**
 * A FIFO ring buffer with O(1) push, shift and drop-oldest. Items and their ids and times live in
 * parallel arrays so a push allocates nothing once the ring has grown. Grows by doubling up to
 * the capacity the caller enforces; `pushed`/`shifted` are the sequence numbers flush() waits on.
 */
export class RingQueue<T> {
  private items: (T | undefined)[]
  private ids: string[]
  private times: Float64Array
  private head = 0
  private mask: number
  /** Items currently held. */
  size = 0
  /** Items ever pushed: the next item's sequence number. */
  pushed = 0
  /** Items ever removed from the head: the head item's sequence number. */
  shifted = 0

  constructor(capacity: number) {
    const initial = Math.min(1024, nextPow2(capacity))
    this.items = new Array(initial)
    this.ids = new Array(initial)
    this.times = new Float64Array(initial)
    this.mask = initial - 1
  }

  push(item: T, id: string, time: number): void {
    if (this.size > this.mask) this.grow()
    const i = (this.head + this.size) & this.mask
    this.items[i] = item
    this.ids[i] = id
    this.times[i] = time
    this.size++
    this.pushed++
  }

  /** Removes the head; read it first with {@link peekItem}, {@link peekId}, {@link peekTime}. */
  drop(): void {
    if (this.size === 0) return
    this.items[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    this.size--
    this.shifted++
  }

  peekItem(): T {
    return this.items[this.head]!
  }

  peekId(): string {
    return this.ids[this.head]!
  }

  peekTime(): number {
    return this.times[this.head]!
  }

  private grow(): void {
    const n = Math.max(2, (this.mask + 1) * 2)
    const items: (T | undefined)[] = new Array(n)
    const ids: string[] = new Array(n)
    const times = new Float64Array(n)
    for (let k = 0; k < this.size; k++) {
      const j = (this.head + k) & this.mask
      items[k] = this.items[j]
      ids[k] = this.ids[j]!
      times[k] = this.times[j]!
    }
    this.items = items
    this.ids = ids
    this.times = times
    this.head = 0
    this.mask = n - 1
  }
}

function nextPow2(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}
