import { html } from 'htm/preact'
import { PageHead } from '../ui/components.js'

/** Alerts: not in this build yet. */
export default function AlertsPage() {
  return html`<div><${PageHead} title="Alerts" /><p class="muted">This page is not built yet; the HTTP API and the CLI serve it meanwhile (see the README).</p></div>`
}
