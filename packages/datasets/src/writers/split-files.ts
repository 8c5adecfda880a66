import { join } from 'node:path'
import { FileSink, type WrittenFile } from './file-sink.js'

/** Where a line format writes each split's text: one file per split, or (a range compiled apart) memory. */
export interface SplitText {
  /** Appends one output row's text to its split. */
  write(split: string, text: string): void
  close(): WrittenFile[]
  abandon(): void
}

/**
 * Where a line format's writer puts its splits: a directory (one {@link SplitFiles} per build), or
 * a factory given the format's file extension and header, for a writer whose text goes elsewhere
 * (a range of the log compiled on another thread, see `compileRange`).
 */
export type SplitTarget = string | ((splits: readonly string[], extension: string, header?: string) => SplitText)

/** The split outputs of a line format at `target`. */
export function openSplits(target: SplitTarget, splits: readonly string[], extension: string, header?: string): SplitText {
  return typeof target === 'string' ? new SplitFiles(target, splits, extension, header) : target(splits, extension, header)
}

/** One {@link FileSink} per split (`train.jsonl`, `validation.jsonl`, ...), each created even when it stays empty. */
export class SplitFiles implements SplitText {
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

  /** Appends `rows` output rows already encoded as UTF-8 (a compiled range's bytes). */
  writeBytes(split: string, bytes: Uint8Array, rows: number): void {
    const s = this.#sinks.get(split)!
    s.sink.writeBytes(bytes)
    s.rows += rows
  }

  close(): WrittenFile[] {
    return [...this.#sinks].map(([split, s]) => ({ name: s.name, split, rows: s.rows, ...s.sink.close() }))
  }

  abandon(): void {
    for (const s of this.#sinks.values()) s.sink.abandon()
  }
}
