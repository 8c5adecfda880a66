import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { type ApiClient, ApiError } from '../api/api-client.js'
import type { SessionInfo } from '../api/types.js'
import { explain } from '../ui/components.js'

/**
 * Sign-in with an API key. The key goes to `POST /v1/session` once and is dropped: the browser
 * keeps only the HttpOnly session cookie the server sets (the page cannot read it), and this form
 * clears its field whatever the answer.
 */
export function SignInPage({ api, open, onSignedIn }: { api: ApiClient; open: boolean; onSignedIn: () => void }) {
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    const form = e.currentTarget as HTMLFormElement
    const input = form.elements.namedItem('key') as HTMLInputElement
    const key = input.value.trim()
    input.value = ''
    if (!key) {
      setError('Paste an API key (il_…).')
      return
    }
    setBusy(true)
    setError(undefined)
    try {
      const s = await api.post<SessionInfo>('/v1/session', { key })
      api.csrf = s.csrf
      onSignedIn()
    } catch (err) {
      const x = err instanceof ApiError ? explain(err) : { title: 'Failed', detail: String(err) }
      setError(`${x.title}: ${x.detail}`)
    } finally {
      setBusy(false)
    }
  }
  return html`<div class="card signin">
    <h1>Sign in to inferlog</h1>
    <p>Paste an API key with the <code>read</code> scope. You will see its project only. The key is sent once to start a
      session and is not stored by this page.</p>
    <form onSubmit=${submit} autocomplete="off">
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="off" spellcheck="false" placeholder="il_…" required autofocus />
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
    ${error && html`<p class="error-text" role="alert">${error}</p>`}
    <p class="muted">
      On this machine, a server in open mode also serves you without a key:
      <button type="button" class="link" onClick=${async () => {
        // Drops a stale session cookie (if any) so open mode applies again.
        await api.del('/v1/session').catch(() => undefined)
        onSignedIn()
      }}>continue without a key</button>${open ? '' : ' (when it is in open mode)'}.
    </p>
    <p class="muted">Create a key with <code>npx inferlog keys create --project NAME --scopes read</code>.</p>
  </div>`
}
