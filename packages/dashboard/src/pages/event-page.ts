import { html } from 'htm/preact'
import type { EventDetail, InferenceEvent } from '../api/types.js'
import { AttentionMatrix, Attributions, ClassBars, DecisionPath, EmbeddingPlot } from '../event/internals-views.js'
import { FeedbackForm, FeedbackTimeline, LatencyBar, SessionEvents, ShadowCompare } from '../event/event-parts.js'
import { LogprobHeatmap, readTokenLogprobs } from '../event/logprob-heatmap.js'
import { ValueView } from '../event/render-value.js'
import { fmtAgo, fmtNum, fmtTime, fmtUsd } from '../format.js'
import { eventHref } from '../router.js'
import { can, useApp } from '../ui/app-context.js'
import { Badge, ErrorBox, KeyValues, Loading, PageHead, Section } from '../ui/components.js'
import { JsonTree } from '../ui/json-tree.js'
import { useApi } from '../ui/use-api.js'

const KNOWN_INTERNALS = ['token_logprobs', 'embedding', 'attention', 'logits', 'probabilities', 'attributions', 'decision_path']

function Internals({ e }: { e: InferenceEvent }) {
  const x = e.internals ?? {}
  const out = (e.output && typeof e.output === 'object' ? e.output : {}) as { labels?: unknown }
  const labels = (x as { labels?: unknown }).labels ?? out.labels
  const tl = x.token_logprobs === undefined ? undefined : readTokenLogprobs(x.token_logprobs)
  const tokens = tl?.tokens
  const blocks = []
  if (x.token_logprobs !== undefined)
    blocks.push([
      'Token log-probabilities',
      tl ? html`<${LogprobHeatmap} data=${tl} />` : html`<${JsonTree} value=${x.token_logprobs} open=${false} />`,
    ])
  if (x.probabilities !== undefined)
    blocks.push(['Probabilities', html`<${ClassBars} tensor=${x.probabilities} labels=${labels} softmax=${false} />`])
  if (x.logits !== undefined) blocks.push(['Logits (softmax)', html`<${ClassBars} tensor=${x.logits} labels=${labels} softmax=${true} />`])
  if (x.attributions !== undefined) blocks.push(['Feature attributions', html`<${Attributions} value=${x.attributions} />`])
  if (x.decision_path !== undefined) blocks.push(['Decision path', html`<${DecisionPath} value=${x.decision_path} />`])
  if (x.embedding !== undefined) blocks.push(['Embedding', html`<${EmbeddingPlot} tensor=${x.embedding} />`])
  if (x.attention !== undefined) blocks.push(['Attention', html`<${AttentionMatrix} tensor=${x.attention} tokens=${tokens} />`])
  for (const [k, v] of Object.entries(x))
    if (!KNOWN_INTERNALS.includes(k) && k !== 'labels') blocks.push([k, html`<${JsonTree} value=${v} open=${false} />`])
  if (blocks.length === 0) return null
  return html`<${Section} title="Internals">
    ${blocks.map(([t, b]) => html`<div class="internal" data-internal=${t}><h3>${t}</h3>${b}</div>`)}
  </${Section}>`
}

function Header({ e }: { e: InferenceEvent }) {
  const m = e.model
  const rows: [string, unknown][] = [
    ['Time', html`${fmtTime(e.ts)} UTC <span class="muted">(${fmtAgo(e.ts)})</span>`],
    ['Model', html`<a href=${`/events?model=${encodeURIComponent(m.name)}`}>${m.name}</a>`],
    ['Version', html`<a href=${`/events?model=${encodeURIComponent(m.name)}&version=${encodeURIComponent(m.version)}`}>${m.version}</a>`],
    ['Stage', m.stage ?? 'primary'],
  ]
  if (m.digest) rows.push(['Digest', html`<code class="break">${m.digest}</code>`])
  if (m.endpoint) rows.push(['Endpoint', m.endpoint])
  if (e.shadow_of) rows.push(['Shadow of', html`<a href=${eventHref(e.shadow_of)}>${e.shadow_of}</a>`])
  if (e.context?.experiment) rows.push(['Experiment', `${e.context.experiment.name ?? ''} · arm ${e.context.experiment.arm ?? '–'}`])
  if (e.usage)
    rows.push([
      'Usage',
      [
        e.usage.input_tokens !== undefined ? `${fmtNum(e.usage.input_tokens)} tokens in` : '',
        e.usage.output_tokens !== undefined ? `${fmtNum(e.usage.output_tokens)} out` : '',
        e.usage.cost_usd !== undefined ? fmtUsd(e.usage.cost_usd) : '',
        e.usage.compute_ms !== undefined ? `${fmtNum(e.usage.compute_ms)} compute ms` : '',
      ]
        .filter(Boolean)
        .join(' · '),
    ])
  if (e.sample_rate !== undefined && e.sample_rate !== 1) rows.push(['Sample rate', String(e.sample_rate)])
  if (e.trace?.trace_id)
    rows.push(['Trace', html`<code>${e.trace.trace_id}</code>${e.trace.span_id ? html` / <code>${e.trace.span_id}</code>` : ''}`])
  if (e.trace?.user_id)
    rows.push(['User', html`<a href=${`/events?user_id=${encodeURIComponent(e.trace.user_id)}`}>${e.trace.user_id}</a>`])
  return html`<${KeyValues} rows=${rows} />`
}

