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
