/**
 * Top-level key spans of a JSON object text, found without building the object. Stored bodies are
 * JSON text, and a dataset row mostly copies parts of them (`input`, `output`, `model`): locating
 * those parts is about 3× cheaper than `JSON.parse`, and copying them avoids re-serializing.
 * The scanner trusts its input to be valid JSON (the collector validated it); it only guarantees
 * to stop with a `SyntaxError` rather than loop on garbage.
 */

const QUOTE = 34
const BACKSLASH = 92

/**
 * The top-level members of one object text: for member k, `pos[4k..4k+3]` = name start, name end,
 * value start, value end. Flat numbers rather than a Map of slices: a build scans millions of
 * bodies, and per-member allocations showed up as garbage-collector time.
 */
export class ObjectSpans {
  readonly text: string
  readonly pos: number[]
  /** True when a line break occurs outside strings (pretty-printed text): copies must be compacted. */
  readonly multiline: boolean
  /** Names that contained escapes, decoded, by member index (rare). */
  readonly #escaped: Map<number, string> | undefined

  constructor(text: string, pos: number[], multiline: boolean, escaped: Map<number, string> | undefined) {
    this.text = text
    this.pos = pos
    this.multiline = multiline
    this.#escaped = escaped
  }

  /** Index (into `pos`) of the member named `key`, the last one when repeated (as `JSON.parse`); -1 when absent. */
  find(key: string): number {
    const { pos, text } = this
    for (let i = pos.length - 4; i >= 0; i -= 4) {
      const escaped = this.#escaped?.get(i)
      if (escaped !== undefined ? escaped === key : pos[i + 1]! - pos[i]! === key.length && text.startsWith(key, pos[i]!)) return i
    }
    return -1
  }

  /** How many members the object has (repeated names counted each time). */
  get count(): number {
    return this.pos.length / 4
  }

  /** The name of member `k` (0-based, in text order), escapes decoded. */
  name(k: number): string {
    const i = 4 * k
    return this.#escaped?.get(i) ?? this.text.slice(this.pos[i]!, this.pos[i + 1]!)
  }

  /** The member's value as JSON text on one line; `undefined` when absent. */
  value(key: string): string | undefined {
    const i = this.find(key)
    if (i < 0) return undefined
    const v = this.text.slice(this.pos[i + 2]!, this.pos[i + 3]!)
    return this.multiline ? compactJson(v) : v
  }
}

/** What one scan noticed on the way. */
interface ScanState {
  multiline: boolean
}

function skipWs(s: string, i: number, state: ScanState): number {
  for (;;) {
    const c = s.charCodeAt(i)
    if (c === 32 || c === 9) i++
    else if (c === 10 || c === 13) {
      state.multiline = true
      i++
    } else return i
  }
}

/** Index of the closing quote of a string whose content starts at `i`. */
function endOfString(s: string, i: number): number {
  for (;;) {
    const q = s.indexOf('"', i)
    if (q < 0) throw new SyntaxError('unterminated string')
    let b = q - 1
    let n = 0
    while (s.charCodeAt(b) === BACKSLASH) {
      n++
      b--
    }
    if ((n & 1) === 0) return q
    i = q + 1
  }
}

/**
 * The characters that matter inside an array: quotes, brackets, braces, line breaks. Searching
 * for the next of them (the regular-expression engine skips the digits and commas between
 * natively) is what makes skipping a long array of numbers (an embedding, logits) cheap: 768
 * floats in about a quarter of the time of a loop over every character. Objects, mostly short
 * names and values, are quicker with the loop. Only ever used synchronously from `lastIndex` set
 * just before, so one instance serves every call.
 */
const STRUCTURAL = /["[\]{}\n\r]/g

/** Characters of an array looked at one by one before the search takes over (short arrays end first). */
const SHORT_ARRAY = 64

/** Index just past the array that starts at `i` (its `[`). */
function skipArray(s: string, i: number, state: ScanState): number {
  let depth = 0
  const n = Math.min(s.length, i + SHORT_ARRAY)
  for (; i < n; i++) {
    const d = s.charCodeAt(i)
    if (d === QUOTE) i = endOfString(s, i + 1)
    else if (d === 123 || d === 91) depth++
    else if (d === 125 || d === 93) {
      if (--depth === 0) return i + 1
    } else if (d === 10 || d === 13) state.multiline = true
  }
  STRUCTURAL.lastIndex = i
  for (let m = STRUCTURAL.exec(s); m !== null; m = STRUCTURAL.exec(s)) {
    const at = m.index
    const d = s.charCodeAt(at)
    if (d === QUOTE) STRUCTURAL.lastIndex = endOfString(s, at + 1) + 1
    else if (d === 123 || d === 91) depth++
    else if (d === 125 || d === 93) {
      if (--depth === 0) return at + 1
    } else state.multiline = true
  }
  throw new SyntaxError('unterminated array')
}

function skipValue(s: string, i: number, state: ScanState): number {
  const c = s.charCodeAt(i)
  if (c === QUOTE) return endOfString(s, i + 1) + 1
  const n = s.length
  if (c === 91) return skipArray(s, i, state)
  if (c === 123) {
    let depth = 0
    for (; i < n; i++) {
      const d = s.charCodeAt(i)
      if (d === QUOTE) i = endOfString(s, i + 1)
      else if (d === 91) i = skipArray(s, i, state) - 1
      else if (d === 123) depth++
      else if (d === 125 || d === 93) {
        if (--depth === 0) return i + 1
      } else if (d === 10 || d === 13) state.multiline = true
    }
    throw new SyntaxError('unterminated object')
  }
  const start = i
  for (; i < n; i++) {
    const d = s.charCodeAt(i)
    if (d === 44 || d === 125 || d === 93 || d === 32 || d === 10 || d === 13 || d === 9) break
  }
  if (i === start) throw new SyntaxError(`unexpected character at ${i}`)
  return i
}

function hasBackslash(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === BACKSLASH) return true
  return false
}

