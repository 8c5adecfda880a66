/**
 * Text gathered as UTF-8 bytes into one reused buffer and handed on in pieces of at most its size
 * (a hash, a file). Unlike a string built with `+=`, it keeps no reference to the strings added:
 * an event id cut from a stored row is often a slice of that row's whole text, and a pending
 * string of a few thousand ids kept those rows alive past young-generation collections (promoted,
 * then collected by full collections: most of a parquet build's garbage-collector time).
 */
export class Utf8Batch {
  readonly #drain: (bytes: Buffer) => void
  readonly #buf: Buffer
  #pos = 0

  /**
   * @param drain Receives each full piece; must use the bytes before it returns (they are overwritten).
   * @param size Buffer size, bytes; default 65 536.
   */
  constructor(drain: (bytes: Buffer) => void, size = 1 << 16) {
    this.#drain = drain
    this.#buf = Buffer.allocUnsafe(size)
  }

  /** Appends `text` as UTF-8 (lone surrogates as U+FFFD, as `Buffer.from` and `hash.update` encode them). */
  add(text: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes.
    if (this.#pos + text.length * 3 > this.#buf.length) {
      this.flush()
      if (text.length * 3 > this.#buf.length) {
        this.#drain(Buffer.from(text))
        return
      }
    }
    this.#pos += this.#buf.write(text, this.#pos)
  }

  /** Appends one byte (an ASCII separator). */
  byte(code: number): void {
    if (this.#pos === this.#buf.length) this.flush()
    this.#buf[this.#pos++] = code
  }

  /** Hands on what is gathered. */
  flush(): void {
    if (this.#pos === 0) return
    const n = this.#pos
    this.#pos = 0
    this.#drain(this.#buf.subarray(0, n))
  }
}
