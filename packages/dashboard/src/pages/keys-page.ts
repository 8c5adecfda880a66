import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { ApiError } from '../api/api-client.js'
import { fmtTime } from '../format.js'
import { can, useApp } from '../ui/app-context.js'
import { Badge, Empty, ErrorBox, explain, Loading, PageHead, Section } from '../ui/components.js'
import { useApi } from '../ui/use-api.js'

interface KeyView {
  id: string
  project: string
  scopes: string[]
  name: string
  created_at: string
  expires_at: string | null
  revoked_at: string | null
}

function Created({ k, onClose }: { k: KeyView & { key: string }; onClose: () => void }) {
  const [copied, setCopied] = useState(false)
  return html`<div class="card created-key" role="alert">
    <strong>Key ${k.name} created for project ${k.project}.</strong>
    <p>Copy it now: it is shown once and this page does not keep it.</p>
    <p><code class="break" data-testid="new-key">${k.key}</code></p>
    <div class="row">
      <button type="button" onClick=${async () => {
        try {
          await navigator.clipboard.writeText(k.key)
          setCopied(true)
        } catch {
          setCopied(false)
        }
      }}>${copied ? 'Copied' : 'Copy'}</button>
      <button type="button" class="secondary" onClick=${onClose}>Done (forget it)</button>
    </div>
  </div>`
}

/** API keys (admin): list, create (shown once), revoke. */
export default function KeysPage() {
  const { api, session, toast } = useApp()
  const r = useApi((signal) => api.get<{ items: KeyView[] }>('/v1/keys', undefined, signal), [api])
  const [created, setCreated] = useState<(KeyView & { key: string }) | undefined>()
  const [error, setError] = useState<string | undefined>()
  if (!can(session, 'admin'))
    return html`<div><${PageHead} title="Keys" /><${Empty}>Managing keys needs the admin scope; this session has ${session.scopes.join(', ')}.</${Empty}></div>`
  const create = async (e: Event) => {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const fd = new FormData(form)
    const scopes = ['ingest', 'read', 'admin'].filter((s) => fd.get(`scope-${s}`) === 'on')
    const expires = String(fd.get('expires') ?? '')
    setError(undefined)
    try {
      const k = await api.post<KeyView & { key: string }>('/v1/keys', {
        scopes,
        name: String(fd.get('name') ?? '').trim() || 'key',
        ...(session.via === 'open' && String(fd.get('project') ?? '').trim() ? { project: String(fd.get('project')).trim() } : {}),
        ...(expires ? { expires_at: Date.now() + Number(expires) * 86_400_000 } : {}),
      })
      setCreated(k)
      form.reset()
      r.reload()
    } catch (err) {
      setError(err instanceof ApiError ? `${explain(err).title}: ${err.message}` : String(err))
    }
  }
  const revoke = async (k: KeyView) => {
    if (!confirm(`Revoke key ${k.name} (${k.id})? Clients using it get 401 at once.`)) return
    try {
      await api.del(`/v1/keys/${encodeURIComponent(k.id)}`)
      toast(`Revoked ${k.id}`)
      r.reload()
    } catch (err) {
      toast(err instanceof ApiError ? `${explain(err).title}: ${err.message}` : String(err), 'error')
    }
  }
  const items = r.data?.items ?? []
  return html`<div>
    <${PageHead} title="Keys" />
    ${created && html`<${Created} k=${created} onClose=${() => setCreated(undefined)} />`}
    ${r.error && html`<${ErrorBox} error=${r.error} onRetry=${r.reload} />`}
    ${r.loading && !r.data && html`<${Loading} what="Loading keys" />`}
    ${r.data && items.length === 0 && html`<${Empty}>No API key yet. Clients on this machine work without one in open mode.</${Empty}>`}
    ${
      items.length > 0 &&
      html`<${Section} title="Keys"><div class="table-wrap"><table data-testid="keys-table">
        <thead><tr><th>Name</th><th>Id</th><th>Project</th><th>Scopes</th><th>Created</th><th>Expires</th><th>State</th><th></th></tr></thead>
        <tbody>${items.map(
          (k) => html`<tr><td>${k.name}</td><td><code>${k.id}</code></td><td>${k.project}</td><td>${k.scopes.join(', ')}</td>
          <td>${fmtTime(k.created_at)}</td><td>${k.expires_at ? fmtTime(k.expires_at) : 'never'}</td>
          <td>${k.revoked_at ? html`<${Badge} kind="bad">revoked</${Badge}>` : k.expires_at && Date.parse(k.expires_at) < Date.now() ? html`<${Badge} kind="warn">expired</${Badge}>` : html`<${Badge} kind="ok">active</${Badge}>`}</td>
          <td>${!k.revoked_at && html`<button type="button" class="secondary" onClick=${() => revoke(k)}>Revoke</button>`}</td></tr>`,
        )}</tbody></table></div></${Section}>`
    }
    <${Section} title="New key">
      <form class="row" onSubmit=${create}>
        <div class="field"><label for="k-name">Name</label><input id="k-name" name="name" placeholder="web-app" /></div>
        ${session.via === 'open' && html`<div class="field"><label for="k-project">Project</label><input id="k-project" name="project" placeholder=${session.project} /></div>`}
        <fieldset class="scopes"><legend>Scopes</legend>
          ${['ingest', 'read', 'admin'].map((s) => html`<label><input type="checkbox" name=${`scope-${s}`} checked=${s !== 'admin'} /> ${s}</label>`)}</fieldset>
        <div class="field"><label for="k-expires">Expires in (days, empty = never)</label><input id="k-expires" name="expires" type="number" min="1" max="3650" /></div>
        <div class="field buttons"><button type="submit">Create key</button></div>
      </form>
      ${error && html`<p class="error-text" role="alert">${error}</p>`}
    </${Section}>
  </div>`
}
