import { html } from 'htm/preact'
import { PageHead } from '../ui/components.js'

/** Datasets: not in this build yet. */
export default function DatasetsPage() {
  return html`<div><${PageHead} title="Datasets" /><p class="muted">This page is not built yet; the HTTP API and the CLI serve it meanwhile (see the README).</p></div>`
}
