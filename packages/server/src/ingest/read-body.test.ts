import zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { MemoryBudget } from '../http/memory-budget.js'
import { readBody } from './read-body.js'

const stream = (b: Buffer) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(b))
      c.close()
    },
  })

const inflated = Buffer.from('{"a":1}\n'.repeat(100_000))
const gz = zlib.gzipSync(inflated)

describe('readBody with gzip', () => {
  it('reserves the size the gzip trailer declares before inflating, times 2 plus reservePerByte', async () => {
    const budget = new MemoryBudget(64 * 1024 * 1024)
    const hold = budget.hold()
    const out = await readBody(stream(gz), { maxBytes: 10_000_000, contentEncoding: 'gzip', hold, reservePerByte: 3 })
    expect(out.equals(inflated)).toBe(true)
    // The compressed bytes read, then the declared size reserved; inflation used 2 bytes per byte of it.
    expect(hold.bytes).toBe(gz.length + 5 * inflated.length)
    expect(hold.unused).toBe(3 * inflated.length)
    hold.release()
  })

  it('refuses a body the budget cannot carry (503) before inflating any of it', async () => {
    const budget = new MemoryBudget(2 * inflated.length)
    const other = budget.hold()
    other.add(1)
    const hold = budget.hold()
    await expect(readBody(stream(gz), { maxBytes: 10_000_000, contentEncoding: 'gzip', hold })).rejects.toMatchObject({
      code: 'overloaded',
    })
    expect(hold.bytes).toBe(gz.length)
  })

  it('refuses a declared size over the limit with 413 before inflating', async () => {
    const hold = new MemoryBudget(1e9).hold()
    await expect(readBody(stream(gz), { maxBytes: inflated.length - 1, contentEncoding: 'gzip', hold })).rejects.toMatchObject({
      code: 'payload_too_large',
    })
    expect(hold.bytes).toBe(gz.length)
  })

  it('still charges every inflated byte when the trailer understates (multi-member) and fails a false trailer', async () => {
    const first = zlib.gzipSync(inflated)
    const last = zlib.gzipSync(Buffer.from('{"b":2}\n'))
    const hold = new MemoryBudget(1e9).hold()
    const out = await readBody(stream(Buffer.concat([first, last])), { maxBytes: 10_000_000, contentEncoding: 'gzip', hold })
    expect(out.length).toBe(inflated.length + 8)
    expect(hold.bytes).toBeGreaterThanOrEqual(2 * out.length)
    const lying = Buffer.from(gz)
    lying.writeUInt32LE(10, lying.length - 4)
    await expect(readBody(stream(lying), { maxBytes: 10_000_000, contentEncoding: 'gzip' })).rejects.toMatchObject({ code: 'bad_request' })
  })
})
