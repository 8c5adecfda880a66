import { html } from 'htm/preact'
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks'
import { ApiError } from '../api/api-client.js'
import type { EventDetail, IngestReply, ModelInfo } from '../api/types.js'
import { valueAt } from '../drift-data.js'
import { ValueView } from '../event/render-value.js'
import { fmtNum, fmtTime } from '../format.js'
import { eventHref, navigate } from '../router.js'
import { can, useApp } from '../ui/app-context.js'
import { Badge, Empty, ErrorBox, explain, Loading, PageHead, Section } from '../ui/components.js'
import { useApi } from '../ui/use-api.js'

interface QueueProgress {
  queue: string
  label: string
  strategy: string
  created_at: string
  total: number
  labelled: number
  items: { event_id: string; score: number; labelled: boolean }[]
}

const STRATEGIES = ['least-confidence', 'margin', 'entropy', 'disagreement']

/** The label choices for a queue: booleans for a boolean label, else the model's outputs seen in the queue (at most 9, for keys 1-9). */
export function labelChoices(type: string | undefined, seen: unknown[]): string[] {
  if (type === 'boolean') return ['true', 'false']
  const out: string[] = []
  for (const v of seen) {
    if (v === undefined || v === null || typeof v === 'object') continue
    const s = String(v)
    if (!out.includes(s)) out.push(s)
    if (out.length >= 9) break
  }
  return out
}

/** A typed label value from what was chosen or typed: JSON literals (numbers, booleans) as such, else text. */
export function labelValue(s: string): unknown {
  const t = s.trim()
  if (/^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)$/.test(t)) return JSON.parse(t)
  return t
}

function NewQueue({ models }: { models: ModelInfo[] }) {
  const { api, toast } = useApp()
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    const fd = new FormData(e.currentTarget as HTMLFormElement)
    const queue = String(fd.get('queue') ?? '').trim()
    setBusy(true)
    setError(undefined)
    try {
      const q = await api.post<QueueProgress>('/v1/review', {
        queue,
        label: String(fd.get('label') ?? 'label').trim(),
        strategy: String(fd.get('strategy')),
        filter: { model: String(fd.get('model')) },
        limit: Number(fd.get('limit') ?? 50),
      })
      toast(`Queue ${q.queue}: ${q.total} events to label`)
      navigate(`/review/${encodeURIComponent(q.queue)}`)
    } catch (err) {
      setError(err instanceof ApiError ? `${explain(err).title}: ${err.message}` : String(err))
    } finally {
      setBusy(false)
    }
  }
  return html`<${Section} title="New review queue">
    <form class="row" onSubmit=${submit}>
      <div class="field"><label for="q-name">Queue</label><input id="q-name" name="queue" required pattern="[A-Za-z0-9._\\-]{1,128}" placeholder="churn-uncertain" /></div>
      <div class="field"><label for="q-model">Model</label><select id="q-model" name="model">${models.map((m) => html`<option value=${m.name}>${m.name}</option>`)}</select></div>
      <div class="field"><label for="q-label">Label (feedback name)</label><input id="q-label" name="label" value="label" required /></div>
      <div class="field"><label for="q-strategy">Pick by</label><select id="q-strategy" name="strategy">${STRATEGIES.map((s) => html`<option value=${s}>${s}</option>`)}</select></div>
      <div class="field"><label for="q-limit">Events</label><input id="q-limit" name="limit" type="number" min="1" max="10000" value="50" /></div>
      <div class="field buttons"><button type="submit" disabled=${busy}>${busy ? 'Selecting…' : 'Create'}</button></div>
    </form>
    ${error && html`<p class="error-text" role="alert">${error}</p>`}
  </${Section}>`
}

