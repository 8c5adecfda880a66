import { html } from 'htm/preact'
import { useLayoutEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'

/** Colours of series in order (versions, phases): distinguishable in light and dark themes. */
export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c']

/**
 * Stroke width of every line, CSS pixels. One pixel, not more: without a GPU (headless Chromium,
 * many VMs) the canvas rasterizes a 1-pixel stroke on its hairline path, while a 1.5-pixel stroke
 * of a 720-point jagged line took 100 to 400 ms per chart to rasterize (bench:dashboard overview).
 */
export const LINE_WIDTH = 1

/** One line; `band` draws the interval [lo, hi] around it. */
export interface ChartSeries {
  label: string
  values: (number | null)[]
  band?: { lo: (number | null)[]; hi: (number | null)[] }
  dash?: boolean
  color?: string
}

/** Options of {@link TimeChart}. */
export interface TimeChartProps {
  /** Epoch seconds, ascending. */
  x: number[]
  series: ChartSeries[]
  /** Formats a y value for the axis and the legend. Default: as is. */
  fmt?: (v: number) => string
  height?: number
  title: string
  /** Draw points as bars (counts). Default false. */
  bars?: boolean
}

/** Builds the uPlot data and options of a chart (pure; the component only mounts them). */
export function chartConfig(p: TimeChartProps, width: number): { opts: uPlot.Options; data: uPlot.AlignedData } {
  const data: (number | null)[][] = [p.x]
  const series: uPlot.Series[] = [{}]
  const bands: uPlot.Band[] = []
  const fmt = p.fmt ?? ((v: number) => String(v))
  p.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!
    data.push(s.values)
    const idx = data.length - 1
    series.push({
      label: s.label,
      stroke: color,
      width: LINE_WIDTH,
      spanGaps: false,
      ...(s.dash ? { dash: [6, 4] } : {}),
      ...(p.bars ? { paths: uPlot.paths.bars!({ size: [0.8, 12] }), fill: `${color}99` } : {}),
      value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : fmt(v)),
      points: { show: p.x.length < 60 },
    })
    if (s.band) {
      data.push(s.band.hi, s.band.lo)
      series.push(
        { label: `${s.label} high`, stroke: 'transparent', points: { show: false }, band: true } as uPlot.Series,
        { label: `${s.label} low`, stroke: 'transparent', points: { show: false }, band: true } as uPlot.Series,
      )
      bands.push({ series: [idx + 1, idx + 2], fill: `${color}22` })
    }
  })
  const opts: uPlot.Options = {
    width,
    height: p.height ?? 180,
    series,
    bands,
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false }, points: { size: 5 } },
    scales: { x: { time: true } },
    axes: [
      { stroke: 'currentColor', grid: { stroke: 'rgba(127,127,127,0.15)' }, ticks: { stroke: 'rgba(127,127,127,0.3)' } },
      { stroke: 'currentColor', grid: { stroke: 'rgba(127,127,127,0.15)' }, values: (_u, vals) => vals.map((v) => fmt(v)), size: 64 },
    ],
  }
  return { opts, data: data as uPlot.AlignedData }
}

type Mount = { el: HTMLElement; live: () => boolean; create: (width: number) => void }
const mounts: Mount[] = []

/**
 * Charts mounted in one render are created together: every box width is read first (one layout),
 * then every chart is built. Reading a width after the previous chart's DOM went in forced a
 * layout of the whole page per chart.
 */
function mountSoon(m: Mount): void {
  mounts.push(m)
  if (mounts.length > 1) return
  queueMicrotask(() => {
    const batch = mounts.splice(0).filter((x) => x.live())
    const widths = batch.map((x) => x.el.clientWidth)
    batch.forEach((x, i) => x.create(Math.max(200, widths[i]!)))
  })
}

/**
 * A time-series chart (uPlot): resizes with its box; zoom by dragging, double-click to reset.
 * Built in a layout effect, in the task that put its box in the DOM: a plain effect waited for the
 * next frame and a timer first (tens of ms, hundreds on a loaded machine).
 */
export function TimeChart(p: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | undefined>(undefined)
  useLayoutEffect(() => {
    const el = box.current
    if (!el) return
    let live = true
    let ro: ResizeObserver | undefined
    mountSoon({
      el,
      live: () => live,
      create: (width) => {
        const { opts, data } = chartConfig(p, width)
        plot.current?.destroy()
        const u = new uPlot(opts, data, el)
        plot.current = u
        // Band edges are series too; only the lines belong in the legend.
        const rows = u.root.querySelectorAll<HTMLElement>('.u-legend .u-series')
        opts.series.forEach((s, i) => {
          if ((s as { band?: boolean }).band) rows[i]?.style.setProperty('display', 'none')
        })
        ro = new ResizeObserver((entries) => {
          const w = Math.max(200, Math.round(entries[0]?.contentRect.width ?? width))
          if (plot.current && Math.abs(plot.current.width - w) > 2) plot.current.setSize({ width: w, height: p.height ?? 180 })
        })
        ro.observe(el)
      },
    })
    return () => {
      live = false
      ro?.disconnect()
      plot.current?.destroy()
      plot.current = undefined
    }
  }, [p.x, p.series, p.height, p.bars])
  return html`<figure class="chart"><figcaption>${p.title}</figcaption><div ref=${box} class="chart-box" role="img" aria-label=${p.title}></div></figure>`
}
