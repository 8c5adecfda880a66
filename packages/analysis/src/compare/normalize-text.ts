/**
 * Normalizes a generation for "normalized match": Unicode NFKC (full-width and compatibility forms
 * fold to their plain letters), lower case, every punctuation character (Unicode category P:
 * `.,;:!?'"()[]{}-_…` and the like) removed, runs of white space collapsed to one space, and the
 * ends trimmed. Symbols (`$ + = <`), digits and letters are kept: "2+2=4" and "2-2=4" stay different
 * only where the punctuation is a symbol.
 */
export function normalizeText(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\p{P}+/gu, '')
    .replace(/\s+/gu, ' ')
    .trim()
}

/** Word-set Jaccard distance of two normalized texts, 0 (same words) to 1 (no word in common). */
export function textDistance(a: string, b: string): number {
  const wa = new Set(a.split(' ').filter(Boolean))
  const wb = new Set(b.split(' ').filter(Boolean))
  if (wa.size === 0 && wb.size === 0) return 0
  let inter = 0
  for (const w of wa) if (wb.has(w)) inter++
  return 1 - inter / (wa.size + wb.size - inter)
}