function Labeller({ name }: { name: string }) {
  const { api, session, toast } = useApp()
  const q = useApi((signal) => api.get<QueueProgress>(`/v1/review/${encodeURIComponent(name)}`, undefined, signal), [api, name])
  const [done, setDone] = useState<Set<string>>(new Set())
  const [index, setIndex] = useState<number | undefined>()
  const [busy, setBusy] = useState(false)
  const items = q.data?.items ?? []
  const isDone = (i: number) => items[i]?.labelled || done.has(items[i]?.event_id ?? '')
  const firstOpen = items.findIndex((_, i) => !isDone(i))
  const at = index ?? (firstOpen >= 0 ? firstOpen : 0)
  const item = items[at]
  const ev = useApi(
    (signal) =>
      item ? api.get<EventDetail>(`/v1/events/${encodeURIComponent(item.event_id)}`, undefined, signal) : Promise.resolve(undefined),
    [api, item?.event_id],
  )
  const model = ev.data?.event.model.name
  const info = useApi(
    (signal) => (model ? api.get<ModelInfo>(`/v1/models/${encodeURIComponent(model)}`, undefined, signal) : Promise.resolve(undefined)),
    [api, model],
  )
  const labelConf = q.data ? info.data?.config?.labels?.[q.data.label] : undefined
  const predicted = ev.data
    ? labelConf
      ? labelConf.output === ''
        ? ev.data.event.output
        : valueAt(ev.data.event.output, labelConf.output)
      : undefined
    : undefined
  const choices = useMemo(() => labelChoices(labelConf?.type, [predicted]), [labelConf?.type, predicted])
  const existing = ev.data?.feedback.filter((f) => f.name === q.data?.label) ?? []
  const labelled = items.filter((_, i) => isDone(i)).length
  const give = useCallback(
    async (raw: string) => {
      if (!item || !q.data || busy || raw.trim() === '') return
      setBusy(true)
      try {
        const r = await api.post<IngestReply>('/v1/feedback', {
          event_id: item.event_id,
          name: q.data.label,
          value: labelValue(raw),
          source: { type: 'annotator', id: 'dashboard' },
          metadata: { queue: q.data.queue },
        })
        if (r.rejected.length > 0) throw new ApiError(400, r.rejected[0]!.code, r.rejected[0]!.message)
        setDone((d) => new Set(d).add(item.event_id))
        toast(`Labelled ${item.event_id}: ${raw}`)
        const next = items.findIndex((x, i) => i > at && !x.labelled && !done.has(x.event_id))
        setIndex(next >= 0 ? next : undefined)
      } catch (e) {
        toast(e instanceof ApiError ? `${explain(e).title}: ${e.message}` : String(e), 'error')
      } finally {
        setBusy(false)
      }
    },
    [api, item, q.data, busy, items, at, done, toast],
  )
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null
      if ((t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) || e.ctrlKey || e.metaKey || e.altKey) return
      if (/^[1-9]$/.test(e.key) && choices[Number(e.key) - 1] !== undefined) {
        e.preventDefault()
        void give(choices[Number(e.key) - 1]!)
      } else if (e.key === 'ArrowRight' || e.key === 'j') setIndex(Math.min(items.length - 1, at + 1))
      else if (e.key === 'ArrowLeft' || e.key === 'k') setIndex(Math.max(0, at - 1))
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [choices, give, items.length, at])
  if (q.error) return html`<div><${PageHead} title=${`Review ${name}`} /><${ErrorBox} error=${q.error} onRetry=${q.reload} /></div>`
  if (!q.data) return html`<${Loading} what="Loading the queue" />`
  return html`<div>
    <${PageHead} title=${`Review ${q.data.queue}`}><a class="button secondary" href="/review">All queues</a></${PageHead}>
    <p data-testid="review-progress">${fmtNum(labelled)} of ${fmtNum(items.length)} labelled · label <code>${q.data.label}</code> · picked by ${q.data.strategy}
      <progress max=${items.length} value=${labelled} aria-label="labelled"></progress></p>
    ${items.length === 0 && html`<${Empty}>This queue is empty: no event matched its filter.</${Empty}>`}
    ${
      item &&
      html`<${Section} title=${`Item ${at + 1} of ${items.length}`} actions=${html`<a href=${eventHref(item.event_id)}>open event</a>`}>
        <p class="small" data-testid="review-item" data-event-id=${item.event_id}>${item.event_id} · uncertainty ${fmtNum(item.score, 3)} ${isDone(at) ? html`<${Badge} kind="ok">labelled</${Badge}>` : html`<${Badge}>open</${Badge}>`}</p>
        ${ev.error && html`<${ErrorBox} error=${ev.error} onRetry=${ev.reload} />`}
        ${!ev.data && !ev.error && html`<${Loading} what="Loading the event" />`}
        ${
          ev.data &&
          html`<div class="grid two">
            <div><h3>Input</h3><${ValueView} value=${ev.data.event.input} /></div>
            <div><h3>Output</h3><${ValueView} value=${ev.data.event.output} />${existing.length > 0 && html`<p class="small">Labels so far: ${existing.map((f) => html`<code>${JSON.stringify(f.value)}</code> `)} (${fmtTime(existing[existing.length - 1]!.ts)})</p>`}</div>
          </div>`
        }
        ${
          can(session, 'ingest')
            ? html`<form class="label-bar" onSubmit=${(e: Event) => {
                e.preventDefault()
                const input = (e.currentTarget as HTMLFormElement).elements.namedItem('custom') as HTMLInputElement
                void give(input.value)
                input.value = ''
              }}>
                ${choices.map((c, i) => html`<button type="button" disabled=${busy} onClick=${() => give(c)} data-choice=${c}><kbd>${i + 1}</kbd> ${c}</button>`)}
                <input name="custom" aria-label="Another label" placeholder="another label, Enter" />
                <button type="button" class="secondary" onClick=${() => setIndex(Math.max(0, at - 1))}><kbd>←</kbd> previous</button>
                <button type="button" class="secondary" onClick=${() => setIndex(Math.min(items.length - 1, at + 1))}>next <kbd>→</kbd></button>
              </form>
              <p class="muted small">Keys: 1–${Math.max(1, choices.length)} label · ← → move (or k / j). Each label is feedback <code>${q.data.label}</code> from an annotator.</p>`
            : html`<p class="muted">This key cannot add labels (no ingest scope).</p>`
        }
      </${Section}>`
    }
  </div>`
}

