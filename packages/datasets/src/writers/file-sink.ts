import { createHash, type Hash } from 'node:crypto'
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'

/** A file that has been written and closed. */
export interface WrittenFile {
  /** File name inside the dataset directory, e.g. `train.jsonl`. */
  name: string
  /** The split it holds. */
  split: string
  rows: number
  bytes: number
  /** Hex SHA-256 of the file's bytes. */
  sha256: string
}

/** Bytes from which {@link FileSink.writeBytes} writes straight to the file: 64 KiB. */
const DIRECT_WRITE_BYTES = 64 * 1024

/**
 * An append-only output file with its SHA-256 computed as it is written. Text goes straight into a
 * reused 1 MiB buffer (no per-row Buffer), flushed with synchronous writes: the build is
 * CPU-bound, and a synchronous write keeps the row loop free of promise churn. Create-exclusive,
 * so a build never overwrites anything.
 */
export class FileSink {
  readonly path: string
  #fd: number
  #buf: Buffer
  #pos = 0
  #bytes = 0
  #hash: Hash = createHash('sha256')
  #closed = false

  constructor(path: string, bufferBytes = 1 << 20) {
    this.path = path
    this.#fd = openSync(path, 'wx')
    this.#buf = Buffer.allocUnsafe(bufferBytes)
  }

  /** Appends UTF-8 text. */
  write(text: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes.
    if (this.#pos + text.length * 3 > this.#buf.length) {
      this.flush()
      if (text.length * 3 > this.#buf.length) {
        this.writeBytes(Buffer.from(text))
        return
      }
    }
    this.#pos += this.#buf.write(text, this.#pos)
  }

  /** Appends bytes. */
  writeBytes(bytes: Uint8Array): void {
    // Large ones (a compiled piece of rows, or more than the buffer holds) go to the file as they
    // are, not copied into the buffer first; what is buffered goes before them.
    if (bytes.length >= DIRECT_WRITE_BYTES || bytes.length > this.#buf.length) {
      this.flush()
      this.#out(bytes)
      return
    }
    if (this.#pos + bytes.length > this.#buf.length) this.flush()
    this.#buf.set(bytes, this.#pos)
    this.#pos += bytes.length
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.#pos === 0) return
    this.#out(this.#buf.subarray(0, this.#pos))
    this.#pos = 0
  }

  #out(bytes: Uint8Array): void {
    this.#hash.update(bytes)
    let off = 0
    while (off < bytes.length) off += writeSync(this.#fd, bytes, off, bytes.length - off)
    this.#bytes += bytes.length
  }

  /** Flushes, syncs to disk and closes; returns size and hash. */
  close(): { bytes: number; sha256: string } {
    if (!this.#closed) {
      this.flush()
      fsyncSync(this.#fd)
      closeSync(this.#fd)
      this.#closed = true
    }
    return { bytes: this.#bytes, sha256: this.#hash.copy().digest('hex') }
  }

  /** Closes without syncing (a failed build discards the file anyway). */
  abandon(): void {
    if (this.#closed) return
    this.#closed = true
    closeSync(this.#fd)
  }
}
