import { html } from 'htm/preact'
import type { ModelInfo } from '../api/types.js'
import { shadowOutputPath } from '../compare-output.js'
import { fmtNum, fmtPct } from '../format.js'
import { eventHref, href, navigate } from '../router.js'
import { useApp } from '../ui/app-context.js'
import { Badge, Empty, ErrorBox, Loading, PageHead, Section } from '../ui/components.js'
import { useApi } from '../ui/use-api.js'
import { formQuery, WindowFields } from '../ui/window-fields.js'

interface Diff {
  a: number | null
  b: number | null
  diff: number | null
  ci_low: number | null
  ci_high: number | null
  p_value: number | null
}
interface AbReply {
  a: { n: number }
  b: { n: number }
  srm: { p_value: number | null; mismatch: boolean }
  metrics: Record<string, Diff>
}
interface Interval {
  value: number
  ci_low: number | null
  ci_high: number | null
}
interface ShadowReply {
  candidates: {
    model: { name: string; version: string }
    pairs: number
    agreement: Interval | null
    text?: { pairs: number; exact: Interval; normalized: Interval }
    deltas: Record<string, Interval & { n: number; mean_abs: number }>
    most_divergent: string[]
  }[]
  primaries: number
  truncated: boolean
}

/** A difference and its interval as a small horizontal bar around zero. */
function IntervalBar({ d }: { d: { diff?: number | null; value?: number | null; ci_low: number | null; ci_high: number | null } }) {
  const v = d.diff ?? d.value ?? null
  if (v === null || d.ci_low === null || d.ci_high === null) return html`<span class="muted">–</span>`
  const span = Math.max(Math.abs(d.ci_low), Math.abs(d.ci_high), Math.abs(v), 1e-12)
  const x = (t: number) => 50 + (t / span) * 48
  const crosses = d.ci_low <= 0 && d.ci_high >= 0
  return html`<svg class="interval" viewBox="0 0 100 14" preserveAspectRatio="none" role="img" aria-label=${`${fmtNum(v)} [${fmtNum(d.ci_low)}, ${fmtNum(d.ci_high)}]`}>
    <line x1="50" x2="50" y1="0" y2="14" class="zero" />
    <line x1=${x(d.ci_low)} x2=${x(d.ci_high)} y1="7" y2="7" class=${crosses ? 'ci' : 'ci sig'} />
    <circle cx=${x(v)} cy="7" r="3" class=${crosses ? 'pt' : 'pt sig'} />
  </svg>`
}

function Ab({ model, a, b, from, to }: { model: string; a: string; b: string; from: string; to: string }) {
  const { api } = useApp()
  const by = a.includes(':') ? a.split(':')[0] : 'version'
  const val = (s: string) => (s.includes(':') ? s.slice(s.indexOf(':') + 1) : s)
  const side = (s: string) => ({ model, [by === 'arm' ? 'arm' : 'version']: val(s), ...(from ? { from } : {}), ...(to ? { to } : {}) })
  const r = useApi((signal) => api.post<AbReply>('/v1/compare', { a: side(a), b: side(b) }, signal), [api, model, a, b, from, to])
  if (r.error) return html`<${ErrorBox} error=${r.error} onRetry=${r.reload} />`
  if (!r.data) return html`<${Loading} what="Comparing" />`
  const m = Object.entries(r.data.metrics)
  return html`<${Section} title=${`A/B: ${a} vs ${b}`}>
    <p data-testid="ab-summary">n = ${fmtNum(r.data.a.n)} (A) · ${fmtNum(r.data.b.n)} (B) · sample-ratio check p = ${fmtNum(r.data.srm.p_value, 3)}
      ${r.data.srm.mismatch ? html` <${Badge} kind="bad">sample-ratio mismatch</${Badge}>` : html` <${Badge} kind="ok">split as expected</${Badge}>`}</p>
    ${
      m.length === 0
        ? html`<${Empty}>No metric present on both sides.</${Empty}>`
        : html`<div class="table-wrap"><table data-testid="ab-table">
            <thead><tr><th>Metric</th><th class="num">A</th><th class="num">B</th><th class="num">B − A</th><th>95% interval</th><th class="num">p</th></tr></thead>
            <tbody>${m.map(
              ([k, d]) => html`<tr><td><code>${k}</code></td><td class="num">${fmtNum(d.a, 4)}</td><td class="num">${fmtNum(d.b, 4)}</td>
              <td class="num">${fmtNum(d.diff, 3)}</td><td class="interval-cell"><${IntervalBar} d=${d} /> <span class="small muted">[${fmtNum(d.ci_low, 3)}, ${fmtNum(d.ci_high, 3)}]</span></td>
              <td class="num">${d.p_value !== null && d.p_value < 0.05 ? html`<strong>${fmtNum(d.p_value, 3)}</strong>` : fmtNum(d.p_value, 3)}</td></tr>`,
            )}</tbody>
          </table></div>`
    }
  </${Section}>`
}

