import type { MetricPoint, MetricsReply } from './api/types.js'
import type { ChartSeries } from './charts/time-chart.js'

/** Windows the overview offers, with the bucket each reads. */
export const WINDOWS = {
  '1h': { ms: 3_600_000, bucket: 'minute' },
  '6h': { ms: 6 * 3_600_000, bucket: 'minute' },
  '24h': { ms: 86_400_000, bucket: 'hour' },
  '7d': { ms: 7 * 86_400_000, bucket: 'hour' },
  '30d': { ms: 30 * 86_400_000, bucket: 'hour' },
  '90d': { ms: 90 * 86_400_000, bucket: 'day' },
} as const

export type WindowName = keyof typeof WINDOWS

/**
 * The `GET /v1/metrics` query of one model's overview over window `win` ending at `now` (ms):
 * per version, in `bucket` (default the window's); `to` a minute ahead so live data still counts.
 */
export function metricsQuery(
  model: string,
  win: WindowName,
  now: number,
  bucket: string = WINDOWS[win].bucket,
): { model: string; bucket: string; group_by: string; from: string; to: string } {
  return {
    model,
    bucket,
    group_by: 'version',
    from: new Date(now - WINDOWS[win].ms).toISOString(),
    to: new Date(now + 60_000).toISOString(),
  }
}

/** The series of a metrics reply on one shared time axis (epoch seconds), one entry per group. */
export interface Aligned {
  x: number[]
  groups: { name: string; points: (MetricPoint | undefined)[] }[]
}

/** Puts every group's points on the union of their bucket starts (a missing bucket is undefined). */
export function align(reply: MetricsReply, groupKey = 'version'): Aligned {
  // Each start is parsed once (a month of hourly points for 5 versions is 3 600 dates).
  const starts = reply.series.map((s) => s.points.map((p) => Date.parse(p.start) / 1000))
  const xs = new Set<number>()
  for (const ss of starts) for (const v of ss) xs.add(v)
  const x = [...xs].sort((a, b) => a - b)
  const at = new Map(x.map((v, i) => [v, i]))
  const groups = reply.series.map((s, g) => {
    const points: (MetricPoint | undefined)[] = new Array(x.length).fill(undefined)
    const ss = starts[g]!
    s.points.forEach((p, i) => {
      points[at.get(ss[i]!)!] = p
    })
    return { name: s.group[groupKey] ?? (Object.values(s.group).join(' · ') || 'all'), points }
  })
  return { x, groups }
}

type Pick = (p: MetricPoint) => number | null | undefined

/** One line per group of `pick(point)`; buckets without data are gaps. */
export function lines(a: Aligned, pick: Pick, label = (g: string) => g): ChartSeries[] {
  return a.groups.map((g) => ({ label: label(g.name), values: g.points.map((p) => (p ? (pick(p) ?? null) : null)) }))
}

/** Label names with any quality figure in the reply. */
export function qualityNames(reply: MetricsReply): string[] {
  const names = new Set<string>()
  for (const s of reply.series) for (const p of s.points) for (const k of Object.keys(p.quality ?? {})) names.add(k)
  return [...names].sort()
}

/** Quality metrics a chart headlines, best first. */
const HEADLINE_METRICS = ['accuracy', 'f1_macro', 'mae', 'rmse', 'mean', 'conversion_rate']

/** The headline quality metric of a label: accuracy, else F1, else MAE, RMSE, mean, conversion rate. */
export function headlineMetric(reply: MetricsReply, label: string): string | undefined {
  for (const s of reply.series)
    for (const p of s.points) {
      const q = p.quality?.[label]
      if (!q) continue
      for (const m of HEADLINE_METRICS) if (q[m] && typeof q[m] === 'object') return m
    }
  return undefined
}

/** Most paths `GET /v1/metrics` takes in one `fields=`. */
const MAX_FIELDS = 64

/**
 * The `fields=` of the overview's buckets: only the figures its charts draw (count, error rate,
 * cost, p50 and p99 of every latency phase in `phases`, and for every feedback name its coverage
 * and each figure that can be its headline metric, with the interval), named with `*` so the read
 * needs no other reply first. A month of hourly points for 5 versions is about a third of the
 * full reply. Undefined (every figure) when the list would be too long.
 */
export function chartFields(phases: readonly string[]): string | undefined {
  const out = ['count', 'error_rate', 'usage.cost_usd', 'quality.*.coverage']
  for (const ph of phases) out.push(`latency_ms.${ph}.p50`, `latency_ms.${ph}.p99`)
  for (const m of HEADLINE_METRICS) out.push(`quality.*.${m}`)
  return out.length <= MAX_FIELDS ? out.join(',') : undefined
}

/** Quality `metric` of `label` per group with its confidence band. */
export function qualityLines(a: Aligned, label: string, metric: string): ChartSeries[] {
  const iv = (p: MetricPoint | undefined) =>
    p?.quality?.[label]?.[metric] as { value: number | null; ci_low: number | null; ci_high: number | null } | undefined
  return a.groups.map((g) => ({
    label: g.name,
    values: g.points.map((p) => iv(p)?.value ?? null),
    band: { lo: g.points.map((p) => iv(p)?.ci_low ?? null), hi: g.points.map((p) => iv(p)?.ci_high ?? null) },
  }))
}

/** Estimated (dashed) beside realized `metric` of `label`, per group; empty when nothing was estimated. */
export function estimatedLines(a: Aligned, label: string, metric: string): ChartSeries[] {
  const out: ChartSeries[] = []
  for (const g of a.groups) {
    const est = g.points.map((p) => {
      const v = p?.estimated?.[label]?.[metric]
      return typeof v === 'number' ? v : null
    })
    if (est.every((v) => v === null)) continue
    const realized = g.points.map((p) => (p?.quality?.[label]?.[metric] as { value?: number | null } | undefined)?.value ?? null)
    out.push({ label: `${g.name} realized`, values: realized }, { label: `${g.name} estimated`, values: est, dash: true })
  }
  return out
}

/**
 * Where a classifier's confidence is in its output, for the label-free estimate: a numeric
 * `score` / `probability` / `proba` (binary) or a `probabilities` / `scores` object (multiclass).
 */
export function scorePath(output: unknown): { score: string } | { probabilities: string } | undefined {
  if (!output || typeof output !== 'object' || Array.isArray(output)) return undefined
  const o = output as Record<string, unknown>
  for (const k of ['score', 'probability', 'proba']) if (typeof o[k] === 'number') return { score: `output.${k}` }
  for (const k of ['probabilities', 'scores'])
    if (o[k] && typeof o[k] === 'object' && !Array.isArray(o[k]) && Object.values(o[k] as object).every((v) => typeof v === 'number'))
      return { probabilities: `output.${k}` }
  return undefined
}
