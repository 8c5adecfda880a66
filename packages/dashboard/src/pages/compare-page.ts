import { html } from 'htm/preact'
import { PageHead } from '../ui/components.js'

/** Compare: not in this build yet. */
export default function ComparePage() {
  return html`<div><${PageHead} title="Compare" /><p class="muted">This page is not built yet; the HTTP API and the CLI serve it meanwhile (see the README).</p></div>`
}
