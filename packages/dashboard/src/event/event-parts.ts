import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import type { ApiClient } from '../api/api-client.js'
import { ApiError } from '../api/api-client.js'
import type { Feedback, InferenceEvent, IngestReply, Page } from '../api/types.js'
import { fmtDuration, fmtMs, fmtTime, preview } from '../format.js'
import { eventHref } from '../router.js'
import { explain } from '../ui/components.js'
import { useApi } from '../ui/use-api.js'
import { ValueView } from './render-value.js'

const PHASES = ['pre', 'inference', 'post'] as const

/** Latency phases as one stacked bar (pre, inference, post; the rest of total as "other"), TTFT marked. */
export function LatencyBar({ latency }: { latency: InferenceEvent['latency_ms'] }) {
  if (!latency || Object.keys(latency).length === 0) return html`<p class="muted">No latency logged.</p>`
  const parts = PHASES.filter((p) => typeof latency[p] === 'number').map((p) => [p, latency[p]!] as const)
  const sum = parts.reduce((a, [, v]) => a + v, 0)
  const total = Math.max(latency.total ?? sum, sum, 1e-9)
  const other = latency.total !== undefined && latency.total > sum ? latency.total - sum : 0
  const segs = other > 0 ? [...parts, ['other', other] as const] : parts
  return html`<div class="latency" data-testid="latency">
    <div class="latency-bar" role="img" aria-label=${segs.map(([p, v]) => `${p} ${fmtMs(v)}`).join(', ')}>
      ${segs.map(([p, v]) => html`<span class=${`seg seg-${p}`} style=${`width:${(v / total) * 100}%`} title=${`${p}: ${fmtMs(v)}`}></span>`)}
      ${latency.ttft !== undefined && html`<span class="ttft" style=${`left:${Math.min(100, (latency.ttft / total) * 100)}%`} title=${`time to first token ${fmtMs(latency.ttft)}`}></span>`}
    </div>
    <div class="legend small">
      ${segs.map(([p, v]) => html`<span><i class=${`dot seg-${p}`}></i>${p} ${fmtMs(v)}</span>`)}
      ${latency.total !== undefined && html`<span>total ${fmtMs(latency.total)}</span>`}
      ${latency.ttft !== undefined && html`<span>TTFT ${fmtMs(latency.ttft)}</span>`}
    </div>
  </div>`
}

/** Feedback in time order around the event: items that arrived before it are marked. */
export function FeedbackTimeline({ items, eventTs }: { items: Feedback[]; eventTs: string }) {
  if (items.length === 0) return html`<p class="muted" data-testid="no-feedback">No feedback yet.</p>`
  const t0 = Date.parse(eventTs)
  const sorted = [...items].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts))
  return html`<ol class="timeline" data-testid="feedback-timeline">
    ${sorted.map((f) => {
      const dt = Date.parse(f.ts) - t0
      const before = dt < 0
      return html`<li class=${before ? 'before' : ''} data-feedback-id=${f.id}>
        <div class="when">${fmtTime(f.ts)} <span class="muted small">${before ? `${fmtDuration(-dt)} before the event` : `${fmtDuration(dt)} after`}</span></div>
        <div><strong>${f.name}</strong> = <code>${preview(f.value, 200)}</code>
          <span class="muted small"> · ${f.kind ?? 'explicit'}${f.source?.type ? ` · ${f.source.type}${f.source.id ? ` ${f.source.id}` : ''}` : ''}</span></div>
        ${f.comment && html`<div class="comment">${f.comment}</div>`}
      </li>`
    })}
  </ol>`
}

/** Parses what someone typed as a feedback value: JSON when it is JSON (numbers, booleans, objects), else the text. */
export function parseFeedbackValue(s: string): unknown {
  const t = s.trim()
  if (t === '') return ''
  try {
    return JSON.parse(t)
  } catch {
    return t
  }
}

