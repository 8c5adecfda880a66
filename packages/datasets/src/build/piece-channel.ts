import type { RangePiece } from './compile-range.js'

/**
 * The pieces of one range between a producer (a compiler) and the build that consumes them in
 * order: at most `ahead` pieces wait; `push` resolves when there is room. A failure or the end is
 * delivered after the pieces before it. Closing it from the consumer's side (`return()`) makes
 * the next `push` reject, so the producer stops.
 */
export class PieceChannel implements AsyncIterable<RangePiece> {
  readonly #queue: RangePiece[] = []
  #ended = false
  #failure: unknown
  #closed = false
  #wakeConsumer: (() => void) | undefined
  #wakeProducer: (() => void) | undefined
  /** Called each time the consumer takes a piece (e.g. to grant a thread one more credit). */
  onTake: (() => void) | undefined
  /** Called once when the consumer closes the channel (e.g. to stop a thread's range). */
  onClose: (() => void) | undefined

  constructor(readonly ahead = 4) {}

  /** Adds a piece; resolves once fewer than `ahead` wait. Rejects once the consumer closed the channel. */
  async push(piece: RangePiece): Promise<void> {
    if (this.#closed) throw new Error('range cancelled')
    this.#queue.push(piece)
    this.#wake()
    while (this.#queue.length >= this.ahead && !this.#closed) await new Promise<void>((r) => (this.#wakeProducer = r))
    if (this.#closed) throw new Error('range cancelled')
  }

  /** Adds a piece without waiting (the producer keeps its own credits). */
  put(piece: RangePiece): void {
    this.#queue.push(piece)
    this.#wake()
  }

  end(): void {
    this.#ended = true
    this.#wake()
  }

  fail(e: unknown): void {
    if (this.#failure === undefined) this.#failure = e ?? new Error('range failed')
    this.#wake()
  }

  get closed(): boolean {
    return this.#closed
  }

  #wake(): void {
    const w = this.#wakeConsumer
    this.#wakeConsumer = undefined
    w?.()
  }

  [Symbol.asyncIterator](): AsyncIterator<RangePiece> {
    return {
      next: async () => {
        for (;;) {
          const piece = this.#queue.shift()
          if (piece !== undefined) {
            const w = this.#wakeProducer
            this.#wakeProducer = undefined
            w?.()
            this.onTake?.()
            return { done: false, value: piece }
          }
          if (this.#failure !== undefined) throw this.#failure
          if (this.#ended) return { done: true, value: undefined }
          await new Promise<void>((r) => (this.#wakeConsumer = r))
        }
      },
      return: async () => {
        if (!this.#closed) this.onClose?.()
        this.#closed = true
        this.#queue.length = 0
        const w = this.#wakeProducer
        this.#wakeProducer = undefined
        w?.()
        return { done: true, value: undefined }
      },
    }
  }
}
