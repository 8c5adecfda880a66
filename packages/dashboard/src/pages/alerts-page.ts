import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { ApiError } from '../api/api-client.js'
import type { AlertRule, AlertsView } from '../api/types.js'
import { fmtAgo, fmtNum, fmtTime } from '../format.js'
import { can, useApp } from '../ui/app-context.js'
import { Badge, Empty, ErrorBox, explain, Loading, PageHead, Section } from '../ui/components.js'
import { useApi } from '../ui/use-api.js'

const EXAMPLE: AlertRule[] = [
  {
    id: 'error-rate',
    name: 'error rate above 2%',
    condition: { type: 'metric', metric: 'error_rate', filter: { model: 'MODEL' } },
    window: '1h',
    operator: '>',
    threshold: 0.02,
    min_samples: 100,
  },
]

function describeCondition(r: AlertRule): string {
  const c = r.condition
  const f = c.filter
    ? ` where ${Object.entries(c.filter as Record<string, unknown>)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')}`
    : ''
  if (c.type === 'metric') return `${c.metric}${f}`
  if (c.type === 'comparison') return `${c.metric} B − A`
  if (c.type === 'drift') return `drift of ${(c.fields ?? []).join(', ')}${f}`
  if (c.type === 'concept_drift') return `concept drift of ${c.label}${f}`
  return c.type
}

function RulesEditor({ rules, onSaved }: { rules: AlertRule[]; onSaved: () => void }) {
  const { api, toast } = useApp()
  const [text, setText] = useState(() => JSON.stringify(rules.length > 0 ? rules : EXAMPLE, null, 2))
  const [error, setError] = useState<ApiError | string | undefined>()
  const [dirty, setDirty] = useState(false)
  const saved = JSON.stringify(rules.length > 0 ? rules : EXAMPLE, null, 2)
  // A reload shows the saved rules, unless someone is editing them.
  useEffect(() => {
    if (!dirty) setText(saved)
  }, [saved])
  const save = async () => {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (e) {
      setError(`Not JSON: ${(e as Error).message}`)
      return
    }
    try {
      await api.put('/v1/alerts/rules', { rules: parsed })
      setError(undefined)
      setDirty(false)
      toast('Alert rules saved')
      onSaved()
    } catch (e) {
      setError(e instanceof ApiError ? e : String(e))
    }
  }
  const details = error instanceof ApiError && Array.isArray(error.details) ? (error.details as { path: string; message: string }[]) : []
  return html`<${Section} title="Rules (JSON; saved as a whole)">
    <textarea id="rules" aria-label="Alert rules" rows="14" spellcheck="false" value=${text} onInput=${(e: Event) => {
      setText((e.target as HTMLTextAreaElement).value)
      setDirty(true)
    }}></textarea>
    <div class="row"><button type="button" onClick=${save}>Save rules</button>
      <span class="muted small">Conditions: metric, comparison, drift, concept_drift; windows like 30m, 1h, 7d; a rule never fires on fewer than min_samples events.</span></div>
    ${
      error &&
      html`<div class="error-box" role="alert"><strong>${typeof error === 'string' ? 'Invalid' : explain(error).title}</strong><p>${typeof error === 'string' ? error : error.message}</p>
      ${details.length > 0 && html`<ul>${details.map((d) => html`<li><code>${d.path}</code> ${d.message}</li>`)}</ul>`}</div>`
    }
  </${Section}>`
}

/** Alert rules with their state and last value, the latest transitions, and (admin) the rules editor. */
export default function AlertsPage() {
  const { api, session, toast } = useApp()
  const r = useApi((signal) => api.get<AlertsView>('/v1/alerts', undefined, signal), [api])
  const [evaluating, setEvaluating] = useState(false)
  const evaluate = async () => {
    setEvaluating(true)
    try {
      const t = await api.post<{ transitions: unknown[] }>('/v1/alerts/evaluate', {})
      toast(`Evaluated: ${t.transitions.length} transition(s)`)
      r.reload()
    } catch (e) {
      toast(e instanceof ApiError ? `${explain(e).title}: ${e.message}` : String(e), 'error')
    } finally {
      setEvaluating(false)
    }
  }
  const admin = can(session, 'admin')
  return html`<div>
    <${PageHead} title="Alerts">${admin && html`<button type="button" onClick=${evaluate} disabled=${evaluating}>${evaluating ? 'Evaluating…' : 'Evaluate now'}</button>`}</${PageHead}>
    ${r.error && html`<${ErrorBox} error=${r.error} onRetry=${r.reload} />`}
    ${r.loading && !r.data && html`<${Loading} what="Loading alerts" />`}
    ${r.data && r.data.rules.length === 0 && html`<${Empty}>No alert rule.${admin ? ' Write some below.' : ''}</${Empty}>`}
    ${
      r.data &&
      r.data.rules.length > 0 &&
      html`<${Section} title="Rules"><div class="table-wrap"><table data-testid="alerts-table">
        <thead><tr><th>Rule</th><th>Condition</th><th>Threshold</th><th>Window</th><th>State</th><th class="num">Last value</th><th class="num">n</th><th>Evaluated</th></tr></thead>
        <tbody>${r.data.rules.map(
          (x) => html`<tr>
          <td><strong>${x.rule.name ?? x.rule.id}</strong><div class="muted small">${x.rule.id}</div></td>
          <td>${describeCondition(x.rule)}</td><td>${x.rule.operator} ${fmtNum(x.rule.threshold)}</td><td>${x.rule.window}</td>
          <td>${x.state === 'firing' ? html`<${Badge} kind="bad">firing</${Badge}>` : html`<${Badge} kind="ok">ok</${Badge}>`}<div class="muted small">since ${fmtAgo(x.since)}</div></td>
          <td class="num">${fmtNum((x.last?.value as number | null | undefined) ?? null)}</td><td class="num">${fmtNum((x.last?.n as number | undefined) ?? null)}</td>
          <td>${x.evaluated_at ? fmtAgo(x.evaluated_at) : 'not yet'}</td></tr>`,
        )}</tbody></table></div></${Section}>`
    }
    ${
      r.data &&
      r.data.transitions.length > 0 &&
      html`<${Section} title="Latest transitions"><ol class="timeline">${r.data.transitions.slice(0, 50).map(
        (
          t,
        ) => html`<li><div class="when">${fmtTime(t.at)}</div><div><strong>${t.rule_id}</strong> ${t.transition === 'firing' || t.transition === 'fired' ? html`<${Badge} kind="bad">${t.transition}</${Badge}>` : html`<${Badge} kind="ok">${t.transition}</${Badge}>`}
          ${t.value !== undefined && t.value !== null ? ` value ${fmtNum(t.value as number)}` : ''}</div></li>`,
      )}</ol></${Section}>`
    }
    ${r.data && admin && html`<${RulesEditor} rules=${r.data.rules.map((x) => x.rule)} onSaved=${r.reload} />`}
  </div>`
}
