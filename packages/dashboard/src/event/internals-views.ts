import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { fmtNum } from '../format.js'
import { extent, isTensor, tensorValues } from '../tensor.js'
import { JsonTree } from '../ui/json-tree.js'

/** Diverging colour of `v` in [-1, 1]: blue for negative, red for positive. */
function diverging(v: number): string {
  const a = Math.min(1, Math.abs(v))
  return v < 0 ? `rgba(37, 99, 235, ${a})` : `rgba(220, 38, 38, ${a})`
}

function useCanvas(draw: (ctx: CanvasRenderingContext2D, w: number, h: number) => void, deps: unknown[]) {
  const ref = useRef<HTMLCanvasElement>(null)
  useEffect(() => {
    const c = ref.current
    const ctx = c?.getContext('2d')
    if (!c || !ctx) return
    const dpr = window.devicePixelRatio || 1
    const w = c.clientWidth || 300
    const h = c.clientHeight || 120
    c.width = Math.round(w * dpr)
    c.height = Math.round(h * dpr)
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    ctx.clearRect(0, 0, w, h)
    draw(ctx, w, h)
  }, deps)
  return ref
}

/** An embedding `[d]` as a strip of signed bars; `[n, d]` as rows of a heat strip (at most 200 rows drawn). */
export function EmbeddingPlot({ tensor }: { tensor: unknown }) {
  let values: Float64Array | undefined
  let shape: number[] = []
  let error: string | undefined
  try {
    if (isTensor(tensor)) {
      values = tensorValues(tensor)
      shape = tensor.shape
    } else if (Array.isArray(tensor) && tensor.every((x) => typeof x === 'number')) {
      values = Float64Array.from(tensor as number[])
      shape = [values.length]
    } else error = 'not a tensor'
  } catch (e) {
    error = (e as Error).message
  }
  const [lo, hi] = values ? extent(values) : [0, 0]
  const scale = Math.max(Math.abs(lo), Math.abs(hi)) || 1
  const d = shape[shape.length - 1] ?? 0
  const rows = shape.length > 1 ? Math.min(200, values ? values.length / Math.max(1, d) : 0) : 1
  let norm = 0
  if (values && shape.length === 1) for (const x of values) norm += x * x
  const ref = useCanvas(
    (ctx, w, h) => {
      if (!values || d === 0) return
      const cw = w / d
      const rh = h / rows
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < d; i++) {
          const v = values[r * d + i]! / scale
          ctx.fillStyle = diverging(v)
          if (rows === 1) {
            const bh = (Math.abs(v) * h) / 2
            ctx.fillRect(i * cw, v >= 0 ? h / 2 - bh : h / 2, Math.max(cw, 0.5), bh)
          } else ctx.fillRect(i * cw, r * rh, Math.max(cw, 0.5), Math.max(rh, 0.5))
        }
      }
    },
    [tensor],
  )
  if (error) return html`<p class="error-text">Cannot read the embedding: ${error}</p>`
  return html`<figure class="embedding">
    <canvas ref=${ref} class="strip" role="img" aria-label=${`embedding of shape [${shape.join(', ')}]`}></canvas>
    <figcaption class="muted small">shape [${shape.join(', ')}] · range ${fmtNum(lo)} … ${fmtNum(hi)}${shape.length === 1 ? ` · L2 norm ${fmtNum(Math.sqrt(norm))}` : ''}${rows < (values?.length ?? 0) / Math.max(1, d) ? ` · first ${rows} rows drawn` : ''}</figcaption>
  </figure>`
}

/** Attention `[heads, queries, keys]` (or `[queries, keys]`) as a matrix per head; large ones are downsampled to 400×400 cells. */
export function AttentionMatrix({ tensor, tokens }: { tensor: unknown; tokens?: string[] | undefined }) {
  const [head, setHead] = useState(0)
  const [hover, setHover] = useState<string | undefined>()
  let values: Float64Array | undefined
  let error: string | undefined
  let heads = 1
  let q = 0
  let k = 0
  try {
    if (!isTensor(tensor)) throw new Error('not a tensor')
    values = tensorValues(tensor)
    const s = tensor.shape
    if (s.length === 3) [heads, q, k] = s as [number, number, number]
    else if (s.length === 2) [q, k] = s as [number, number]
    else throw new Error(`shape [${s.join(', ')}] is not [heads, queries, keys]`)
  } catch (e) {
    error = (e as Error).message
  }
  const h = Math.min(head, heads - 1)
  const cellsQ = Math.min(q, 400)
  const cellsK = Math.min(k, 400)
  const ref = useCanvas(
    (ctx, w, hh) => {
      if (!values || q === 0 || k === 0) return
      const base = h * q * k
      let max = 0
      for (let i = 0; i < q * k; i++) max = Math.max(max, values[base + i]!)
      max = max || 1
      const cw = w / cellsK
      const ch = hh / cellsQ
      for (let a = 0; a < cellsQ; a++) {
        const qi = Math.floor((a * q) / cellsQ)
        for (let b = 0; b < cellsK; b++) {
          const ki = Math.floor((b * k) / cellsK)
          const v = values[base + qi * k + ki]! / max
          ctx.fillStyle = `rgba(124, 58, 237, ${Math.max(0, Math.min(1, v))})`
          ctx.fillRect(b * cw, a * ch, Math.ceil(cw), Math.ceil(ch))
        }
      }
    },
    [tensor, h],
  )
  if (error) return html`<p class="error-text">Cannot read the attention: ${error}</p>`
  const move = (e: MouseEvent) => {
    const c = e.currentTarget as HTMLCanvasElement
    const r = c.getBoundingClientRect()
    const qi = Math.floor(((e.clientY - r.top) / r.height) * q)
    const ki = Math.floor(((e.clientX - r.left) / r.width) * k)
    if (qi < 0 || ki < 0 || qi >= q || ki >= k || !values) return
    const v = values[h * q * k + qi * k + ki]!
    setHover(
      `query ${qi}${tokens?.[qi] ? ` ${JSON.stringify(tokens[qi])}` : ''} → key ${ki}${tokens?.[ki] ? ` ${JSON.stringify(tokens[ki])}` : ''}: ${v.toFixed(4)}`,
    )
  }
  return html`<figure class="attention">
    ${
      heads > 1 &&
      html`<label>Head <select value=${h} onChange=${(e: Event) => setHead(Number((e.target as HTMLSelectElement).value))}>
      ${Array.from({ length: heads }, (_, i) => html`<option value=${i}>${i}</option>`)}</select></label>`
    }
    <canvas ref=${ref} class="matrix" onMouseMove=${move} role="img" aria-label=${`attention of head ${h}: ${q} queries × ${k} keys`}></canvas>
    <figcaption class="muted small">${q} queries × ${k} keys${heads > 1 ? ` · ${heads} heads` : ''}${cellsQ < q || cellsK < k ? ' · downsampled' : ''} ${hover ? html`· <span>${hover}</span>` : ''}</figcaption>
  </figure>`
}

