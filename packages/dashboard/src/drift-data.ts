/** Pure helpers of the drift page: field values out of events, and reference-vs-current histograms. */

/** The value at a dotted path (`input.age`, `model.params.temperature`), or undefined. */
export function valueAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[k]
  }
  return cur
}

/** Scalar fields of an event's input (and output), as drift field paths; at most `max`. */
export function suggestFields(event: { input?: unknown; output?: unknown } | undefined, max = 12): string[] {
  const out: string[] = []
  for (const root of ['input', 'output'] as const) {
    const v = event?.[root]
    if (!v || typeof v !== 'object' || Array.isArray(v)) continue
    for (const [k, x] of Object.entries(v)) {
      if (out.length >= max) return out
      if (x === null || ['number', 'string', 'boolean'].includes(typeof x)) out.push(`${root}.${k}`)
    }
  }
  return out
}

/** One bar of a histogram: a numeric bin `[x1, x2)` or a category, with each window's share. */
export interface HistogramRow {
  window: 'reference' | 'current'
  share: number
  x1?: number
  x2?: number
  category?: string
}

/**
 * Histograms of two samples on shared bins: numbers in `bins` equal-width bins over both samples'
 * range, anything else by category (the `top` most frequent; the rest as "(other)"). Shares sum
 * to 1 per window. Empty when neither sample has a value.
 */
export function histogramRows(
  reference: unknown[],
  current: unknown[],
  bins = 20,
  top = 12,
): { kind: 'numeric' | 'categorical'; rows: HistogramRow[] } {
  const ref = reference.filter((v) => v !== undefined && v !== null)
  const cur = current.filter((v) => v !== undefined && v !== null)
  const all = [...ref, ...cur]
  if (all.length === 0) return { kind: 'numeric', rows: [] }
  const numeric = all.every((v) => typeof v === 'number' && Number.isFinite(v))
  const rows: HistogramRow[] = []
  if (numeric) {
    let lo = Number.POSITIVE_INFINITY
    let hi = Number.NEGATIVE_INFINITY
    for (const v of all as number[]) {
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
    const width = hi > lo ? (hi - lo) / bins : 1
    const n = hi > lo ? bins : 1
    for (const [name, sample] of [
      ['reference', ref],
      ['current', cur],
    ] as const) {
      const counts = new Array<number>(n).fill(0)
      for (const v of sample as number[]) counts[Math.min(n - 1, Math.floor((v - lo) / width))]! += 1
      counts.forEach((c, i) => {
        rows.push({ window: name, share: sample.length ? c / sample.length : 0, x1: lo + i * width, x2: lo + (i + 1) * width })
      })
    }
    return { kind: 'numeric', rows }
  }
  const freq = new Map<string, number>()
  for (const v of all) {
    const k = typeof v === 'string' ? v : JSON.stringify(v)
    freq.set(k, (freq.get(k) ?? 0) + 1)
  }
  const keep = new Set(
    [...freq.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k]) => k),
  )
  for (const [name, sample] of [
    ['reference', ref],
    ['current', cur],
  ] as const) {
    const counts = new Map<string, number>()
    for (const v of sample) {
      const k = typeof v === 'string' ? v : JSON.stringify(v)
      const key = keep.has(k) ? k : '(other)'
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    for (const k of [...keep, ...(freq.size > keep.size ? ['(other)'] : [])])
      rows.push({ window: name, category: k, share: sample.length ? (counts.get(k) ?? 0) / sample.length : 0 })
  }
  return { kind: 'categorical', rows }
}
