import { html } from 'htm/preact'
import { PageHead } from '../ui/components.js'

/** Review: not in this build yet. */
export default function ReviewPage() {
  return html`<div><${PageHead} title="Review" /><p class="muted">This page is not built yet; the HTTP API and the CLI serve it meanwhile (see the README).</p></div>`
}