/**
 * Scans the members of the JSON object that starts at `start` of `text` (default 0: the whole
 * text). Positions are indexes into `text`: a caller holding the string a value was cut from (the
 * store's packed row) scans it in place, which V8 reads faster than the slice. Throws
 * `SyntaxError` when it is not an object.
 */
export function objectSpans(text: string, start = 0): ObjectSpans {
  const state: ScanState = { multiline: false }
  const pos: number[] = []
  let escaped: Map<number, string> | undefined
  let i = skipWs(text, start, state)
  if (text.charCodeAt(i) !== 123) throw new SyntaxError('not a JSON object')
  i = skipWs(text, i + 1, state)
  if (text.charCodeAt(i) === 125) return new ObjectSpans(text, pos, state.multiline, escaped)
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) throw new SyntaxError(`member name expected at ${i}`)
    const ke = endOfString(text, i + 1)
    if (hasBackslash(text, i + 1, ke)) (escaped ??= new Map()).set(pos.length, JSON.parse(text.slice(i, ke + 1)) as string)
    const ks = i + 1
    i = skipWs(text, ke + 1, state)
    if (text.charCodeAt(i) !== 58) throw new SyntaxError(`':' expected at ${i}`)
    i = skipWs(text, i + 1, state)
    const vs = i
    i = skipValue(text, i, state)
    pos.push(ks, ke, vs, i)
    i = skipWs(text, i, state)
    const c = text.charCodeAt(i)
    if (c === 44) {
      i = skipWs(text, i + 1, state)
      continue
    }
    if (c === 125) return new ObjectSpans(text, pos, state.multiline, escaped)
    throw new SyntaxError(`',' or '}' expected at ${i}`)
  }
}

/** The scan state of {@link memberValue}: it runs synchronously, so one serves every call. */
const MEMBER_SCAN: ScanState = { multiline: false }

/**
 * Where {@link memberRange} found the member: its value is `text.slice(MEMBER.from, MEMBER.to)`;
 * `multiline` when the object had a line break outside strings. Written by each call.
 */
const MEMBER = { from: -1, to: -1, multiline: false }

/**
 * `objectSpans(text).value(key)` without keeping the spans (for a look-up of one member: a feedback
 * item's `value`, a step of a dotted path): the member's value as JSON text on one line, the last
 * one when the name repeats; `undefined` when absent. The object starts at `start` of `text`
 * (default 0). Throws `SyntaxError` when it is not an object.
 */
export function memberValue(text: string, key: string, start = 0): string | undefined {
  if (!memberRange(text, key, start)) return undefined
  const v = text.slice(MEMBER.from, MEMBER.to)
  return MEMBER.multiline ? compactJson(v) : v
}

/**
 * The value, parsed, of the member at the dotted path `path[first..]` of the object whose `{` is at
 * `start` of `text` (defaults 0): each step located in the text without slicing it, only the leaf
 * parsed (a string with no escape is cut, not parsed). `undefined` when the path is empty, or a
 * step is missing or not an object.
 */
export function pathValue(text: string, path: readonly string[], start = 0, first = 0): unknown {
  if (path.length <= first) return undefined
  let at = start
  for (let i = first; i < path.length; i++) {
    if (text.charCodeAt(at) !== 123 || !memberRange(text, path[i]!, at)) return undefined
    at = MEMBER.from
  }
  const from = MEMBER.from
  const to = MEMBER.to
  if (text.charCodeAt(from) === QUOTE && !hasBackslash(text, from + 1, to - 1)) return text.slice(from + 1, to - 1)
  return JSON.parse(text.slice(from, to))
}

/** Finds member `key` of the object at `start` of `text` into {@link MEMBER}; false when absent. */
function memberRange(text: string, key: string, start: number): boolean {
  const state = MEMBER_SCAN
  state.multiline = false
  let from = -1
  let to = -1
  let i = skipWs(text, start, state)
  if (text.charCodeAt(i) !== 123) throw new SyntaxError('not a JSON object')
  i = skipWs(text, i + 1, state)
  if (text.charCodeAt(i) === 125) return false
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) throw new SyntaxError(`member name expected at ${i}`)
    const ke = endOfString(text, i + 1)
    const ks = i + 1
    const match = hasBackslash(text, ks, ke)
      ? (JSON.parse(text.slice(i, ke + 1)) as string) === key
      : ke - ks === key.length && text.startsWith(key, ks)
    i = skipWs(text, ke + 1, state)
    if (text.charCodeAt(i) !== 58) throw new SyntaxError(`':' expected at ${i}`)
    i = skipWs(text, i + 1, state)
    const vs = i
    i = skipValue(text, i, state)
    if (match) {
      from = vs
      to = i
    }
    i = skipWs(text, i, state)
    const c = text.charCodeAt(i)
    if (c === 44) {
      i = skipWs(text, i + 1, state)
      continue
    }
    if (c === 125) break
    throw new SyntaxError(`',' or '}' expected at ${i}`)
  }
  if (from < 0) return false
  MEMBER.from = from
  MEMBER.to = to
  MEMBER.multiline = state.multiline
  return true
}

/**
 * The JSON text without white space outside strings: what a copied part becomes when the stored
 * body was pretty-printed, so each output row stays on one line. Numbers keep their spelling.
 */
export function compactJson(text: string): string {
  let out = ''
  let from = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) i = endOfString(text, i + 1)
    else if (c === 32 || c === 9 || c === 10 || c === 13) {
      out += text.slice(from, i)
      from = i + 1
    }
  }
  return out + text.slice(from)
}
