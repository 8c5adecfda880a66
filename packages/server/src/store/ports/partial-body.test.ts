import { describe, expect, it } from 'vitest'
import { bodyOnly, bodyWithout, WHOLE_PARSE_MAX_CHARS } from './partial-body.js'
import { PARSED_BODY, type WithParsedBody } from './parsed-body.js'

/** What `JSON.parse` gives, less (or only) some top-level members: the reference. */
function reference(text: string, names: string[], only: boolean): Record<string, unknown> {
  const full = JSON.parse(text) as Record<string, unknown>
  return Object.fromEntries(Object.entries(full).filter(([k]) => names.includes(k) === only))
}

const row = (body: string): WithParsedBody => ({ body })

// A small seeded generator of JSON values: nested objects and arrays, strings with quotes,
// backslashes, braces and unicode, numbers in several spellings.
function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}
function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 2 ? 4 : 6))
  if (k === 0) return Math.round((r() - 0.5) * 1e6) / 1e3
  if (k === 1) return ['plain', 'q"uote', 'back\\slash', '{not:"an object"}', 'é✓ \n tab\t', ''][Math.floor(r() * 6)]
  if (k === 2) return r() < 0.5 ? null : r() < 0.5
  if (k === 3) return -0 === 0 ? Math.floor(r() * 100) : 0
  if (k === 4) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1))
  return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, i) => [`k${i}`, value(r, depth + 1)]))
}

describe('bodyWithout / bodyOnly', () => {
  it('equal JSON.parse less (or only) the named members, over 300 generated bodies, compact and pretty-printed', () => {
    const r = rng(7)
    const names = ['id', 'input', 'output', 'internals', 'context', 'usage']
    for (let n = 0; n < 300; n++) {
      const obj = Object.fromEntries(names.filter(() => r() < 0.7).map((k) => [k, value(r, 0)]))
      const text = n % 3 === 0 ? JSON.stringify(obj, null, 2) : JSON.stringify(obj)
      expect(bodyWithout(row(text), ['input', 'internals'], 0)).toEqual(reference(text, ['input', 'internals'], false))
      expect(bodyOnly(row(text), ['input'], 0)).toEqual(reference(text, ['input'], true))
      expect(bodyOnly(row(text), ['output', 'usage'], 0)).toEqual(reference(text, ['output', 'usage'], true))
      // Short bodies (the default bound): parsed whole, attached, equal to JSON.parse.
      const short = row(text)
      if (text.length <= WHOLE_PARSE_MAX_CHARS) {
        expect(bodyWithout(short, ['input', 'internals'])).toEqual(JSON.parse(text))
        expect(bodyOnly(short, ['input'])).toBe(short[PARSED_BODY])
      }
    }
  })

  it('leaves a big internals member unparsed and keeps the rest exact', () => {
    const internals = {
      embedding: Array.from({ length: 2048 }, (_, i) => Math.sin(i)),
      logits: [
        [1, 2],
        [3, 4],
      ],
    }
    const text = JSON.stringify({ id: 'e1', input: { q: 'a "quoted" }{ text' }, output: { label: 'x' }, internals, sample_rate: 0.5 })
    expect(bodyWithout(row(text), ['input', 'internals'])).toEqual({ id: 'e1', output: { label: 'x' }, sample_rate: 0.5 })
    expect(bodyOnly(row(text), ['input', 'absent'])).toEqual({ input: { q: 'a "quoted" }{ text' } })
  })

  it('counts a repeated name as JSON.parse does (the last), and decodes escaped names', () => {
    const text = '{"output":1,"input":{"a":1},"output":2,"in\\u0070ut":{"b":2},"internals":[1]}'
    expect(bodyWithout(row(text), ['input', 'internals'], 0)).toEqual({ output: 2 })
    expect(bodyOnly(row(text), ['input'], 0)).toEqual({ input: { b: 2 } })
    expect(bodyOnly(row(text), ['output'], 0)).toEqual({ output: 2 })
  })

  it('answers the attached parsed form as it is, and never attaches a partial one', () => {
    const parsed = { id: 'e1', input: { a: 1 } }
    const carried: WithParsedBody = { body: '{"id":"e1","input":{"a":1}}', [PARSED_BODY]: parsed }
    expect(bodyWithout(carried, ['input'])).toBe(parsed)
    expect(bodyOnly(carried, ['id'])).toBe(parsed)
    const bare = row('{"id":"e1","input":{"a":1}}')
    expect(bodyWithout(bare, ['input'], 0)).toEqual({ id: 'e1' })
    expect(bodyOnly(bare, ['id'], 0)).toEqual({ id: 'e1' })
    expect(bare[PARSED_BODY]).toBeUndefined()
    // The members' spans are kept on the row (one symbol), for the next reader of another part.
    expect(Object.getOwnPropertySymbols(bare)).toHaveLength(1)
    expect(bodyOnly(bare, ['input'], 0)).toEqual({ input: { a: 1 } })
    expect(structuredClone(bare)).toEqual({ body: bare.body })
    // With none of the names present the whole parse is the answer, and it is kept for the next reader.
    const plain = row('{"id":"e2","output":3}')
    expect(bodyWithout(plain, ['input'])).toEqual({ id: 'e2', output: 3 })
    expect(plain[PARSED_BODY]).toEqual({ id: 'e2', output: 3 })
  })

  it('parses a short body whole, attached for the next reader, and a long one in part', () => {
    const short = row(JSON.stringify({ id: 'e1', input: { a: 1 }, output: { label: 'x' } }))
    expect(bodyWithout(short, ['input'])).toEqual({ id: 'e1', input: { a: 1 }, output: { label: 'x' } })
    expect(short[PARSED_BODY]).toEqual({ id: 'e1', input: { a: 1 }, output: { label: 'x' } })
    // The profiles reader after it shares the same parse.
    expect(bodyOnly(short, ['input'])).toBe(short[PARSED_BODY])
    const input = { text: 'x'.repeat(WHOLE_PARSE_MAX_CHARS) }
    const long = row(JSON.stringify({ id: 'e2', input, output: 1 }))
    expect(bodyWithout(long, ['input'])).toEqual({ id: 'e2', output: 1 })
    expect(bodyOnly(long, ['input'])).toEqual({ input })
    expect(long[PARSED_BODY]).toBeUndefined()
    // The bound is the text's length: one unit more than the bound goes the partial way.
    const at = (n: number) => row(`{"input":"${'y'.repeat(n - 12)}"}`)
    expect(at(WHOLE_PARSE_MAX_CHARS).body.length).toBe(WHOLE_PARSE_MAX_CHARS)
    expect(bodyWithout(at(WHOLE_PARSE_MAX_CHARS), ['input'])).toHaveProperty('input')
    expect(bodyWithout(at(WHOLE_PARSE_MAX_CHARS + 1), ['input'])).toEqual({})
  })

  it('throws SyntaxError for a body that is not JSON, or (parsed in part) names a member and is no object', () => {
    for (const text of ['"input"', '["input"]', '{"input":', '{"input":[1,2}', 'nope'])
      expect(() => bodyWithout(row(text), ['input'], 0)).toThrow(SyntaxError)
    for (const text of ['[1,2]', '{"a":1', 'nope']) expect(() => bodyOnly(row(text), ['a'], 0)).toThrow(SyntaxError)
    for (const text of ['{"input":', 'nope']) {
      expect(() => bodyWithout(row(text), ['input'])).toThrow(SyntaxError)
      expect(() => bodyOnly(row(text), ['input'])).toThrow(SyntaxError)
    }
  })
})