function Shadow({ model, output, from, to }: { model: string; output: string; from: string; to: string }) {
  const { api } = useApp()
  const r = useApi(
    (signal) =>
      api.post<ShadowReply>(
        '/v1/compare',
        { shadow: { model, stage: 'primary', ...(from ? { from } : {}), ...(to ? { to } : {}) }, output, top: 10 },
        signal,
      ),
    [api, model, output, from, to],
  )
  if (r.error) return html`<${ErrorBox} error=${r.error} onRetry=${r.reload} />`
  if (!r.data) return html`<${Loading} what="Pairing primaries with their shadows" />`
  if (r.data.candidates.length === 0)
    return html`<${Empty}>No shadow events of ${model} in this window (${fmtNum(r.data.primaries)} primaries read).</${Empty}>`
  return html`<div data-testid="shadow-results">${r.data.candidates.map(
    (c) => html`<${Section} title=${`Shadow ${c.model.name}@${c.model.version}`}>
      <p>${fmtNum(c.pairs)} pairs · agreement${output ? html` on <code>output.${output}</code>` : ''} <strong>${c.agreement ? fmtPct(c.agreement.value) : '–'}</strong>
        ${c.agreement ? html` <span class="muted small">[${fmtPct(c.agreement.ci_low)}, ${fmtPct(c.agreement.ci_high)}]</span>` : ''}
        ${c.text ? html` · text exact ${fmtPct(c.text.exact.value)}, normalized ${fmtPct(c.text.normalized.value)}` : ''}
        ${r.data!.truncated ? html` <${Badge} kind="warn">truncated</${Badge}>` : ''}</p>
      ${
        Object.keys(c.deltas).length > 0 &&
        html`<div class="table-wrap"><table><thead><tr><th>Paired delta (shadow − primary)</th><th class="num">mean</th><th>95% interval</th><th class="num">mean |Δ|</th><th class="num">n</th></tr></thead>
          <tbody>${Object.entries(c.deltas).map(
            ([k, d]) => html`<tr><td><code>${k}</code></td><td class="num">${fmtNum(d.value, 4)}</td>
            <td class="interval-cell"><${IntervalBar} d=${d} /> <span class="small muted">[${fmtNum(d.ci_low, 3)}, ${fmtNum(d.ci_high, 3)}]</span></td><td class="num">${fmtNum(d.mean_abs, 4)}</td><td class="num">${fmtNum(d.n)}</td></tr>`,
          )}</tbody></table></div>`
      }
      <h3>Most divergent pairs</h3>
      ${c.most_divergent.length === 0 ? html`<p class="muted">Every pair agrees.</p>` : html`<ol class="divergent">${c.most_divergent.map((id) => html`<li><a href=${eventHref(id)}>${id}</a></li>`)}</ol>`}
    </${Section}>`,
  )}</div>`
}

/** A/B comparison of two versions or arms of a model, or its shadows against their primaries. */
export default function ComparePage() {
  const { api, route } = useApp()
  const q = route.query
  const model = q.get('model') ?? ''
  const mode = q.get('mode') === 'shadow' ? 'shadow' : 'ab'
  const from = q.get('w_from') ?? ''
  const to = q.get('w_to') ?? ''
  const models = useApi((signal) => api.get<{ items: ModelInfo[] }>('/v1/models', undefined, signal), [api])
  const info = models.data?.items.find((m) => m.name === model)
  const versions = (info?.versions ?? []).map((v) => v.version)
  const a = q.get('a') ?? versions[0] ?? ''
  const b = q.get('b') ?? versions[1] ?? ''
  const submit = (e: Event) => {
    e.preventDefault()
    navigate(href('/compare', formQuery(e.currentTarget as HTMLFormElement)))
  }
  const sides = [...versions.map((v) => [v, `version ${v}`]), ['arm:a', 'arm a'], ['arm:b', 'arm b']]
  return html`<div>
    <${PageHead} title="Compare" />
    <form class="filters wide" onSubmit=${submit} aria-label="Comparison">
      <div class="field"><label for="c-model">Model</label>
        <select id="c-model" name="model" value=${model}><option value="">choose…</option>${(models.data?.items ?? []).map((m) => html`<option value=${m.name}>${m.name}</option>`)}</select></div>
      <div class="field"><label for="c-mode">Kind</label>
        <select id="c-mode" name="mode" value=${mode}><option value="ab">A/B (versions or arms)</option><option value="shadow">Shadow vs primary</option></select></div>
      ${
        mode === 'ab' &&
        html`<div class="field"><label for="c-a">A</label><select id="c-a" name="a" value=${a}>${sides.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></div>
          <div class="field"><label for="c-b">B</label><select id="c-b" name="b" value=${b}>${sides.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></div>`
      }
      <${WindowFields} prefix="w" label="Window (default: last 24 h)" from=${from} to=${to} />
      <div class="field buttons"><button type="submit">Compare</button></div>
    </form>
    ${models.error && html`<${ErrorBox} error=${models.error} onRetry=${models.reload} />`}
    ${!model && html`<${Empty}>Choose a model, then two versions (or arms) to compare, or its shadows.</${Empty}>`}
    ${model && mode === 'ab' && a && b && html`<${Ab} model=${model} a=${a} b=${b} from=${from} to=${to} />`}
    ${model && mode === 'ab' && (!a || !b) && html`<${Empty}>${model} has fewer than two versions: compare arms, or its shadows.</${Empty}>`}
    ${model && mode === 'shadow' && models.data && html`<${Shadow} model=${model} output=${shadowOutputPath(info)} from=${from} to=${to} />`}
  </div>`
}
