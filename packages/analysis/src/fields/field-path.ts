/** Reads one field of a parsed event. */
export type FieldGetter = (event: unknown) => unknown

/**
 * Compiles a dotted path (`input.age`, `output.score`, `context.tags.region`,
 * `internals.embedding`, `input.features.3`) into a getter. A segment that is a non-negative
 * integer also indexes arrays. A missing step yields `undefined`.
 */
export function compileFieldPath(path: string): FieldGetter {
  const segments = path.split('.')
  if (segments.some((s) => s === '')) throw new RangeError(`invalid field path ${JSON.stringify(path)}`)
  return (event: unknown): unknown => {
    let v: unknown = event
    for (const s of segments) {
      // Own keys only: `constructor` or `__proto__` must not reach the prototype.
      if (v === null || typeof v !== 'object' || !Object.hasOwn(v, s)) return undefined
      v = (v as Record<string, unknown>)[s]
    }
    return v
  }
}

/** Value at a dotted path of a parsed event (see {@link compileFieldPath}). */
export function getFieldValue(event: unknown, path: string): unknown {
  return compileFieldPath(path)(event)
}
