import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'

/**
 * True when two stored JSON texts hold the same content under RFC 8785 canonicalization: key
 * order, white space and number spelling do not matter. Only called when an id is already taken
 * (a re-send), so the hot path stores the client's text without canonicalizing it.
 */
export function sameJsonContent(a: string, b: string): boolean {
  if (a === b) return true
  try {
    return canonicalize(JSON.parse(a)) === canonicalize(JSON.parse(b))
  } catch {
    // Content RFC 8785 refuses (lone surrogates) can only be equal byte for byte.
    return false
  }
}

/**
 * The digest a record's "what the client sent" is kept as when the collector changed it before
 * storing (server-side redaction): SHA-256 hex of its RFC 8785 canonical form, or of the text
 * itself when RFC 8785 refuses it.
 */
export function sentDigest(jsonText: string): string {
  let value: unknown
  try {
    value = JSON.parse(jsonText)
  } catch {
    return createHash('sha256').update(jsonText).digest('hex')
  }
  return sentDigestOf(value, jsonText)
}

/** {@link sentDigest} of a value already parsed from `jsonText` (no second parse on the ingest path). */
export function sentDigestOf(value: unknown, jsonText: string): string {
  let canonical: string | undefined
  try {
    canonical = canonicalize(value)
  } catch {
    canonical = undefined
  }
  return createHash('sha256')
    .update(canonical ?? jsonText)
    .digest('hex')
}

/**
 * Whether a re-send is the same as what is stored, comparing what the client sent each time: the
 * stored row's sent digest (when the collector changed it before storing) or its body, against
 * the re-send's sent digest or body. Without digests on either side this is {@link sameJsonContent}.
 */
export function sameSentContent(
  storedBody: string,
  storedDigest: string | null | undefined,
  body: string,
  digest: string | undefined,
): boolean {
  if (!storedDigest && !digest) return sameJsonContent(storedBody, body)
  return (storedDigest || sentDigest(storedBody)) === (digest ?? sentDigest(body))
}
