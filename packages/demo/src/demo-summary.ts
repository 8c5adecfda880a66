import type { CollectorApi } from './collector-api.js'
import type { AlertRuleView } from './monitoring-setup.js'
import { MODEL_NAME } from './models/train-models.js'

interface Interval {
  value: number
  ci_low: number
  ci_high: number
}

interface MetricsReply {
  series: {
    group: { version?: string; stage?: string }
    points: {
      n: number
      errors: number
      quality?: Record<string, { n_labeled: number; coverage: number; accuracy?: Interval; mean?: Interval }>
    }[]
  }[]
}

interface ShadowReply {
  candidates: { model: { name: string; version: string }; pairs: number; agreement: Interval | null }[]
}

/** What the collector says about the demo's traffic, read back through the public API. */
export interface DemoSummary {
  /** Stored events per version and stage (`2.0.0/primary`), and how many of them are errors (weighted by 1/sample_rate). */
  events: Record<string, { n: number; errors: number }>
  /** Per primary version: labels joined, label coverage, accuracy with its 95% interval, thumbs joined. */
  quality: Record<string, { labeled: number; coverage: number; accuracy: Interval | null; thumbs: number }>
  /** Shadow agreement (same predicted label) per shadow version. */
  shadow: Record<string, { pairs: number; agreement: Interval | null }>
  /** Rule id → state, with the figure of its last evaluation. */
  alerts: Record<string, { state: string; value: number | null; n: number }>
}

/** Reads {@link DemoSummary} for traffic since `fromMs`. */
export async function readSummary(api: CollectorApi, fromMs: number): Promise<DemoSummary> {
  const from = new Date(fromMs - 60_000).toISOString()
  const [metrics, shadow, alerts] = await Promise.all([
    api.get<MetricsReply>(`/v1/metrics?model=${MODEL_NAME}&bucket=all&group_by=version,stage&from=${encodeURIComponent(from)}`),
    api.post<ShadowReply>('/v1/compare', { shadow: { model: MODEL_NAME, stage: 'primary', from }, output: 'label' }),
    api.get<{ rules: AlertRuleView[] }>('/v1/alerts'),
  ])
  const s: DemoSummary = { events: {}, quality: {}, shadow: {}, alerts: {} }
  for (const series of metrics.series) {
    const key = `${series.group.version}/${series.group.stage}`
    const p = series.points[0]
    if (!p) continue
    s.events[key] = { n: p.n, errors: p.errors }
    const label = p.quality?.label
    if (series.group.stage === 'primary')
      s.quality[series.group.version ?? '?'] = {
        labeled: label?.n_labeled ?? 0,
        coverage: label?.coverage ?? 0,
        accuracy: label?.accuracy ?? null,
        thumbs: p.quality?.thumbs?.n_labeled ?? 0,
      }
  }
  for (const c of shadow.candidates) s.shadow[c.model.version] = { pairs: c.pairs, agreement: c.agreement }
  for (const r of alerts.rules) s.alerts[r.rule.id] = { state: r.state, value: r.last?.value ?? null, n: r.last?.n ?? 0 }
  return s
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`

/** The summary as lines for a terminal. */
export function formatSummary(s: DemoSummary): string[] {
  const lines = ['events stored:']
  for (const [k, e] of Object.entries(s.events).sort())
    lines.push(`  ${MODEL_NAME}@${k.padEnd(20)} ${e.n} (errors ${Math.round(e.errors)})`)
  lines.push('quality (labels joined late):')
  for (const [v, q] of Object.entries(s.quality).sort()) {
    const acc = q.accuracy ? `accuracy ${pct(q.accuracy.value)} [${pct(q.accuracy.ci_low)}, ${pct(q.accuracy.ci_high)}]` : 'no accuracy yet'
    lines.push(`  ${v.padEnd(12)} ${q.labeled} labels (coverage ${pct(q.coverage)}), ${q.thumbs} thumbs, ${acc}`)
  }
  for (const [v, c] of Object.entries(s.shadow))
    lines.push(
      `shadow ${v}: ${c.pairs} pairs, label agreement ${c.agreement === null ? 'n/a' : `${pct(c.agreement.value)} [${pct(c.agreement.ci_low)}, ${pct(c.agreement.ci_high)}]`}`,
    )
  lines.push('alerts:')
  for (const [id, a] of Object.entries(s.alerts))
    lines.push(`  ${id.padEnd(22)} ${a.state}${a.value === null ? '' : ` (value ${a.value.toFixed(3)} over ${a.n})`}`)
  return lines
}
