import { html } from 'htm/preact'
import { PageHead } from '../ui/components.js'

/** Slices: not in this build yet. */
export default function SlicesPage() {
  return html`<div><${PageHead} title="Slices" /><p class="muted">This page is not built yet; the HTTP API and the CLI serve it meanwhile (see the README).</p></div>`
}
