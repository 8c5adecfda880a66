import { html } from 'htm/preact'
import { histogramRows } from '../drift-data.js'
import { PlotFigure } from './plot-figure.js'

const COLORS = { reference: '#64748b', current: '#2563eb' }

/** Reference vs current distribution of one field (Observable Plot): overlaid bins, or grouped bars per category. */
export function HistogramChart({ field, reference, current }: { field: string; reference: unknown[]; current: unknown[] }) {
  const h = histogramRows(reference, current)
  if (h.rows.length === 0) return html`<p class="muted small">No values of ${field} in the samples.</p>`
  return html`<${PlotFigure}
    label=${`${field}: reference vs current`}
    deps=${[field, reference, current]}
    draw=${(Plot: typeof import('@observablehq/plot'), width: number) =>
      h.kind === 'numeric'
        ? Plot.plot({
            width,
            height: 160,
            marginLeft: 40,
            y: { label: 'share', grid: true, tickFormat: '%' },
            x: { label: field },
            color: { domain: ['reference', 'current'], range: [COLORS.reference, COLORS.current], legend: true },
            marks: [Plot.rectY(h.rows, { x1: 'x1', x2: 'x2', y: 'share', fill: 'window', fillOpacity: 0.45, inset: 0.5 }), Plot.ruleY([0])],
          })
        : Plot.plot({
            width,
            height: 50 + 22 * new Set(h.rows.map((r) => r.category)).size,
            marginLeft: 120,
            x: { label: 'share', grid: true, tickFormat: '%' },
            y: { label: null },
            color: { domain: ['reference', 'current'], range: [COLORS.reference, COLORS.current], legend: true },
            marks: [Plot.gridY({ stroke: '#ccc' }), Plot.dot(h.rows, { x: 'share', y: 'category', fill: 'window', r: 5 })],
          })}
  />`
}
