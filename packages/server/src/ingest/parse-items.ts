import { type ErrorCode, findDuplicateKeys, inspectJson, keysCertainlyUnique } from '@inferlog/schema'
import { InferlogError } from '../errors.js'

/** One item of a request body: a parsed value, or why it could not be parsed. */
export type ParsedItem =
  /** `text`: the item's own JSON text (an NDJSON line), stored as sent when the item needs no id. */
  | { index: number; value: unknown; bytes: number; text?: string }
  | { index: number; error: { code: ErrorCode; message: string; path?: string } }

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** True when the Content-Type names newline-delimited JSON. */
export function isNdjson(contentType: string | null | undefined): boolean {
  const t = (contentType ?? '').toLowerCase()
  return t.includes('ndjson') || t.includes('jsonl') || t.includes('json-seq')
}

function decode(buf: Uint8Array): string | undefined {
  try {
    return utf8.decode(buf)
  } catch {
    return undefined
  }
}

function parseLine(items: ParsedItem[], index: number, text: string, bytes: number): void {
  try {
    items.push({ index, value: JSON.parse(text), bytes, text })
  } catch (e) {
    items.push({ index, error: { code: 'invalid_json', message: `line is not valid JSON: ${(e as Error).message}` } })
  }
}

function tooLarge(index: number, bytes: number, max: number): ParsedItem {
  return { index, error: { code: 'item_too_large', message: `item of ${bytes} bytes is over the ${max}-byte limit` } }
}

const BLANK = /^[ \t\r]*$/

/**
 * Splits NDJSON into items. Each non-empty line is one item, so a bad line (invalid UTF-8,
 * invalid JSON, over the item limit) is rejected on its own while its neighbours are kept.
 * Indexes count non-empty lines from 0.
 *
 * Fast path: the whole body decodes as UTF-8 at once and is split as a string. Only when that
 * fails are lines decoded one by one, to find which ones are broken.
 */
export function parseNdjson(body: Buffer, maxItemBytes: number, maxItems = Number.POSITIVE_INFINITY): ParsedItem[] {
  const whole = decode(body)
  if (whole === undefined) return parseNdjsonBytes(body, maxItemBytes, maxItems)
  const items: ParsedItem[] = []
  let index = 0
  let start = 0
  while (start < whole.length) {
    let end = whole.indexOf('\n', start)
    if (end === -1) end = whole.length
    let line = whole.slice(start, end)
    start = end + 1
    // Only a line starting with white space can be blank; test the rest only then.
    if (line.length === 0 || (line.charCodeAt(0) <= 32 && BLANK.test(line))) continue
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1)
    // UTF-16 length ≤ UTF-8 bytes ≤ 3 × UTF-16 length: count bytes only when it can matter.
    const bytes = line.length * 3 <= maxItemBytes ? line.length : Buffer.byteLength(line)
    if (index >= maxItems) throw tooMany(maxItems)
    if (bytes > maxItemBytes) items.push(tooLarge(index, bytes, maxItemBytes))
    else parseLine(items, index, line, bytes)
    index++
  }
  return items
}

/** Thrown as soon as a body holds more items than allowed, before the rest is parsed. */
function tooMany(max: number): InferlogError {
  return new InferlogError('too_many_items', `request holds more than ${max} items; the limit is ${max}`)
}

function parseNdjsonBytes(body: Buffer, maxItemBytes: number, maxItems: number): ParsedItem[] {
  const items: ParsedItem[] = []
  let start = 0
  let index = 0
  while (start < body.length) {
    let end = body.indexOf(0x0a, start)
    if (end === -1) end = body.length
    let lineEnd = end
    if (lineEnd > start && body[lineEnd - 1] === 0x0d) lineEnd--
    const len = lineEnd - start
    let blank = true
    for (let i = start; i < lineEnd; i++) {
      const c = body[i]
      if (c !== 0x20 && c !== 0x09) {
        blank = false
        break
      }
    }
    if (!blank) {
      if (index >= maxItems) throw tooMany(maxItems)
      if (len > maxItemBytes) {
        items.push(tooLarge(index, len, maxItemBytes))
      } else {
        const text = decode(body.subarray(start, lineEnd))
        if (text === undefined) items.push({ index, error: { code: 'invalid_utf8', message: 'line is not valid UTF-8' } })
        else parseLine(items, index, text, len)
      }
      index++
    }
    start = end + 1
  }
  return items
}

/**
 * Parses a JSON body holding one object or an array of items. Anything unreadable as a whole is a
 * request-level error: `invalid_utf8` or `invalid_json` (400).
 */
export function parseJsonBody(body: Buffer): ParsedItem[] {
  const text = decode(body)
  if (text === undefined) throw new InferlogError('invalid_utf8', 'request body is not valid UTF-8')
  if (text.trim() === '') throw new InferlogError('bad_request', 'request body is empty')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    throw new InferlogError('invalid_json', `request body is not valid JSON: ${(e as Error).message}`)
  }
  const items: ParsedItem[] = Array.isArray(parsed)
    ? parsed.map((value, index) => ({ index, value, bytes: -1 }))
    : [{ index: 0, value: parsed, bytes: -1 }]
  // Keys repeated within one object are refused whatever the encoding (NDJSON lines are checked
  // per line by the validator). One cheap count over the body rules them out in the usual case.
  if (!keysCertainlyUnique(text, inspectJson(parsed).keys)) {
    for (const d of findDuplicateKeys(text)) {
      const at = Array.isArray(parsed) ? d.item : 0
      items[at] = {
        index: at,
        error: { code: 'duplicate_key', path: d.path, message: `${d.path} appears more than once in the same object` },
      }
    }
  }
  // Per-item byte size is checked later on the canonical form; -1 means "not measured here".
  return items
}