/** One prediction with everything that happened to it. */
export default function EventPage() {
  const { api, route, session } = useApp()
  const id = route.params.id ?? ''
  const r = useApi((signal) => api.get<EventDetail>(`/v1/events/${encodeURIComponent(id)}`, undefined, signal), [api, id])
  if (r.error && !r.data)
    return html`<div><${PageHead} title="Event" /><p class="muted"><code>${id}</code></p><${ErrorBox} error=${r.error} onRetry=${r.reload} /></div>`
  if (!r.data) return html`<${Loading} what="Loading the event" />`
  const { event: e, feedback, shadows } = r.data
  const params = e.model.params
  return html`<div class="event-page">
    <${PageHead} title="Event">
      ${e.status === 'error' ? html`<${Badge} kind="bad">error</${Badge}>` : html`<${Badge} kind="ok">ok</${Badge}>`}
      <a class="button secondary" href=${`/events?model=${encodeURIComponent(e.model.name)}`}>Back to the explorer</a>
    </${PageHead}>
    <p class="event-id"><code data-testid="event-id">${e.id}</code></p>
    ${r.error && html`<${ErrorBox} error=${r.error} onRetry=${r.reload} />`}
    <div class="grid two">
      <${Section} title="Model and request"><${Header} e=${e} />
        ${params && Object.keys(params).length > 0 && html`<h3>Parameters</h3><${ValueView} value=${params} />`}
      </${Section}>
      <${Section} title="Latency"><${LatencyBar} latency=${e.latency_ms} /></${Section}>
    </div>
    <div class="grid two">
      <${Section} title="Input"><div data-testid="input"><${ValueView} value=${e.input} /></div></${Section}>
      <${Section} title="Output">
        ${e.status === 'error' ? html`<p class="error-text"><strong>${e.error?.type ?? 'error'}</strong>: ${e.error?.message ?? ''}</p>` : html`<${ValueView} value=${e.output} />`}
      </${Section}>
    </div>
    ${
      e.candidates &&
      e.candidates.length > 0 &&
      html`<${Section} title=${`Candidates (${e.candidates.length})`}>
      <ol class="candidates">${e.candidates.slice(0, 50).map((c) => html`<li>${c.score !== undefined && html`<span class="muted">score ${fmtNum(c.score)}</span>`}<${ValueView} value=${c.output} /></li>`)}</ol>
    </${Section}>`
    }
    <${Section} title=${`Feedback (${feedback.length})`}>
      <${FeedbackTimeline} items=${feedback} eventTs=${e.ts} />
      ${can(session, 'ingest') ? html`<${FeedbackForm} api=${api} eventId=${e.id} onAdded=${r.reload} />` : html`<p class="muted">This key cannot add feedback (no ingest scope).</p>`}
    </${Section}>
    ${shadows.length > 0 && html`<${Section} title=${`Shadows (${shadows.length})`}><${ShadowCompare} primary=${e} shadows=${shadows} /></${Section}>`}
    <${Internals} e=${e} />
    <div class="grid two">
      <${Section} title="Session"><${SessionEvents} api=${api} event=${e} /></${Section}>
      <${Section} title="Context">${e.context ? html`<${JsonTree} value=${e.context} />` : html`<p class="muted">No context logged.</p>`}</${Section}>
    </div>
    <details class="card raw"><summary>The stored record (JSON)</summary><${JsonTree} value=${e} open=${false} /></details>
  </div>`
}
