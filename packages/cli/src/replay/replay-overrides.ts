import { createHash } from 'node:crypto'

/** One `--set PATH=VALUE`: a path inside the event's input and the value to put there. */
export interface Override {
  /** As given, e.g. `input.age`. */
  path: string
  /** Segments after `input`, e.g. `['age']`; numeric segments index arrays. */
  segments: string[]
  value: unknown
}

/** A value given on the command line: JSON when it parses (numbers, booleans, null, objects), else the plain string. */
export function parseCliValue(v: string): unknown {
  try {
    return JSON.parse(v)
  } catch {
    return v
  }
}

/**
 * Parses `--set` flags (`input.age=40`, `input.plan="pro"`, `input.items.0.qty=2`). Only paths
 * inside `input` can be overridden; a path given twice keeps the last value.
 */
export function parseOverrides(sets: string[]): Override[] {
  const byPath = new Map<string, Override>()
  for (const s of sets) {
    const eq = s.indexOf('=')
    if (eq <= 0) throw Object.assign(new Error(`--set takes PATH=VALUE, got ${JSON.stringify(s)}`), { code: 'invalid_parameter' })
    const path = s.slice(0, eq).trim()
    const segments = path.split('.')
    if (segments[0] !== 'input' || segments.length < 2 || segments.some((x) => x === '')) {
      throw Object.assign(new Error(`--set paths start with "input." (e.g. input.age=40), got ${JSON.stringify(path)}`), {
        code: 'invalid_parameter',
      })
    }
    byPath.set(path, { path, segments: segments.slice(1), value: parseCliValue(s.slice(eq + 1)) })
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** A copy of `input` with the overrides applied (missing objects on the way are created). */
export function applyOverrides(input: unknown, overrides: Override[]): unknown {
  if (overrides.length === 0) return input
  const root: unknown = structuredClone(input ?? {})
  for (const o of overrides) {
    let node = root as Record<string, unknown>
    for (let i = 0; i < o.segments.length - 1; i++) {
      const k = o.segments[i]!
      const next = node[k]
      if (typeof next !== 'object' || next === null) node[k] = {}
      node = node[k] as Record<string, unknown>
    }
    node[o.segments.at(-1)!] = o.value
  }
  return root
}

/**
 * The id of the shadow event a replay writes: a hash of the original id, the candidate and the
 * overrides, so replaying the same selection with the same candidate and overrides finds its own
 * earlier results instead of adding copies.
 */
export function replayEventId(originalId: string, candidate: string, overrides: Override[]): string {
  const key = JSON.stringify([originalId, candidate, overrides.map((o) => [o.path, o.value])])
  return `replay-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`
}

/** `NAME@VERSION` → `{name, version}` (the last `@` splits, so names may hold one). */
export function parseCandidate(as: string): { name: string; version: string } {
  const at = as.lastIndexOf('@')
  if (at <= 0 || at === as.length - 1) {
    throw Object.assign(new Error(`--as takes NAME@VERSION, got ${JSON.stringify(as)}`), { code: 'invalid_parameter' })
  }
  return { name: as.slice(0, at), version: as.slice(at + 1) }
}
