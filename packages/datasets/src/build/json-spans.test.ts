import { describe, expect, it } from 'vitest'
import { DigestSet } from './hash-set.js'
import { EventView } from './event-view.js'
import { compactJson, memberValue, objectSpans, pathValue } from './json-spans.js'
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

describe('scanning a body inside the string it was cut from (host)', () => {
  const bodies = [
    '{"a":1,"b":{"x":"}\\"{","y":[1,{"z":null}]},"c":"q\\"uote","a":-2.5e3,"t":true}',
    '{\n  "trace" : {\n    "session_id": "s 1",\n    "n": 1.50\n  },\n  "k\\u0041": {"v": "\\u00e9"}, "value": [ 2 ]\n}',
    '{"trace":{"session_id":"s-\\"q","user_id":7,"deep":{"x":{"y":"z"}}},"value":{"k":[1,2]},"ts":"2026-11-01T00:00:00Z"}',
    ' { "x" : "" } ',
  ]
  const prefix = '12\u001f34\u001fe"}{\u001f'

  it('gives the same members, values and paths as the body alone', () => {
    for (const body of bodies) {
      const host = prefix + body
      const at = host.length - body.length
      const alone = objectSpans(body)
      const inside = objectSpans(host, at)
      const names = [...Array(alone.count).keys()].map((k) => alone.name(k))
      expect([...Array(inside.count).keys()].map((k) => inside.name(k))).toEqual(names)
      expect(inside.multiline).toBe(alone.multiline)
      for (const key of [...names, 'missing']) {
        expect(inside.value(key)).toBe(alone.value(key))
        expect(memberValue(host, key, at)).toBe(memberValue(body, key))
      }
      const plain = new EventView({ id: 'e', batch: 1, seq: 1, tsMs: 0, body })
      const hosted = new EventView({ id: 'e', batch: 1, seq: 1, tsMs: 0, body, host })
      for (const path of [
        ['trace', 'session_id'],
        ['trace', 'user_id'],
        ['trace', 'deep', 'x', 'y'],
        ['trace', 'deep', 'x'],
        ['trace', 'nope'],
        ['value', 'k'],
        ['kA', 'v'],
        ['a', 'x'],
        ['ts', 'x'],
        ['b', 'y'],
        ['value'],
      ]) {
        const expected = (() => {
          let v: unknown = JSON.parse(body)
          for (const step of path)
            v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[step] : undefined
          return v
        })()
        expect(hosted.at(path)).toEqual(expected)
        expect(plain.at(path)).toEqual(expected)
      }
    }
  })

  it('pathValue cuts a leaf string with no escape and parses the others', () => {
    const text = 'xx{"a":{"s":"plain","e":"e\\u00e9","n":[1],"o":{}}}'
    expect(pathValue(text, ['a', 's'], 2)).toBe('plain')
    expect(pathValue(text, ['a', 'e'], 2)).toBe('e\u00e9')
    expect(pathValue(text, ['a', 'n'], 2)).toEqual([1])
    expect(pathValue(text, ['a', 'o'], 2)).toEqual({})
    expect(pathValue(text, ['a', 'n', '0'], 2)).toBeUndefined()
    expect(pathValue(text, [], 2)).toBeUndefined()
    expect(pathValue(text, ['x', 'a', 's'], 2, 1)).toBe('plain')
  })
})
