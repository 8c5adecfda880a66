import { html } from 'htm/preact'
import { useApp } from '../ui/app-context.js'
import { Empty, PageHead } from '../ui/components.js'

/** An address no page answers. */
export default function NotFoundPage() {
  const { route } = useApp()
  return html`<div><${PageHead} title="Not found" /><${Empty}>No page at <code>${route.path}</code>. <a href="/">Go to the overview</a>.</${Empty}></div>`
}
