import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { JsonTree, TREE_STRING } from '../ui/json-tree.js'

type ChatMessage = { role: string; content: unknown; name?: string }

/** Chat messages, as an array or under `messages`: `[{role, content}, …]`. */
export function chatMessages(v: unknown): ChatMessage[] | undefined {
  // One message on its own (a chat model's output) is a conversation of one.
  if (
    v &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    typeof (v as ChatMessage).role === 'string' &&
    'content' in v &&
    Object.keys(v).length <= 4
  )
    return [v as ChatMessage]
  const list = Array.isArray(v)
    ? v
    : v && typeof v === 'object' && Array.isArray((v as { messages?: unknown }).messages)
      ? (v as { messages: unknown[] }).messages
      : undefined
  if (!list || list.length === 0) return undefined
  for (const m of list) {
    if (!m || typeof m !== 'object' || typeof (m as ChatMessage).role !== 'string' || !('content' in (m as object))) return undefined
  }
  return list as ChatMessage[]
}

const isScalar = (x: unknown) => x === null || ['string', 'number', 'boolean'].includes(typeof x)

/** A flat object of scalars (features), at most 500 keys. */
export function tabularRecord(v: unknown): [string, unknown][] | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined
  const entries = Object.entries(v)
  if (entries.length === 0 || entries.length > 500) return undefined
  return entries.every(([, x]) => isScalar(x)) ? entries : undefined
}

/** An array of flat objects (rows of features), at most 10 000 rows. */
export function tabularRows(v: unknown): { columns: string[]; rows: Record<string, unknown>[] } | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.length > 10_000) return undefined
  const columns = new Set<string>()
  for (const r of v) {
    if (!tabularRecord(r)) return undefined
    for (const k of Object.keys(r)) columns.add(k)
    if (columns.size > 100) return undefined
  }
  return { columns: [...columns], rows: v as Record<string, unknown>[] }
}

/** What kind of value this is, for choosing how to show it. */
export function valueKind(v: unknown): 'chat' | 'record' | 'rows' | 'text' | 'scalar' | 'json' {
  if (typeof v === 'string') return 'text'
  if (isScalar(v)) return 'scalar'
  if (chatMessages(v)) return 'chat'
  if (tabularRecord(v)) return 'record'
  if (tabularRows(v)) return 'rows'
  return 'json'
}

function LongText({ text }: { text: string }) {
  const [all, setAll] = useState(false)
  const cut = !all && text.length > TREE_STRING * 5
  return html`<div class="long-text"><pre>${cut ? text.slice(0, TREE_STRING * 5) : text}${cut ? '…' : ''}</pre>${
    cut &&
    html`<button type="button" class="link" onClick=${() => setAll(true)}>show all ${text.length.toLocaleString('en-US')} characters</button>`
  }</div>`
}

function contentText(c: unknown): string | undefined {
  if (typeof c === 'string') return c
  if (Array.isArray(c)) {
    const parts = c.map((p) =>
      typeof p === 'string'
        ? p
        : p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string'
          ? (p as { text: string }).text
          : undefined,
    )
    if (parts.every((p) => p !== undefined)) return parts.join('\n')
  }
  return undefined
}

function Conversation({ messages }: { messages: ChatMessage[] }) {
  const [shown, setShown] = useState(50)
  return html`<ol class="chat">
    ${messages.slice(0, shown).map((m) => {
      const text = contentText(m.content)
      return html`<li class=${`msg role-${m.role.replace(/[^a-z]/gi, '')}`}>
        <div class="role">${m.role}${m.name ? ` · ${m.name}` : ''}</div>
        ${text !== undefined ? html`<${LongText} text=${text} />` : html`<${JsonTree} value=${m.content} />`}
      </li>`
    })}
    ${messages.length > shown && html`<li><button type="button" class="link" onClick=${() => setShown(shown + 200)}>show more messages (${messages.length - shown} left)</button></li>`}
  </ol>`
}

function Cell({ value }: { value: unknown }) {
  const [all, setAll] = useState(false)
  if (typeof value !== 'string') return html`<code>${value === null ? 'null' : String(value)}</code>`
  const cut = !all && value.length > 500
  return html`<code class="break">${cut ? `${value.slice(0, 500)}…` : value}</code>${
    cut &&
    html` <button type="button" class="link" onClick=${() => setAll(true)}>show all ${value.length.toLocaleString('en-US')} chars</button>`
  }`
}

function RecordTable({ entries }: { entries: [string, unknown][] }) {
  return html`<table class="kv-table"><tbody>
    ${entries.map(([k, v]) => html`<tr><th scope="row">${k}</th><td><${Cell} value=${v} /></td></tr>`)}
  </tbody></table>`
}

function RowsTable({ columns, rows }: { columns: string[]; rows: Record<string, unknown>[] }) {
  const [shown, setShown] = useState(100)
  return html`<div class="table-wrap"><table>
    <thead><tr>${columns.map((c) => html`<th>${c}</th>`)}</tr></thead>
    <tbody>${rows.slice(0, shown).map((r) => html`<tr>${columns.map((c) => html`<td>${r[c] === undefined ? '' : String(r[c]).slice(0, 200)}</td>`)}</tr>`)}</tbody>
  </table>${rows.length > shown && html`<button type="button" class="link" onClick=${() => setShown(shown + 500)}>show more rows (${rows.length - shown} left)</button>`}</div>`
}

/** Input or output as what it is: a conversation, a feature table, text, or a collapsible JSON tree. */
export function ValueView({ value }: { value: unknown }) {
  const [raw, setRaw] = useState(false)
  const kind = valueKind(value)
  let body
  if (raw || kind === 'json') body = html`<${JsonTree} value=${value} />`
  else if (kind === 'text') body = html`<${LongText} text=${value as string} />`
  else if (kind === 'scalar') body = html`<code class="scalar">${String(value)}</code>`
  else if (kind === 'chat') body = html`<${Conversation} messages=${chatMessages(value)!} />`
  else if (kind === 'record') body = html`<${RecordTable} entries=${tabularRecord(value)!} />`
  else body = html`<${RowsTable} ...${tabularRows(value)!} />`
  return html`<div class="value-view" data-kind=${kind}>
    ${kind !== 'json' && kind !== 'scalar' && html`<button type="button" class="link raw-toggle" onClick=${() => setRaw(!raw)}>${raw ? 'formatted' : 'JSON'}</button>`}
    ${body}
  </div>`
}
