import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'

type PlotModule = typeof import('@observablehq/plot')

let loading: Promise<PlotModule> | undefined
/** Observable Plot, loaded on first use (it stays out of the first page's bundle). */
export function loadPlot(): Promise<PlotModule> {
  loading ??= import('@observablehq/plot')
  return loading
}

/**
 * A figure drawn by Observable Plot: `draw` gets the module and the box width and returns the SVG
 * (or figure) element. Redrawn when `deps` change or the box is resized.
 */
export function PlotFigure({ draw, deps, label }: { draw: (Plot: PlotModule, width: number) => Element; deps: unknown[]; label: string }) {
  const box = useRef<HTMLDivElement>(null)
  const [error, setError] = useState<string | undefined>()
  const [width, setWidth] = useState(0)
  useEffect(() => {
    const el = box.current
    if (!el) return
    setWidth(el.clientWidth)
    const ro = new ResizeObserver(() => setWidth((w) => (Math.abs(w - el.clientWidth) > 4 ? el.clientWidth : w)))
    ro.observe(el)
    return () => ro.disconnect()
  }, [])
  useEffect(() => {
    const el = box.current
    if (!el || width === 0) return
    let live = true
    loadPlot().then(
      (Plot) => {
        if (!live) return
        try {
          el.replaceChildren(draw(Plot, Math.max(240, width)))
        } catch (e) {
          setError((e as Error).message)
        }
      },
      (e: Error) => live && setError(`the chart library did not load: ${e.message}`),
    )
    return () => {
      live = false
    }
  }, [...deps, width])
  return html`<div class="plot-figure" role="img" aria-label=${label}>
    <div ref=${box}></div>
    ${error && html`<p class="error-text">${error}</p>`}
  </div>`
}
