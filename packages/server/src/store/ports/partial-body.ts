/**
 * Part of a row's body, parsed, for readers that never look at some of its top-level members: an
 * event's `internals` (embeddings, logits, attention) or `input` can be most of its text, and
 * `JSON.parse` would build every number and string of them only for the garbage collector.
 *
 * Both functions answer the whole parsed body when the row already carries it (`parsedBody`:
 * nothing left to save) and otherwise find the members' spans in the text (`objectSpans`, a scan
 * about three times cheaper than parsing, kept on the row for the next reader) and parse only the
 * members wanted. A partial form is never attached to the row: the next reader may want the
 * members this one left out. A name repeated in the text counts as `JSON.parse` counts it (the
 * last one).
 */
import { type ObjectSpans, objectSpans } from '@inferlog/datasets'
import { PARSED_BODY, parsedBody, type WithParsedBody } from './parsed-body.js'

/** Where a row keeps its members' spans for the next partial reader (symbol-keyed: never cloned across threads). */
const SPANS: unique symbol = Symbol('inferlog.bodySpans')

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
 * The body without the top-level members named in `skip` (they may be absent). Throws `SyntaxError`
 * for a body that is not JSON, or that holds one of the names and is not an object.
 */
export function bodyWithout<T = unknown>(row: WithParsedBody, skip: readonly string[]): T {
  if (row[PARSED_BODY] !== undefined) return row[PARSED_BODY] as T
  const text = row.body
  // Cheap test first: with none of the names in the text at all, the whole parse is the answer.
  if (!skip.some((k) => text.includes(`"${k}"`))) return parsedBody<T>(row)
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

/** Only the top-level members named in `keep` (those present), as an object. Throws `SyntaxError` for a body that is not a JSON object. */
export function bodyOnly<T = unknown>(row: WithParsedBody, keep: readonly string[]): T {
  if (row[PARSED_BODY] !== undefined) return row[PARSED_BODY] as T
  const spans = spansOf(row)
  const pos = spans.pos
  const out: Record<string, unknown> = {}
  for (let k = 0; k < spans.count; k++) {
    const name = spans.name(k)
    if (keep.includes(name)) out[name] = JSON.parse(row.body.slice(pos[4 * k + 2]!, pos[4 * k + 3]!))
  }
  return out as T
}
