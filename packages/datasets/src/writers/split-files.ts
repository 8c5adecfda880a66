import { join } from 'node:path'
import { FileSink, type WrittenFile } from './file-sink.js'

/** One {@link FileSink} per split (`train.jsonl`, `validation.jsonl`, ...), each created even when it stays empty. */
export class SplitFiles {
  readonly #sinks = new Map<string, { sink: FileSink; rows: number; name: string }>()

  constructor(dir: string, splits: readonly string[], extension: string, header?: string) {
    for (const split of splits) {
      const name = `${split}.${extension}`
      const sink = new FileSink(join(dir, name))
      if (header !== undefined) sink.write(header)
      this.#sinks.set(split, { sink, rows: 0, name })
    }
  }

  /** Appends one row's text to its split's file. */
  write(split: string, text: string): void {
    const s = this.#sinks.get(split)!
    s.sink.write(text)
    s.rows++
  }

  close(): WrittenFile[] {
    return [...this.#sinks].map(([split, s]) => ({ name: s.name, split, rows: s.rows, ...s.sink.close() }))
  }

  abandon(): void {
    for (const s of this.#sinks.values()) s.sink.abandon()
  }
}
