import { describe, expect, it } from 'vitest'
import { DigestSet } from './hash-set.js'
import { compactJson, memberValue, objectSpans } from './json-spans.js'
import { sha256Bytes } from './split-assigner.js'

describe('objectSpans', () => {
  it('finds each member as the exact stored text, the last duplicate winning', () => {
    const text = '{"a":1,"b":{"x":"}\\"{","y":[1,{"z":null}]},"c":"q\\"uote","a":-2.5e3,"t":true}'
    const s = objectSpans(text)
    expect(s.value('a')).toBe('-2.5e3')
    expect(s.value('b')).toBe('{"x":"}\\"{","y":[1,{"z":null}]}')
    expect(s.value('c')).toBe('"q\\"uote"')
    expect(s.value('t')).toBe('true')
    expect(s.value('missing')).toBeUndefined()
    expect(s.multiline).toBe(false)
  })

  it('compacts pretty-printed values onto one line, keeping strings and number spelling', () => {
    const text = '{\n  "input" : {\n    "s": "a b\\n c",\n    "n": 1.50\n  },\n  "k\\u0041": 1\n}'
    const s = objectSpans(text)
    expect(s.multiline).toBe(true)
    expect(s.value('input')).toBe('{"s":"a b\\n c","n":1.50}')
    expect(s.value('kA')).toBe('1')
    expect(compactJson('[ 1 , "x y" ]')).toBe('[1,"x y"]')
  })

  it('skips long arrays (an embedding) exactly: nested arrays, strings holding brackets, line breaks past the first characters', () => {
    const floats = Array.from({ length: 3000 }, (_, i) => Math.round(Math.sin(i) * 1e6) / 1e6)
    const long = {
      id: 'e1',
      internals: {
        embedding: floats,
        tokens: ['a]', '[b', 'c"d', '}{', ...Array.from({ length: 200 }, (_, i) => `t${i}`)],
        grid: [[1, [2, [3]]], []],
      },
      output: { label: 'x', probabilities: [0.25, 0.75] },
    }
    for (const text of [JSON.stringify(long), JSON.stringify(long, null, 1)]) {
      const s = objectSpans(text)
      expect(s.multiline).toBe(text.includes('\n'))
      expect(JSON.parse(s.value('internals')!)).toEqual(long.internals)
      expect(JSON.parse(s.value('output')!)).toEqual(long.output)
      expect(s.value('id')).toBe('"e1"')
      expect([...Array(s.count).keys()].map((k) => s.name(k))).toEqual(['id', 'internals', 'output'])
    }
    // A long array whose first line break comes after the characters looked at one by one.
    const late = `{"a":[${'1,'.repeat(100)}\n2],"b":3}`
    expect(objectSpans(late).multiline).toBe(true)
    expect(objectSpans(late).value('b')).toBe('3')
    expect(() => objectSpans(`{"a":[${'1,'.repeat(100)}`)).toThrow(SyntaxError)
    expect(() => objectSpans(`{"a":[${'"x",'.repeat(40)}"open]}`)).toThrow(SyntaxError)
  })

  it('refuses what is not an object', () => {
    expect(() => objectSpans('[1]')).toThrow(SyntaxError)
    expect(() => objectSpans('{"a":"open}')).toThrow(SyntaxError)
  })
})

describe('memberValue', () => {
  it('gives what objectSpans(text).value(key) gives, for every name and a missing one', () => {
    const texts = [
      '{"a":1,"b":{"x":"}\\"{","y":[1,{"z":null}]},"c":"q\\"uote","a":-2.5e3,"t":true}',
      '{\n  "input" : {\n    "s": "a b\\n c",\n    "n": 1.50\n  },\n  "k\\u0041": 1, "kA": [ 2 ]\n}',
      '{"value":true,"name":"label","source":{"type":"user","value":3}}',
      `{"a":[${'1,'.repeat(100)}\n2],"b":3}`,
      '{}',
      ' { "x" : "" } ',
    ]
    for (const text of texts) {
      const spans = objectSpans(text)
      const names = [...Array(spans.count).keys()].map((k) => spans.name(k))
      for (const key of [...names, 'missing', '']) expect(memberValue(text, key)).toBe(spans.value(key))
    }
  })

  it('refuses what is not an object', () => {
    expect(() => memberValue('[1]', 'a')).toThrow(SyntaxError)
    expect(() => memberValue('{"a":"open}', 'a')).toThrow(SyntaxError)
    expect(() => memberValue('{"a" 1}', 'a')).toThrow(SyntaxError)
  })
})

describe('DigestSet', () => {
  it('remembers digests across growth', () => {
    const set = new DigestSet(8)
    for (let i = 0; i < 5000; i++) expect(set.add(sha256Bytes(String(i)))).toBe(true)
    for (let i = 0; i < 5000; i++) expect(set.add(sha256Bytes(String(i)))).toBe(false)
    expect(set.size).toBe(5000)
  })
})
