import { html } from 'htm/preact'
import { useState } from 'preact/hooks'

/** Children shown per step of an array or object; more appear on request. */
export const TREE_PAGE = 100
/** Characters of a string shown before "show all". */
export const TREE_STRING = 2_000

/** Rough size of a JSON value, stopping once past `limit` (cheap on huge values). */
export function sizeAtLeast(v: unknown, limit: number): number {
  let n = 0
  const stack: unknown[] = [v]
  while (stack.length > 0 && n <= limit) {
    const x = stack.pop()
    if (x === null || typeof x !== 'object') {
      n += typeof x === 'string' ? x.length + 2 : 6
      continue
    }
    if (Array.isArray(x)) {
      n += 2 + x.length
      for (let i = 0; i < x.length && n <= limit; i++) stack.push(x[i])
    } else {
      for (const k in x as Record<string, unknown>) {
        n += k.length + 4
        stack.push((x as Record<string, unknown>)[k])
        if (n > limit) break
      }
    }
  }
  return n
}

function Scalar({ value }: { value: unknown }) {
  const [all, setAll] = useState(false)
  if (typeof value === 'string') {
    const cut = !all && value.length > TREE_STRING
    return html`<span class="j-str">"${cut ? value.slice(0, TREE_STRING) : value}${cut ? '…' : ''}"</span>${
      cut &&
      html` <button type="button" class="link" onClick=${() => setAll(true)}>show all ${value.length.toLocaleString('en-US')} chars</button>`
    }`
  }
  if (value === null) return html`<span class="j-null">null</span>`
  return html`<span class=${`j-${typeof value}`}>${String(value)}</span>`
}

function Node({ name, value, depth, defaultOpen }: { name: string | undefined; value: unknown; depth: number; defaultOpen: boolean }) {
  const isObj = value !== null && typeof value === 'object'
  const [open, setOpen] = useState(defaultOpen)
  const [shown, setShown] = useState(TREE_PAGE)
  const label = name === undefined ? null : html`<span class="j-key">${name}</span>: `
  if (!isObj) return html`<div class="j-row">${label}<${Scalar} value=${value} /></div>`
  const arr = Array.isArray(value)
  const keys = arr ? null : Object.keys(value as object)
  const count = arr ? (value as unknown[]).length : keys!.length
  const summary = arr ? `[${count}]` : `{${count}}`
  return html`<div class="j-node">
    <button type="button" class="j-toggle" aria-expanded=${open} onClick=${() => setOpen(!open)}>
      <span class="caret">${open ? '▾' : '▸'}</span>${label}<span class="j-sum">${summary}</span>
    </button>
    ${
      open &&
      html`<div class="j-children">
        ${Array.from({ length: Math.min(shown, count) }, (_, i) => {
          const k = arr ? String(i) : keys![i]!
          const v = arr ? (value as unknown[])[i] : (value as Record<string, unknown>)[k]
          return html`<${Node} key=${k} name=${k} value=${v} depth=${depth + 1} defaultOpen=${depth < 1 && sizeAtLeast(v, 4000) < 4000} />`
        })}
        ${
          count > shown &&
          html`<button type="button" class="link" onClick=${() => setShown(shown + TREE_PAGE * 10)}>
            show ${Math.min(TREE_PAGE * 10, count - shown).toLocaleString('en-US')} more of ${(count - shown).toLocaleString('en-US')}
          </button>`
        }
      </div>`
    }
  </div>`
}

/**
 * A collapsible view of any JSON value. Children render only when opened and in pages of
 * {@link TREE_PAGE}; long strings are cut at {@link TREE_STRING}: a megabyte of input costs what
 * is on screen.
 */
export function JsonTree({ value, open = true }: { value: unknown; open?: boolean }) {
  return html`<div class="json-tree"><${Node} name=${undefined} value=${value} depth=${0} defaultOpen=${open} /></div>`
}