/** Review: active-learning queues, and labelling their events inline with the keyboard. */
export default function ReviewPage() {
  const { api, route } = useApp()
  const list = useApi((signal) => api.get<{ items: QueueProgress[] }>('/v1/review', undefined, signal), [api])
  const models = useApi((signal) => api.get<{ items: ModelInfo[] }>('/v1/models', undefined, signal), [api])
  if (route.page === 'queue') return html`<${Labeller} name=${route.params.queue ?? ''} />`
  const items = list.data?.items ?? []
  return html`<div>
    <${PageHead} title="Review" />
    ${list.error && html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`}
    ${list.loading && !list.data && html`<${Loading} what="Loading queues" />`}
    ${list.data && items.length === 0 && html`<${Empty}>No review queue yet. Create one below: it picks the events the model is least sure about.</${Empty}>`}
    ${
      items.length > 0 &&
      html`<${Section} title="Queues"><div class="table-wrap"><table data-testid="queues-table">
        <thead><tr><th>Queue</th><th>Label</th><th>Strategy</th><th class="num">Labelled</th><th>Created</th></tr></thead>
        <tbody>${items.map(
          (
            x,
          ) => html`<tr><td><a href=${`/review/${encodeURIComponent(x.queue)}`}>${x.queue}</a></td><td><code>${x.label}</code></td><td>${x.strategy}</td>
          <td class="num">${fmtNum(x.labelled)} / ${fmtNum(x.total)}</td><td>${fmtTime(x.created_at)}</td></tr>`,
        )}</tbody></table></div></${Section}>`
    }
    ${models.data && models.data.items.length > 0 && html`<${NewQueue} models=${models.data.items} />`}
  </div>`
}
