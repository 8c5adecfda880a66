import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FileSink } from './file-sink.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-sink-'))
  dirs.push(dir)
  return path.join(dir, 'out.jsonl')
}

/** Bytes 0..n-1 of a repeating pattern, distinct per `seed`. */
const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251)

describe('FileSink', () => {
  it('keeps text and bytes of every size in order, with the SHA-256 and size of what it wrote', () => {
    const file = tempFile()
    // A small buffer, so that text, small bytes, bytes over the direct-write size and bytes over
    // the buffer all meet a partly filled buffer.
    const sink = new FileSink(file, 100_000)
    const parts: Uint8Array[] = []
    const text = (s: string) => {
      sink.write(s)
      parts.push(Buffer.from(s))
    }
    const bytes = (b: Uint8Array) => {
      sink.writeBytes(b)
      parts.push(b)
    }
    text('{"a":"é"}\n')
    bytes(bytesOf(10, 1))
    bytes(bytesOf(70_000, 2)) // over the direct-write size, under the buffer
    text('x'.repeat(40_000))
    bytes(bytesOf(99_000, 3)) // fills past the buffer: flushed first
    bytes(bytesOf(250_000, 4)) // over the buffer
    text('€'.repeat(50_000)) // 150 000 UTF-8 bytes
    bytes(bytesOf(3, 5))
    const { bytes: size, sha256 } = sink.close()
    const expected = Buffer.concat(parts)
    const written = fs.readFileSync(file)
    expect(written.equals(expected)).toBe(true)
    expect(size).toBe(expected.length)
    expect(sha256).toBe(createHash('sha256').update(expected).digest('hex'))
  })

  it('writes bytes larger than a buffer under the direct-write size as they are', () => {
    const file = tempFile()
    const sink = new FileSink(file, 1000)
    const parts = [Buffer.from('head\n'), Buffer.from(bytesOf(5000, 8)), Buffer.from(bytesOf(10, 9))]
    sink.write('head\n')
    sink.writeBytes(parts[1]!)
    sink.writeBytes(parts[2]!)
    const expected = Buffer.concat(parts)
    const { bytes: size, sha256 } = sink.close()
    expect(fs.readFileSync(file).equals(expected)).toBe(true)
    expect(size).toBe(expected.length)
    expect(sha256).toBe(createHash('sha256').update(expected).digest('hex'))
  })

  it('never overwrites a file', () => {
    const file = tempFile()
    fs.writeFileSync(file, 'kept')
    expect(() => new FileSink(file)).toThrow(/EEXIST/)
    expect(fs.readFileSync(file, 'utf8')).toBe('kept')
  })
})
