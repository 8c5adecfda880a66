import { html } from 'htm/preact'
import { PageHead } from '../ui/components.js'

/** Drift: not in this build yet. */
export default function DriftPage() {
  return html`<div><${PageHead} title="Drift" /><p class="muted">This page is not built yet; the HTTP API and the CLI serve it meanwhile (see the README).</p></div>`
}