/** Feature attributions `{FEATURE: number}` as signed bars, largest magnitude first (top 30, more on request). */
export function Attributions({ value }: { value: unknown }) {
  const [all, setAll] = useState(false)
  if (!value || typeof value !== 'object' || Array.isArray(value)) return html`<${JsonTree} value=${value} />`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
  const max = Math.max(...entries.map(([, v]) => Math.abs(v)), 1e-12)
  const shown = all ? entries : entries.slice(0, 30)
  return html`<div class="bars" data-testid="attributions">
    ${shown.map(
      ([k, v]) => html`<div class="bar-row"><span class="bar-label" title=${k}>${k}</span>
        <span class="bar-track"><span class=${`bar ${v < 0 ? 'neg' : 'pos'}`} style=${`width:${(Math.abs(v) / max) * 50}%;${v < 0 ? 'right:50%' : 'left:50%'}`}></span></span>
        <span class="bar-value">${fmtNum(v)}</span></div>`,
    )}
    ${entries.length > shown.length && html`<button type="button" class="link" onClick=${() => setAll(true)}>show all ${entries.length}</button>`}
  </div>`
}

/** Class probabilities or logits `[classes]` with their labels, as bars. */
export function ClassBars({ tensor, labels, softmax }: { tensor: unknown; labels?: unknown; softmax: boolean }) {
  let values: Float64Array
  try {
    values = isTensor(tensor) ? tensorValues(tensor) : Float64Array.from(tensor as number[])
  } catch (e) {
    return html`<p class="error-text">Cannot read: ${(e as Error).message}</p>`
  }
  let probs = Array.from(values)
  if (softmax) {
    const m = Math.max(...probs)
    const ex = probs.map((x) => Math.exp(x - m))
    const s = ex.reduce((a, b) => a + b, 0)
    probs = ex.map((x) => x / s)
  }
  const names = Array.isArray(labels) ? labels.map(String) : []
  const order = probs
    .map((p, i) => [p, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, 50)
  return html`<div class="bars">
    ${order.map(
      ([p, i]) => html`<div class="bar-row"><span class="bar-label">${names[i] ?? `#${i}`}</span>
        <span class="bar-track"><span class="bar pos" style=${`width:${Math.max(0, Math.min(1, p)) * 100}%;left:0`}></span></span>
        <span class="bar-value">${p.toFixed(4)}</span></div>`,
    )}
  </div>`
}

interface PathStep {
  node?: unknown
  feature?: unknown
  threshold?: unknown
  value?: unknown
  went?: unknown
}

/** A tree's decision path `[{node, feature, threshold, value, went}]` as nested steps down to the leaf. */
export function DecisionPath({ value }: { value: unknown }) {
  if (!Array.isArray(value)) return html`<${JsonTree} value=${value} />`
  const steps = value as PathStep[]
  const render = (i: number): unknown => {
    if (i >= steps.length) return null
    const s = steps[i]!
    const leaf = s.feature === undefined || s.feature === null
    const cmp = s.went === 'left' ? '≤' : s.went === 'right' ? '>' : '?'
    return html`<li>
      <span class="node">node ${String(s.node ?? i)}</span>
      ${
        leaf
          ? html` leaf${s.value !== undefined ? html` → <code>${JSON.stringify(s.value)}</code>` : ''}`
          : html` <code>${String(s.feature)}</code> = <code>${JSON.stringify(s.value)}</code> ${cmp} ${String(s.threshold)} <span class="muted">(went ${String(s.went)})</span>`
      }
      ${i + 1 < steps.length && html`<ul>${render(i + 1)}</ul>`}
    </li>`
  }
  return html`<ul class="tree" data-testid="decision-path">${render(0)}</ul>`
}
