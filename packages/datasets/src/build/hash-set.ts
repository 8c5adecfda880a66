/**
 * A set of 96-bit digests in flat typed arrays (open addressing, linear probing): about 24 bytes
 * per entry at most, against ~100 for hex strings in a `Set`, so deduplicating millions of inputs
 * stays well inside the memory budget. A false match needs a 96-bit collision (~1e-17 at 1M rows).
 */
export class DigestSet {
  #a: Uint32Array
  #b: Uint32Array
  #c: Uint32Array
  #used: Uint8Array
  #size = 0

  constructor(capacity = 1 << 16) {
    this.#a = new Uint32Array(capacity)
    this.#b = new Uint32Array(capacity)
    this.#c = new Uint32Array(capacity)
    this.#used = new Uint8Array(capacity)
  }

  get size(): number {
    return this.#size
  }

  /** Adds the first 12 bytes of `digest`; false when they were already there. */
  add(digest: Uint8Array): boolean {
    const view = new DataView(digest.buffer, digest.byteOffset, 12)
    const a = view.getUint32(0)
    const b = view.getUint32(4)
    const c = view.getUint32(8)
    if ((this.#size + 1) * 2 > this.#used.length) this.#grow()
    return this.#insert(a, b, c)
  }

  #insert(a: number, b: number, c: number): boolean {
    const mask = this.#used.length - 1
    let i = a & mask
    while (this.#used[i] === 1) {
      if (this.#a[i] === a && this.#b[i] === b && this.#c[i] === c) return false
      i = (i + 1) & mask
    }
    this.#used[i] = 1
    this.#a[i] = a
    this.#b[i] = b
    this.#c[i] = c
    this.#size++
    return true
  }

  #grow(): void {
    const [a, b, c, used] = [this.#a, this.#b, this.#c, this.#used]
    const n = used.length * 2
    this.#a = new Uint32Array(n)
    this.#b = new Uint32Array(n)
    this.#c = new Uint32Array(n)
    this.#used = new Uint8Array(n)
    this.#size = 0
    for (let i = 0; i < used.length; i++) if (used[i] === 1) this.#insert(a[i]!, b[i]!, c[i]!)
  }
}
