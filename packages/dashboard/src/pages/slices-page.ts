import { html } from 'htm/preact'
import type { ModelInfo } from '../api/types.js'
import { fmtNum } from '../format.js'
import { href, navigate } from '../router.js'
import { useApp } from '../ui/app-context.js'
import { Badge, Empty, ErrorBox, Loading, PageHead, Section } from '../ui/components.js'
import { useApi } from '../ui/use-api.js'
import { formQuery, WindowFields } from '../ui/window-fields.js'

interface SliceRow {
  segment: string
  n: number
  count: number
  value: number
  ci_low: number | null
  ci_high: number | null
  rest: number | null
  p_value: number | null
  q_value: number | null
  worse: boolean
}
interface SliceReply {
  segment_key: string
  metric: string
  segments: SliceRow[]
  worse: SliceRow[]
}

/** One row's value with its interval on a shared scale. */
function Dot({ r, lo, hi }: { r: SliceRow; lo: number; hi: number }) {
  const x = (t: number) => ((t - lo) / (hi - lo || 1)) * 100
  return html`<svg class="interval" viewBox="0 0 100 14" preserveAspectRatio="none" role="img" aria-label=${`${fmtNum(r.value)} [${fmtNum(r.ci_low)}, ${fmtNum(r.ci_high)}]`}>
    ${r.rest !== null && html`<line x1=${x(r.rest)} x2=${x(r.rest)} y1="0" y2="14" class="zero" />`}
    ${r.ci_low !== null && r.ci_high !== null && html`<line x1=${x(r.ci_low)} x2=${x(r.ci_high)} y1="7" y2="7" class=${r.worse ? 'ci bad' : 'ci'} />`}
    <circle cx=${x(r.value)} cy="7" r="3" class=${r.worse ? 'pt bad' : 'pt'} />
  </svg>`
}

/** A metric per segment (version, arm, a declared dimension) with the segments significantly worse than the rest. */
export default function SlicesPage() {
  const { api, route } = useApp()
  const q = route.query
  const model = q.get('model') ?? ''
  const models = useApi((signal) => api.get<{ items: ModelInfo[] }>('/v1/models', undefined, signal), [api])
  const info = models.data?.items.find((m) => m.name === model)
  const labels = Object.keys(info?.config?.labels ?? {})
  const metric = q.get('metric') ?? (labels[0] ? `quality.${labels[0]}.accuracy` : 'error_rate')
  const segment = q.get('segment') ?? 'version'
  const from = q.get('w_from') ?? ''
  const to = q.get('w_to') ?? ''
  const r = useApi(
    (signal) =>
      model
        ? api.get<SliceReply>('/v1/slices', { model, metric, segment, ...(from ? { from } : {}), ...(to ? { to } : {}) }, signal)
        : Promise.resolve(undefined),
    [api, model, metric, segment, from, to],
  )
  const metrics = [
    'error_rate',
    'latency_ms.total.p50',
    'latency_ms.total.p99',
    ...labels.flatMap((l) => [`quality.${l}.accuracy`, `quality.${l}.f1_macro`, `quality.${l}.coverage`]),
  ]
  const segments = ['version', 'arm', 'stage', 'endpoint', ...(info?.config?.dimensions ?? [])]
  const submit = (e: Event) => {
    e.preventDefault()
    navigate(href('/slices', formQuery(e.currentTarget as HTMLFormElement)))
  }
  const rows = r.data?.segments ?? []
  const vals = rows.flatMap((x) => [x.value, x.ci_low, x.ci_high, x.rest]).filter((v): v is number => v !== null && Number.isFinite(v))
  const lo = Math.min(...vals)
  const hi = Math.max(...vals)
  return html`<div>
    <${PageHead} title="Slices" />
    <form class="filters wide" onSubmit=${submit} aria-label="Slices">
      <div class="field"><label for="s-model">Model</label>
        <select id="s-model" name="model" value=${model}><option value="">choose…</option>${(models.data?.items ?? []).map((m) => html`<option value=${m.name}>${m.name}</option>`)}</select></div>
      <div class="field"><label for="s-metric">Metric</label>
        <input id="s-metric" name="metric" list="s-metrics" value=${metric} /><datalist id="s-metrics">${metrics.map((m) => html`<option value=${m} />`)}</datalist></div>
      <div class="field"><label for="s-segment">Segment by</label>
        <select id="s-segment" name="segment" value=${segment}>${segments.map((s) => html`<option value=${s}>${s}</option>`)}</select></div>
      <${WindowFields} prefix="w" label="Window (default: last 24 h)" from=${from} to=${to} />
      <div class="field buttons"><button type="submit">Slice</button></div>
    </form>
    ${!model && html`<${Empty}>Choose a model and a metric; segments come from versions, arms, stages, endpoints and declared dimensions.</${Empty}>`}
    ${r.error && html`<${ErrorBox} error=${r.error} onRetry=${r.reload} />`}
    ${r.loading && model && html`<${Loading} what="Slicing" />`}
    ${
      r.data &&
      html`<${Section} title=${`${r.data.metric} by ${r.data.segment_key}`}>
        ${
          rows.length === 0
            ? html`<${Empty}>No segment has this metric in the window.</${Empty}>`
            : html`
        <p>${r.data.worse.length === 0 ? 'No segment is significantly worse than the rest' : html`<${Badge} kind="bad">${r.data.worse.length} worse</${Badge}> ${r.data.worse.map((w) => w.segment).join(', ')}`}
          <span class="muted small"> (one-sided tests, Benjamini–Hochberg at 0.05; the tick is the rest's value)</span></p>
        <div class="table-wrap"><table data-testid="slices-table">
          <thead><tr><th>${r.data.segment_key}</th><th class="num">n</th><th class="num">value</th><th>interval (tick: rest)</th><th class="num">rest</th><th class="num">p</th><th class="num">q</th><th></th></tr></thead>
          <tbody>${rows.map(
            (
              x,
            ) => html`<tr class=${x.worse ? 'worse' : ''}><td>${['version', 'arm', 'stage'].includes(r.data!.segment_key) ? html`<a href=${href('/events', { model, [r.data!.segment_key]: x.segment })}>${x.segment}</a>` : x.segment}</td>
            <td class="num">${fmtNum(x.n)}</td><td class="num">${fmtNum(x.value, 4)}</td><td class="interval-cell"><${Dot} r=${x} lo=${lo} hi=${hi} /></td>
            <td class="num">${fmtNum(x.rest, 4)}</td><td class="num">${fmtNum(x.p_value, 3)}</td><td class="num">${fmtNum(x.q_value, 3)}</td><td>${x.worse ? html`<${Badge} kind="bad">worse</${Badge}>` : ''}</td></tr>`,
          )}</tbody>
        </table></div>`
        }
      </${Section}>`
    }
  </div>`
}