/** Adds feedback to the event (`POST /v1/feedback`, source `user`/`dashboard`), then calls `onAdded`. */
export function FeedbackForm({ api, eventId, onAdded }: { api: ApiClient; eventId: string; onAdded: () => void }) {
  const [busy, setBusy] = useState(false)
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | undefined>()
  const submit = async (e: Event) => {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const fd = new FormData(form)
    const name = String(fd.get('name') ?? '').trim()
    const value = parseFeedbackValue(String(fd.get('value') ?? ''))
    const comment = String(fd.get('comment') ?? '').trim()
    if (!name || value === '') {
      setMsg({ kind: 'error', text: 'Give a name and a value.' })
      return
    }
    setBusy(true)
    setMsg(undefined)
    try {
      const r = await api.post<IngestReply>('/v1/feedback', {
        event_id: eventId,
        name,
        value,
        source: { type: 'user', id: 'dashboard' },
        ...(comment ? { comment } : {}),
      })
      if (r.rejected.length > 0) setMsg({ kind: 'error', text: `Refused: ${r.rejected[0]!.code}: ${r.rejected[0]!.message}` })
      else {
        form.reset()
        setMsg({ kind: 'ok', text: 'Feedback added.' })
        onAdded()
      }
    } catch (err) {
      const x = err instanceof ApiError ? explain(err) : { title: 'Failed', detail: String(err) }
      setMsg({ kind: 'error', text: `${x.title}: ${x.detail}` })
    } finally {
      setBusy(false)
    }
  }
  return html`<form class="feedback-form" onSubmit=${submit} aria-label="Add feedback">
    <div class="field"><label for="fb-name">Name</label>
      <input id="fb-name" name="name" list="fb-names" required placeholder="label" /></div>
    <datalist id="fb-names"><option value="label" /><option value="thumbs" /><option value="rating" /><option value="correction" /></datalist>
    <div class="field"><label for="fb-value">Value</label><input id="fb-value" name="value" required placeholder='1, "spam", true, {"…"}' /></div>
    <div class="field grow"><label for="fb-comment">Comment</label><input id="fb-comment" name="comment" /></div>
    <div class="field buttons"><button type="submit" disabled=${busy}>${busy ? 'Adding…' : 'Add feedback'}</button></div>
    ${msg && html`<p class=${msg.kind === 'ok' ? 'ok-text' : 'error-text'} role=${msg.kind === 'ok' ? 'status' : 'alert'}>${msg.text}</p>`}
  </form>`
}

/** The primary's output beside each shadow's (model, output, latency), with links to the shadow events. */
export function ShadowCompare({ primary, shadows }: { primary: InferenceEvent; shadows: InferenceEvent[] }) {
  const col = (e: InferenceEvent, label: string) => html`<div class="shadow-col">
    <div class="shadow-head"><strong>${label}</strong> ${e.model.name}@${e.model.version}
      <span class="muted small"> · ${fmtMs(e.latency_ms?.total)}</span>
      ${label !== 'primary' && html` · <a href=${eventHref(e.id)}>open</a>`}</div>
    ${e.status === 'error' ? html`<p class="error-text">${e.error?.type}: ${e.error?.message}</p>` : html`<${ValueView} value=${e.output} />`}
  </div>`
  return html`<div class="shadows" data-testid="shadows">${col(primary, 'primary')}${shadows.map((s) => col(s, s.model.stage ?? 'shadow'))}</div>`
}

/** Other events of the same session (newest first, 20). */
export function SessionEvents({ api, event }: { api: ApiClient; event: InferenceEvent }) {
  const sid = event.trace?.session_id
  const r = useApi(
    (signal) =>
      sid
        ? api.get<Page<InferenceEvent>>('/v1/events', { session_id: sid, limit: 21 }, signal)
        : Promise.resolve({ items: [], next_cursor: null }),
    [api, sid],
  )
  if (!sid) return html`<p class="muted">No session id logged.</p>`
  if (r.error) return html`<p class="error-text">${explain(r.error).title}: ${r.error.message}</p>`
  if (!r.data) return html`<p class="muted">Loading the session…</p>`
  const others = r.data.items.filter((e) => e.id !== event.id).slice(0, 20)
  return html`<div>
    <p class="small">Session <code>${sid}</code> · <a href=${`/events?session_id=${encodeURIComponent(sid)}`}>all its events</a></p>
    ${
      others.length === 0
        ? html`<p class="muted">No other event in this session.</p>`
        : html`<ul class="session-list">${others.map((e) => html`<li><a href=${eventHref(e.id)}>${fmtTime(e.ts)}</a> <span class="muted">${e.model.name}@${e.model.version}</span> <code>${preview(e.input, 60)}</code></li>`)}</ul>`
    }
  </div>`
}
