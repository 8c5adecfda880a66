import { InferlogError } from '../errors.js'
import type { ErrorCode } from '@inferlog/schema'

/** One item of a request body: a parsed value, or why it could not be parsed. */
export type ParsedItem =
  | { index: number; value: unknown; bytes: number }
  | { index: number; error: { code: ErrorCode; message: string } }

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

/**
 * Splits NDJSON into items. Each non-empty line is one item, so a bad line (invalid UTF-8,
 * invalid JSON, over the item limit) is rejected on its own while its neighbours are kept.
 * Indexes count non-empty lines from 0.
 */
export function parseNdjson(body: Buffer, maxItemBytes: number): ParsedItem[] {
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
      if (len > maxItemBytes) {
        items.push({ index, error: { code: 'item_too_large', message: `item of ${len} bytes is over the ${maxItemBytes}-byte limit` } })
      } else {
        const text = decode(body.subarray(start, lineEnd))
        if (text === undefined) {
          items.push({ index, error: { code: 'invalid_utf8', message: 'line is not valid UTF-8' } })
        } else {
          try {
            items.push({ index, value: JSON.parse(text), bytes: len })
          } catch (e) {
            items.push({ index, error: { code: 'invalid_json', message: `line is not valid JSON: ${(e as Error).message}` } })
          }
        }
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
  // Per-item byte size is checked later on the canonical form; -1 means "not measured here".
  if (Array.isArray(parsed)) return parsed.map((value, index) => ({ index, value, bytes: -1 }))
  return [{ index: 0, value: parsed, bytes: -1 }]
}
