import { describe, expect, it } from 'vitest'
import { createUuidV7, uuidv7 } from './uuidv7.js'

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('uuidv7', () => {
  it('formats RFC 9562 version 7 ids carrying the millisecond time', () => {
    const ms = 1_790_000_000_123
    const id = createUuidV7(() => ms)()
    expect(id).toMatch(V7)
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(ms)
  })

  it('stays strictly increasing within a millisecond, past the counter, and when the clock steps back', () => {
    let t = 1_790_000_000_000
    const gen = createUuidV7(() => t)
    let prev = ''
    for (let i = 0; i < 20_000; i++) {
      if (i === 10_000) t -= 5
      const id = gen()
      expect(id > prev).toBe(true)
      prev = id
    }
    expect(new Set(Array.from({ length: 1000 }, () => gen())).size).toBe(1000)
  })

  it('uuidv7() shares one increasing generator', () => {
    const a = uuidv7()
    const b = uuidv7()
    expect(a).toMatch(V7)
    expect(b > a).toBe(true)
  })
})
