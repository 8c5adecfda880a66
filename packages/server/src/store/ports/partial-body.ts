/**
 * Part of a row's body, parsed, for readers that never look at some of its top-level members: an
 * event's `internals` (embeddings, logits, attention) or `input` can be most of its text, and
 * `JSON.parse` would build every number and string of them only for the garbage collector.
 *
 * Both functions answer the whole parsed body when the row already carries it (`parsedBody`:
 * nothing left to save) or when its text is at most {@link WHOLE_PARSE_MAX_CHARS} long (then it is
 * parsed whole and attached, and every later reader of the row shares that one parse: measured on
 * short events, finding the spans and parsing a part costs more than parsing everything once).
 * Otherwise they find the members' spans in the text (`objectSpans`, which skips long arrays
 * without reading their numbers, kept on the row for the next reader) and parse only the members
 * wanted. A partial form is never attached to the row: the next reader may want the
 * members this one left out. A name repeated in the text counts as `JSON.parse` counts it (the
 * last one).
 */
import { type ObjectSpans, objectSpans } from '@inferlog/datasets'
import { PARSED_BODY, parsedBody, type WithParsedBody } from './parsed-body.js'

/** Where a row keeps its members' spans for the next partial reader (symbol-keyed: never cloned across threads). */
const SPANS: unique symbol = Symbol('inferlog.bodySpans')

/**
 * Bodies up to this many UTF-16 units are parsed whole (and shared) rather than in part: 2 048.
 * Measured (`bench/feed-consumers.js`, a 650-character event: whole parse 10.8 µs, spans plus the
 * two consumers' parts 21.9 µs; a 3 100-character one with a 256-float embedding: 36.3 against 28.6).
 */
export const WHOLE_PARSE_MAX_CHARS = 2048

/** The spans of the row's body, found once per row object and kept on it. */
function spansOf(row: WithParsedBody): ObjectSpans {
  const r = row as WithParsedBody & { [SPANS]?: ObjectSpans }
  let s = r[SPANS]
  if (s === undefined) {
    s = objectSpans(row.body)
    r[SPANS] = s
  }
  return s
}

/**
 * The body without the top-level members named in `skip` (they may be absent), or the whole body
 * (see above). Throws `SyntaxError` for a body that is not JSON, or that is longer than
 * `wholeMaxChars` (default {@link WHOLE_PARSE_MAX_CHARS}), holds one of the names and is not an object.
 */
export function bodyWithout<T = unknown>(row: WithParsedBody, skip: readonly string[], wholeMaxChars = WHOLE_PARSE_MAX_CHARS): T {
  if (row[PARSED_BODY] !== undefined) return row[PARSED_BODY] as T
  const text = row.body
  // Short, or none of the names in the text at all: the whole parse is the answer.
  if (text.length <= wholeMaxChars || !skip.some((k) => text.includes(`"${k}"`))) return parsedBody<T>(row)
  const spans = spansOf(row)
  const pos = spans.pos
  let kept = ''
  for (let k = 0; k < spans.count; k++) {
    if (skip.includes(spans.name(k))) continue
    // From the name's opening quote to the end of the value.
    kept += `${kept === '' ? '{' : ','}${text.slice(pos[4 * k]! - 1, pos[4 * k + 3]!)}`
  }
  return JSON.parse(kept === '' ? '{}' : `${kept}}`) as T
}

/**
 * Only the top-level members named in `keep` (those present), as an object, or the whole body (see
 * above). Throws `SyntaxError` for a body that is not JSON, or longer than `wholeMaxChars` (default
 * {@link WHOLE_PARSE_MAX_CHARS}) and not an object.
 */
export function bodyOnly<T = unknown>(row: WithParsedBody, keep: readonly string[], wholeMaxChars = WHOLE_PARSE_MAX_CHARS): T {
  if (row[PARSED_BODY] !== undefined || row.body.length <= wholeMaxChars) return parsedBody<T>(row)
  const spans = spansOf(row)
  const pos = spans.pos
  const out: Record<string, unknown> = {}
  for (let k = 0; k < spans.count; k++) {
    const name = spans.name(k)
    if (keep.includes(name)) out[name] = JSON.parse(row.body.slice(pos[4 * k + 2]!, pos[4 * k + 3]!))
  }
  return out as T
}
