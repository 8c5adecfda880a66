import { describe, expect, it } from 'vitest'
import { countKeyMarkers, findDuplicateKeys, inspectJson, keysCertainlyUnique } from './json-inspect.js'

/** The definition, written plainly: `":` pairs whose quote is preceded by an even run of backslashes. */
function reference(text: string): number {
  let n = 0
  for (let i = 0; i + 1 < text.length; i++) {
    if (text[i] !== '"' || text[i + 1] !== ':') continue
    let slashes = 0
    for (let j = i - 1; j >= 0 && text[j] === '\\'; j--) slashes++
    if (slashes % 2 === 0) n++
  }
  return n
}

describe('countKeyMarkers', () => {
  it('matches the definition on random strings of quotes, colons and backslashes', () => {
    let seed = 12345
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const alphabet = ['"', ':', '\\', 'a', ' ', '{', '}']
    for (let t = 0; t < 20_000; t++) {
      const len = Math.floor(rnd() * 24)
      let s = ''
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)]
      expect(countKeyMarkers(s), JSON.stringify(s)).toBe(reference(s))
    }
  })

  it('counts every key of compact JSON, and escaped quotes before a colon are not keys', () => {
    const value = { a: 1, 'b"': { c: 'x:', d: ['"e":', { f: null }] }, '\\': 2 }
    const text = JSON.stringify(value)
    expect(countKeyMarkers(text)).toBe(6)
    expect(inspectJson(value).keys).toBe(6)
    expect(keysCertainlyUnique(text, 6)).toBe(true)
    // A string value that starts with a colon adds a marker: never an undercount, only a closer look.
    const colon = JSON.stringify({ a: ':x' })
    expect(countKeyMarkers(colon)).toBe(2)
    expect(keysCertainlyUnique(colon, 1)).toBe(false)
    expect(findDuplicateKeys(colon)).toEqual([])
    expect(countKeyMarkers(':"":')).toBe(1)
  })

  it('leaves a repeated key to the exact tokenizer', () => {
    const text = '{"a":1,"b":{"c":2,"c":3}}'
    const parsed = JSON.parse(text)
    expect(keysCertainlyUnique(text, inspectJson(parsed).keys)).toBe(false)
    expect(findDuplicateKeys(text)).toEqual([{ item: 0, path: '/b/c' }])
  })
})
