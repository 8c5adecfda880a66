import { describe, expect, it } from 'vitest'
import { Utf8Batch } from './utf8-batch.js'

/** Everything a batch of `size` bytes hands on for these steps (text, or a byte as a number), concatenated, and the piece sizes. */
function run(size: number, steps: (string | number)[]): { bytes: Buffer; pieces: number[] } {
  const got: Buffer[] = []
  const b = new Utf8Batch((bytes) => void got.push(Buffer.from(bytes)), size)
  for (const s of steps) typeof s === 'string' ? b.add(s) : b.byte(s)
  b.flush()
  return { bytes: Buffer.concat(got), pieces: got.map((g) => g.length) }
}

describe('Utf8Batch', () => {
  it('hands on the UTF-8 bytes of what was added, in order, whatever the buffer size', () => {
    const steps: (string | number)[] = []
    for (let i = 0; i < 500; i++) steps.push(`evt-${i}`, 9, i % 7 === 0 ? 'é€😀' : 'train', 10)
    // A lone surrogate becomes U+FFFD, as Buffer.from and hash.update(string) encode it.
    steps.push('\ud800x', 10, 'y'.repeat(300), 10)
    const expected = Buffer.from(steps.map((s) => (typeof s === 'string' ? s : String.fromCharCode(s))).join(''))
    for (const size of [16, 64, 100, 1 << 16]) {
      const { bytes, pieces } = run(size, steps)
      expect(bytes.equals(expected)).toBe(true)
      // Pieces fit the buffer, except a text too long for it, handed on alone.
      expect(pieces.every((n) => n <= size || n === 300)).toBe(true)
    }
  })

  it('hands on nothing until the next text might not fit, or a flush; nothing when empty', () => {
    const got: number[] = []
    const b = new Utf8Batch((bytes) => void got.push(bytes.length), 16)
    b.flush()
    b.add('abc')
    b.byte(10)
    expect(got).toEqual([])
    // 4 bytes held + up to 3 per code unit of 'defgh' could pass 16: the 4 go first.
    b.add('defgh')
    expect(got).toEqual([4])
    for (let i = 0; i < 11; i++) b.byte(10)
    expect(got).toEqual([4])
    b.byte(10)
    expect(got).toEqual([4, 16])
    b.flush()
    expect(got).toEqual([4, 16, 1])
  })
})
