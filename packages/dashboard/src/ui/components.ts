import type { ComponentChildren } from 'preact'
import { html } from 'htm/preact'
import type { ApiError } from '../api/api-client.js'

/** What a failed call means to a person, and what they can do about it. */
export function explain(e: ApiError): { title: string; detail: string; retrying: boolean } {
  switch (true) {
    case e.code === 'network':
      return { title: 'The server cannot be reached', detail: 'Is inferlog serve running? Retrying every few seconds.', retrying: true }
    case e.code === 'timeout':
      return { title: 'The server is slow', detail: `${e.message}. Retrying; narrow the filters if it keeps happening.`, retrying: true }
    case e.status === 401:
      return { title: 'Sign-in needed', detail: `${e.message}`, retrying: false }
    case e.status === 403:
      return { title: 'Not allowed', detail: e.message, retrying: false }
    case e.status === 410 || e.code === 'erased':
      return { title: 'Erased', detail: `This record was erased by an audited erasure request: ${e.message}`, retrying: false }
    case e.status === 404:
      return { title: 'Not found', detail: e.message, retrying: false }
    case e.status === 503:
      return { title: 'The server is busy or unavailable', detail: `${e.message}. Retrying.`, retrying: true }
    default:
      return { title: e.code.replace(/_/g, ' '), detail: e.message, retrying: false }
  }
}

/** A failed load: what happened, a retry button, and a sign-in link for a 401. */
export function ErrorBox({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  const x = explain(error)
  return html`<div class="error-box" role="alert" data-code=${error.code} data-status=${error.status}>
    <strong>${x.title}</strong>
    <p>${x.detail}</p>
    <div class="row">
      ${onRetry && html`<button type="button" onClick=${onRetry}>Retry now</button>`}
      ${error.status === 401 && html`<a class="button" href="/signin">Sign in</a>`}
    </div>
  </div>`
}

/** A small loading line (announced to screen readers). */
export function Loading({ what = 'Loading' }: { what?: string }) {
  return html`<p class="loading" role="status" aria-live="polite">${what}…</p>`
}

/** An empty result, with a hint of how to get something there. */
export function Empty({ children }: { children: ComponentChildren }) {
  return html`<div class="empty">${children}</div>`
}

/** A titled block of a page. */
export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return html`<section class="card">
    <header class="card-head"><h2>${title}</h2>${actions && html`<div class="actions">${actions}</div>`}</header>
    ${children}
  </section>`
}

/** Label/value rows. */
export function KeyValues({ rows }: { rows: [string, ComponentChildren][] }) {
  return html`<dl class="kv">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`
}

/** A coloured tag: `ok`, `warn`, `bad`, or neutral. */
export function Badge({ kind, children }: { kind?: 'ok' | 'warn' | 'bad' | undefined; children: ComponentChildren }) {
  return html`<span class=${`badge ${kind ?? ''}`}>${children}</span>`
}

/** A page's heading with optional controls to its right. */
export function PageHead({ title, children }: { title: string; children?: ComponentChildren }) {
  return html`<div class="page-head"><h1>${title}</h1>${children && html`<div class="page-tools">${children}</div>`}</div>`
}
