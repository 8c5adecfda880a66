import { InferlogError } from '../errors.js'

/** How a request body is framed. */
export type BodyFormat = 'json' | 'ndjson'

const NDJSON = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/json-seq',
])
// What clients send for JSON when told nothing else is read as JSON all the same: a form type from
// `curl -d`, text/plain from `fetch(url, {body: string})`.
const JSON_TYPES = new Set(['application/json', 'text/json', 'application/x-www-form-urlencoded', 'text/plain'])

/**
 * The body framing a `Content-Type` names: JSON (`application/json`, any `+json` type, none at
 * all, `application/x-www-form-urlencoded`, what `curl -d` sends, and `text/plain`, what `fetch`
 * sends for a string body) or NDJSON
 * (`application/x-ndjson` and its aliases). Anything else is `unsupported_media_type` (415).
 */
export function bodyFormat(contentType: string | null | undefined, allowNdjson = true): BodyFormat {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (t === '' || JSON_TYPES.has(t) || t.endsWith('+json')) return 'json'
  if (allowNdjson && NDJSON.has(t)) return 'ndjson'
  const accepted = allowNdjson ? 'application/json or application/x-ndjson' : 'application/json'
  throw new InferlogError('unsupported_media_type', `Content-Type "${t}" is not accepted here; send ${accepted}`)
}
