import { html } from 'htm/preact'
import { useMemo } from 'preact/hooks'
import type { InferenceEvent, ModelInfo, Page } from '../api/types.js'
import { EVENT_FILTERS, type EventFilterValues, explorerSearch, readExplorerQuery } from '../filters.js'
import { fmtAgo, fmtMs, fmtTime, fromInputTime, preview, toInputTime } from '../format.js'
import { eventHref, navigate } from '../router.js'
import { useApp } from '../ui/app-context.js'
import { Badge, Empty, ErrorBox, Loading, PageHead } from '../ui/components.js'
import { useApi } from '../ui/use-api.js'

const LABELS: Record<(typeof EVENT_FILTERS)[number], string> = {
  model: 'Model',
  version: 'Version',
  stage: 'Stage',
  status: 'Status',
  from: 'From',
  to: 'To',
  session_id: 'Session',
  user_id: 'User',
  arm: 'Arm',
  has_feedback: 'Feedback?',
  feedback: 'Feedback name',
}

function FilterForm({ filters, limit, models }: { filters: EventFilterValues; limit: number | undefined; models: ModelInfo[] }) {
  const versions = models.find((m) => m.name === filters.model)?.versions ?? []
  const submit = (e: Event) => {
    e.preventDefault()
    const fd = new FormData(e.currentTarget as HTMLFormElement)
    const next: EventFilterValues = {}
    for (const k of EVENT_FILTERS) {
      let v = String(fd.get(k) ?? '').trim()
      if ((k === 'from' || k === 'to') && v) v = fromInputTime(v)
      if (v) next[k] = v
    }
    const l = Number(fd.get('limit'))
    navigate(`/events${explorerSearch({ filters: next, limit: Number.isInteger(l) && l > 0 ? l : undefined, cursor: undefined })}`)
  }
  const select = (name: string, options: string[], value: string | undefined) =>
    html`<select id=${`f-${name}`} name=${name} value=${value ?? ''}>
      <option value="">any</option>
      ${options.map((o) => html`<option value=${o}>${o}</option>`)}
    </select>`
  const field = (k: (typeof EVENT_FILTERS)[number]) => {
    const v = filters[k]
    let input
    if (k === 'model')
      input = select(
        k,
        models.map((m) => m.name),
        v,
      )
    else if (k === 'version' && versions.length > 0)
      input = select(
        k,
        versions.map((x) => x.version),
        v,
      )
    else if (k === 'stage') input = select(k, ['primary', 'shadow', 'canary', 'challenger'], v)
    else if (k === 'status') input = select(k, ['ok', 'error'], v)
    else if (k === 'has_feedback') input = select(k, ['true', 'false'], v)
    else if (k === 'from' || k === 'to') input = html`<input id=${`f-${k}`} name=${k} type="datetime-local" value=${toInputTime(v)} />`
    else input = html`<input id=${`f-${k}`} name=${k} value=${v ?? ''} />`
    return html`<div class="field"><label for=${`f-${k}`}>${LABELS[k]}</label>${input}</div>`
  }
  return html`<form class="filters" onSubmit=${submit} aria-label="Filters">
    ${EVENT_FILTERS.map(field)}
    <div class="field"><label for="f-limit">Per page</label>
      <select id="f-limit" name="limit" value=${String(limit ?? 50)}>${[20, 50, 100, 200, 500].map((n) => html`<option value=${n}>${n}</option>`)}</select>
    </div>
    <div class="field buttons">
      <button type="submit">Apply</button>
      <a class="button secondary" href="/events">Clear</a>
    </div>
  </form>`
}

function Row({ e }: { e: InferenceEvent }) {
  const href = eventHref(e.id)
  return html`<tr>
    <td class="nowrap"><a href=${href} title=${e.ts}>${fmtTime(e.ts)}</a><div class="muted small">${fmtAgo(e.ts)}</div></td>
    <td class="nowrap">${e.model.name}<span class="muted">@${e.model.version}</span>
      ${e.model.stage && e.model.stage !== 'primary' ? html` <${Badge}>${e.model.stage}</${Badge}>` : null}</td>
    <td>${e.status === 'error' ? html`<${Badge} kind="bad">error</${Badge}>` : html`<${Badge} kind="ok">ok</${Badge}>`}</td>
    <td class="clip"><code>${preview(e.input, 90)}</code></td>
    <td class="clip"><code>${e.status === 'error' ? (e.error?.message ?? e.error?.type ?? '') : preview(e.output, 70)}</code></td>
    <td class="num">${fmtMs(e.latency_ms?.total)}</td>
    <td class="clip small">${e.trace?.session_id ?? ''}</td>
  </tr>`
}

/** Explorer: every `GET /v1/events` filter in the URL, keyset pages newest first, each row a link to its event. */
export default function ExplorerPage() {
  const { api, route } = useApp()
  const state = useMemo(() => readExplorerQuery(route.query), [route.query.toString()])
  const models = useApi((signal) => api.get<{ items: ModelInfo[] }>('/v1/models', undefined, signal), [api])
  const page = useApi(
    (signal) => api.get<Page<InferenceEvent>>('/v1/events', { ...state.filters, limit: state.limit, cursor: state.cursor }, signal),
    [api, route.query.toString()],
  )
  const first = explorerSearch({ ...state, cursor: undefined })
  return html`<div>
    <${PageHead} title="Explorer" />
    <${FilterForm} filters=${state.filters} limit=${state.limit} models=${models.data?.items ?? []} />
    ${page.error && html`<${ErrorBox} error=${page.error} onRetry=${page.reload} />`}
    ${page.loading && !page.data && html`<${Loading} what="Loading events" />`}
    ${
      page.data &&
      (page.data.items.length === 0
        ? html`<${Empty}>${
            state.cursor
              ? 'No more events.'
              : Object.keys(state.filters).length > 0
                ? 'No event matches these filters.'
                : html`No events yet. Log one with the SDK or <code>curl -X POST /v1/events</code>.`
          }</${Empty}>`
        : html`<div class=${`table-wrap ${page.loading ? 'stale' : ''}`}>
            <table class="events" data-testid="events-table">
              <thead><tr><th>Time (UTC)</th><th>Model</th><th>Status</th><th>Input</th><th>Output</th><th class="num">Latency</th><th>Session</th></tr></thead>
              <tbody>${page.data.items.map((e) => html`<${Row} key=${e.id} e=${e} />`)}</tbody>
            </table>
          </div>`)
    }
    <div class="pager">
      ${state.cursor && html`<a class="button secondary" href=${`/events${first}`}>First page</a>`}
      ${page.data?.next_cursor && html`<a class="button" rel="next" href=${`/events${explorerSearch({ ...state, cursor: page.data.next_cursor })}`}>Next page</a>`}
    </div>
  </div>`
}
