import { html } from 'htm/preact'
import { useMemo } from 'preact/hooks'
import type { InferenceEvent, ModelInfo, Page } from '../api/types.js'
import { HistogramChart } from '../charts/histogram-chart.js'
import { suggestFields, valueAt } from '../drift-data.js'
import { fmtNum, fmtPct } from '../format.js'
import { href, navigate } from '../router.js'
import { useApp } from '../ui/app-context.js'
import { Badge, Empty, ErrorBox, Loading, PageHead, Section } from '../ui/components.js'
import { useApi } from '../ui/use-api.js'
import { defaultWindows, formQuery, WindowFields } from '../ui/window-fields.js'

interface DriftField {
  field: string
  kind?: string
  method?: string
  statistic?: number
  p_value?: number | null
  threshold?: number
  drift?: boolean
  n_reference?: number
  n_current?: number
  error?: { code: string; message: string }
}

interface DriftReply {
  fields: DriftField[]
  drift_share: number
  dataset_drift: boolean
}

/** Samples the histograms draw from: one page of each window (at most 500 events). */
const SAMPLE = 500

function FieldResult({
  f,
  refEvents: ref,
  curEvents: cur,
}: {
  f: DriftField
  refEvents: InferenceEvent[] | undefined
  curEvents: InferenceEvent[] | undefined
}) {
  const refValues = useMemo(() => (ref ?? []).map((e) => valueAt(e, f.field)), [ref, f.field])
  const curValues = useMemo(() => (cur ?? []).map((e) => valueAt(e, f.field)), [cur, f.field])
  return html`<div class="drift-field card" data-field=${f.field}>
    <div class="card-head"><h2><code>${f.field}</code></h2>
      ${f.error ? html`<${Badge} kind="warn">${f.error.code}</${Badge}>` : f.drift ? html`<${Badge} kind="bad">drift</${Badge}>` : html`<${Badge} kind="ok">no drift</${Badge}>`}
    </div>
    ${
      f.error
        ? html`<p class="error-text">${f.error.message}</p>`
        : html`<p class="small">${f.kind} · ${f.method} = <strong>${fmtNum(f.statistic ?? null, 4)}</strong>
            ${f.p_value !== undefined && f.p_value !== null ? html` · p = ${fmtNum(f.p_value, 3)}` : ''} · threshold ${fmtNum(f.threshold ?? null)}
            · n ${fmtNum(f.n_reference ?? null)} → ${fmtNum(f.n_current ?? null)}</p>`
    }
    ${ref && cur && html`<${HistogramChart} field=${f.field} reference=${refValues} current=${curValues} />`}
    ${ref && cur && html`<p class="muted small">Histograms from the latest ${Math.min(SAMPLE, ref.length)} / ${Math.min(SAMPLE, cur.length)} events of each window; the test used every event.</p>`}
  </div>`
}

