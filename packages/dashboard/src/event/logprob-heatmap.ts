import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { isTensor, tensorValues } from '../tensor.js'

/** `internals.token_logprobs` as DESIGN.md names it. */
export interface TokenLogprobs {
  tokens: string[]
  logprobs: Float64Array
  top: { token: string; logprob: number }[][] | undefined
}

/** Reads `token_logprobs` (`{tokens, logprobs: tensor [n] | number[], top?}`); undefined when it is not that shape. */
export function readTokenLogprobs(v: unknown): TokenLogprobs | undefined {
  if (!v || typeof v !== 'object') return undefined
  const o = v as { tokens?: unknown; logprobs?: unknown; top?: unknown }
  if (!Array.isArray(o.tokens)) return undefined
  let logprobs: Float64Array
  try {
    if (isTensor(o.logprobs)) logprobs = tensorValues(o.logprobs)
    else if (Array.isArray(o.logprobs)) logprobs = Float64Array.from(o.logprobs as number[])
    else return undefined
  } catch {
    return undefined
  }
  const tokens = o.tokens.map((t) => (typeof t === 'string' ? t : String(t)))
  const top = Array.isArray(o.top) ? (o.top as TokenLogprobs['top']) : undefined
  return { tokens, logprobs, top }
}

/** Heat class 0 (probable) .. 9 (improbable) of a log-probability. */
export function heatClass(logprob: number): number {
  if (!Number.isFinite(logprob)) return 9
  const p = Math.exp(Math.min(0, logprob))
  return Math.min(9, Math.max(0, Math.floor((1 - p) * 10)))
}

/** Tokens drawn per step; the rest on request, so 50 000 tokens never block the tab. */
export const HEATMAP_STEP = 2_000

/**
 * The generated text with each token shaded by its probability, the top-k alternatives on hover or
 * on keyboard focus (arrow keys move between tokens). Spans are built directly in the DOM in steps
 * of {@link HEATMAP_STEP}, one listener for all of them.
 */
export function LogprobHeatmap({ data }: { data: TokenLogprobs }) {
  const box = useRef<HTMLDivElement>(null)
  const [shown, setShown] = useState(Math.min(HEATMAP_STEP, data.tokens.length))
  const [sel, setSel] = useState<number | undefined>()
  const n = data.tokens.length
  useEffect(() => {
    const el = box.current
    if (!el) return
    const have = el.childElementCount
    if (have > shown) {
      el.textContent = ''
    }
    const frag = document.createDocumentFragment()
    for (let i = el.childElementCount; i < shown; i++) {
      const s = document.createElement('span')
      s.className = `tok h${heatClass(data.logprobs[i] ?? Number.NaN)}`
      s.dataset.i = String(i)
      s.textContent = data.tokens[i] ?? ''
      frag.appendChild(s)
    }
    el.appendChild(frag)
  }, [data, shown])
  useEffect(() => {
    const el = box.current
    if (!el) return
    el.querySelector('.tok.sel')?.classList.remove('sel')
    if (sel !== undefined) el.querySelector(`[data-i="${sel}"]`)?.classList.add('sel')
  }, [sel, shown])
  const pick = (e: Event) => {
    const i = Number((e.target as HTMLElement).dataset?.i)
    if (Number.isInteger(i)) setSel(i)
  }
  const key = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return
    e.preventDefault()
    const cur = sel ?? -1
    setSel(Math.max(0, Math.min(shown - 1, cur + (e.key === 'ArrowRight' ? 1 : -1))))
  }
  const lp = sel === undefined ? undefined : data.logprobs[sel]
  const top = sel === undefined ? undefined : data.top?.[sel]
  let mean = 0
  let low = 0
  for (let i = 0; i < n; i++) {
    const x = data.logprobs[i]!
    mean += x / n
    if (Math.exp(x) < 0.5) low++
  }
  return html`<div class="heatmap-wrap">
    <p class="muted small">${n.toLocaleString('en-US')} tokens · mean log-prob ${mean.toFixed(3)} · ${low.toLocaleString('en-US')} below p = 0.5.
      Hover a token, or focus the text and use ← →.</p>
    <div class="heatmap" ref=${box} tabindex="0" role="listbox" aria-label="Generated tokens shaded by probability"
      onMouseOver=${pick} onClick=${pick} onKeyDown=${key}></div>
    ${
      shown < n &&
      html`<button type="button" class="link" onClick=${() => setShown(Math.min(n, shown + HEATMAP_STEP * 5))}>
      show ${Math.min(HEATMAP_STEP * 5, n - shown).toLocaleString('en-US')} more tokens (${(n - shown).toLocaleString('en-US')} left)</button>`
    }
    <div class="token-info" aria-live="polite" data-testid="token-info">
      ${
        sel === undefined
          ? html`<span class="muted">No token selected.</span>`
          : html`<strong>#${sel} <code>${JSON.stringify(data.tokens[sel])}</code></strong>
            log-prob ${lp?.toFixed(4)} · p ${lp === undefined ? '' : Math.exp(lp).toFixed(4)}
            ${
              top && top.length > 0
                ? html`<ol class="topk">${top.slice(0, 20).map((t) => html`<li><code>${JSON.stringify(t.token)}</code> ${Math.exp(t.logprob).toFixed(4)}</li>`)}</ol>`
                : html`<span class="muted"> (no top-k logged)</span>`
            }`
      }
    </div>
  </div>`
}
