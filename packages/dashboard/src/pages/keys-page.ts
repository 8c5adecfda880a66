import { html } from 'htm/preact'
import { PageHead } from '../ui/components.js'

/** Keys: not in this build yet. */
export default function KeysPage() {
  return html`<div><${PageHead} title="Keys" /><p class="muted">This page is not built yet; the HTTP API and the CLI serve it meanwhile (see the README).</p></div>`
}