/** Data drift between a reference and a current window, per field, with both distributions drawn. */
export default function DriftPage() {
  const { api, route } = useApp()
  const q = route.query
  const model = q.get('model') ?? ''
  const d = useMemo(() => defaultWindows(), [])
  const w = {
    ref_from: q.get('ref_from') ?? d.ref_from,
    ref_to: q.get('ref_to') ?? d.ref_to,
    cur_from: q.get('cur_from') ?? d.cur_from,
    cur_to: q.get('cur_to') ?? d.cur_to,
  }
  const version = q.get('version') ?? ''
  const models = useApi((signal) => api.get<{ items: ModelInfo[] }>('/v1/models', undefined, signal), [api])
  const info = models.data?.items.find((m) => m.name === model)
  const latest = useApi(
    (signal) => (model ? api.get<Page<InferenceEvent>>('/v1/events', { model, limit: 1 }, signal) : Promise.resolve(undefined)),
    [api, model],
  )
  const suggested = info?.config?.monitored_fields?.length ? info.config.monitored_fields : suggestFields(latest.data?.items[0])
  const fields = (q.get('fields') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const active = fields.length > 0 ? fields : suggested
  const filter = (from: string, to: string) => ({ model, from, to, ...(version ? { version } : {}) })
  const key = [model, version, active.join(','), w.ref_from, w.ref_to, w.cur_from, w.cur_to].join('|')
  const report = useApi(
    (signal) =>
      model && active.length > 0
        ? api.post<DriftReply>(
            '/v1/drift',
            { reference: filter(w.ref_from, w.ref_to), current: filter(w.cur_from, w.cur_to), fields: active },
            signal,
          )
        : Promise.resolve(undefined),
    [api, key],
  )
  const refSample = useApi(
    (signal) =>
      model
        ? api.get<Page<InferenceEvent>>('/v1/events', { ...filter(w.ref_from, w.ref_to), limit: SAMPLE }, signal)
        : Promise.resolve(undefined),
    [api, key],
  )
  const curSample = useApi(
    (signal) =>
      model
        ? api.get<Page<InferenceEvent>>('/v1/events', { ...filter(w.cur_from, w.cur_to), limit: SAMPLE }, signal)
        : Promise.resolve(undefined),
    [api, key],
  )
  const submit = (e: Event) => {
    e.preventDefault()
    navigate(href('/drift', formQuery(e.currentTarget as HTMLFormElement)))
  }
  return html`<div>
    <${PageHead} title="Drift" />
    <form class="filters wide" onSubmit=${submit} aria-label="Drift windows">
      <div class="field"><label for="d-model">Model</label>
        <select id="d-model" name="model" value=${model}><option value="">choose…</option>
          ${(models.data?.items ?? []).map((m) => html`<option value=${m.name}>${m.name}</option>`)}</select></div>
      <div class="field"><label for="d-version">Version (both windows)</label>
        <select id="d-version" name="version" value=${version}><option value="">any</option>
          ${(info?.versions ?? []).map((v) => html`<option value=${v.version}>${v.version}</option>`)}</select></div>
      <div class="field grow"><label for="d-fields">Fields (comma list)</label>
        <input id="d-fields" name="fields" value=${fields.join(', ')} placeholder=${suggested.join(', ') || 'input.age, input.plan'} /></div>
      <${WindowFields} prefix="ref" label="Reference window" from=${w.ref_from} to=${w.ref_to} />
      <${WindowFields} prefix="cur" label="Current window" from=${w.cur_from} to=${w.cur_to} />
      <div class="field buttons"><button type="submit">Compare windows</button></div>
    </form>
    ${models.error && html`<${ErrorBox} error=${models.error} onRetry=${models.reload} />`}
    ${!model && html`<${Empty}>Choose a model. Fields default to its monitored fields, else the scalar inputs of its latest event.</${Empty}>`}
    ${model && active.length === 0 && !latest.loading && html`<${Empty}>No field to test: name some (e.g. <code>input.age</code>).</${Empty}>`}
    ${report.error && html`<${ErrorBox} error=${report.error} onRetry=${report.reload} />`}
    ${report.loading && model && active.length > 0 && html`<${Loading} what="Testing every event of both windows" />`}
    ${
      report.data &&
      html`<${Section} title="Result">
        <p data-testid="drift-summary">${report.data.dataset_drift ? html`<${Badge} kind="bad">dataset drift</${Badge}>` : html`<${Badge} kind="ok">no dataset drift</${Badge}>`}
          ${' '}${fmtPct(report.data.drift_share)} of fields drifted (${report.data.fields.filter((f) => f.drift).length} of ${report.data.fields.length}).
          <a href=${href('/events', { model, from: w.cur_from, to: w.cur_to })}>current events</a> · <a href=${href('/events', { model, from: w.ref_from, to: w.ref_to })}>reference events</a></p>
        <div class="table-wrap"><table data-testid="drift-table">
          <thead><tr><th>Field</th><th>Kind</th><th>Method</th><th class="num">Statistic</th><th class="num">p</th><th class="num">Threshold</th><th>Drift</th><th class="num">n ref → cur</th></tr></thead>
          <tbody>${report.data.fields.map(
            (f) => html`<tr><td><code>${f.field}</code></td><td>${f.kind ?? ''}</td><td>${f.method ?? f.error?.code ?? ''}</td>
            <td class="num">${fmtNum(f.statistic ?? null, 4)}</td><td class="num">${fmtNum(f.p_value ?? null, 3)}</td><td class="num">${fmtNum(f.threshold ?? null)}</td>
            <td>${f.error ? html`<${Badge} kind="warn">error</${Badge}>` : f.drift ? html`<${Badge} kind="bad">yes</${Badge}>` : html`<${Badge} kind="ok">no</${Badge}>`}</td>
            <td class="num">${fmtNum(f.n_reference ?? null)} → ${fmtNum(f.n_current ?? null)}</td></tr>`,
          )}</tbody>
        </table></div>
      </${Section}>
      <div class="grid two">${report.data.fields.map((f) => html`<${FieldResult} key=${f.field} f=${f} refEvents=${refSample.data?.items} curEvents=${curSample.data?.items} />`)}</div>`
    }
  </div>`
}
