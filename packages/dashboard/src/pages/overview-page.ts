import { html } from 'htm/preact'
import { useEffect, useMemo, useRef } from 'preact/hooks'
import type { ApiClient } from '../api/api-client.js'
import type { AlertsView, InferenceEvent, MetricsReply, ModelInfo, Page } from '../api/types.js'
import { TimeChart } from '../charts/time-chart.js'
import { fmtMs, fmtNum, fmtPct, fmtUsd } from '../format.js'
import {
  align,
  chartFields,
  estimatedLines,
  headlineMetric,
  lines,
  metricsQuery,
  qualityLines,
  qualityNames,
  scorePath,
  WINDOWS,
  type WindowName,
} from '../overview-data.js'
import { href, navigate } from '../router.js'
import { useApp } from '../ui/app-context.js'
import { Badge, Empty, ErrorBox, Loading, PageHead, Section } from '../ui/components.js'
import { useApi } from '../ui/use-api.js'

const PHASES = ['total', 'pre', 'inference', 'post', 'ttft']

/** Metrics reads started before the model list arrived, keyed `model window bucket`; each is taken once. */
type EarlyReads = Map<string, Promise<MetricsReply>>

/** Reads a model's window in buckets with only the figures the charts draw ({@link chartFields}). */
function readBuckets(api: ApiClient, model: string, win: WindowName, signal: AbortSignal): Promise<MetricsReply> {
  const fields = chartFields(PHASES)
  return api.get<MetricsReply>('/v1/metrics', { ...metricsQuery(model, win, Date.now()), ...(fields ? { fields } : {}) }, signal)
}

/**
 * Starts the metrics reads of `model` (the one the URL names) beside the model list instead of
 * after it; {@link ModelCharts} takes them when it mounts. Aborted when the page leaves. Call it
 * after the page's other reads: effects run in order, and the server answers the short model list
 * first instead of queueing it behind a month of hourly metrics.
 */
function useEarlyReads(api: ApiClient, model: string | null, win: WindowName): EarlyReads {
  const early = useMemo<EarlyReads>(() => new Map(), [])
  useEffect(() => {
    if (!model) return
    const ctl = new AbortController()
    const all = api.get<MetricsReply>('/v1/metrics', metricsQuery(model, win, Date.now(), 'all'), ctl.signal)
    const buckets = readBuckets(api, model, win, ctl.signal)
    for (const [bucket, p] of [
      ['all', all],
      [WINDOWS[win].bucket, buckets],
    ] as const) {
      // Nobody may take it (the model has no traffic): its failure is not an unhandled rejection.
      p.catch(() => undefined)
      early.set(`${model} ${win} ${bucket}`, p)
    }
    return () => {
      ctl.abort()
      early.clear()
    }
  }, [api, model, win, early])
  return early
}

function Tile({ label, value, sub }: { label: string; value: string; sub?: string | undefined }) {
  return html`<div class="tile"><div class="tile-label">${label}</div><div class="tile-value">${value}</div>${sub && html`<div class="tile-sub muted">${sub}</div>`}</div>`
}

/** Reloads `reload` when the live stream reports new events or metrics for `model` (at most every `everyMs`). */
function useLiveRefresh(model: string | undefined, reload: () => void, everyMs = 10_000) {
  const last = useRef(Date.now())
  useEffect(() => {
    if (!model || typeof EventSource === 'undefined') return
    const es = new EventSource(`/v1/stream?${new URLSearchParams({ model, metrics: '1', metrics_interval_ms: String(everyMs) })}`)
    let timer: ReturnType<typeof setTimeout> | undefined
    const poke = () => {
      if (timer) return
      const wait = Math.max(0, everyMs - (Date.now() - last.current))
      timer = setTimeout(() => {
        timer = undefined
        last.current = Date.now()
        reload()
      }, wait)
    }
    es.addEventListener('event', poke)
    es.addEventListener('metrics', poke)
    return () => {
      es.close()
      if (timer) clearTimeout(timer)
    }
  }, [model, reload, everyMs])
}

/**
 * The label-free estimate beside the realized figures (`GET /v1/metrics?estimate=…`), on request
 * only: it reads the window's raw rows, where the rest of the overview reads aggregates.
 */
function EstimateCharts({ model, win, range }: { model: ModelInfo; win: WindowName; range: () => { from: string; to: string } }) {
  const { api } = useApp()
  const label = Object.keys(model.config?.labels ?? {})[0]
  const latest = useApi(
    (signal) => api.get<Page<InferenceEvent>>('/v1/events', { model: model.name, status: 'ok', limit: 1 }, signal),
    [api, model.name],
  )
  const path = scorePath(latest.data?.items[0]?.output)
  const est = useApi(
    (signal) =>
      label && path
        ? api.get<MetricsReply>(
            '/v1/metrics',
            { model: model.name, bucket: WINDOWS[win].bucket, group_by: 'version', estimate: label, ...path, ...range() },
            signal,
          )
        : Promise.resolve(undefined),
    [api, model.name, win, label, path && JSON.stringify(path)],
  )
  if (!label) return html`<p class="muted small">Estimated vs realized needs a declared label (PUT /v1/models/${model.name}).</p>`
  if (latest.data && !path)
    return html`<p class="muted small">Estimated vs realized needs a score or class probabilities in the output.</p>`
  if (est.error) return html`<${ErrorBox} error=${est.error} onRetry=${est.reload} />`
  if (!est.data) return html`<${Loading} what="Estimating from the window's events" />`
  const a = align(est.data)
  const series = estimatedLines(a, label, 'accuracy')
  if (series.length === 0) return html`<p class="muted small">No estimate in this window.</p>`
  return html`<div class="charts"><${TimeChart} title=${`${label}: estimated (dashed, CBPE) vs realized accuracy`} x=${a.x} series=${series} fmt=${(v: number) => fmtNum(v)} /></div>`
}

function ModelCharts({
  model,
  win,
  phase,
  alerts,
  estimate,
  early,
}: {
  model: ModelInfo
  win: WindowName
  phase: string
  alerts: AlertsView | undefined
  estimate: boolean
  early?: EarlyReads | undefined
}) {
  const { api } = useApp()
  const w = WINDOWS[win]
  // Computed at each load, so a live refresh slides the window forward.
  const range = () => {
    const { from, to } = metricsQuery(model.name, win, Date.now())
    return { from, to }
  }
  /** The early read of `bucket` if one is waiting (first load only). */
  const take = (bucket: string) => {
    const key = `${model.name} ${win} ${bucket}`
    const p = early?.get(key)
    early?.delete(key)
    return p
  }
  // The window as one point per version (tiles, the versions table), then its buckets (charts),
  // which read only the figures drawn, named after the feedback found in the first. Effects run
  // in order: each load of `all` sets its promise before the buckets' load reads it.
  const all = useApi(
    (signal) => take('all') ?? api.get<MetricsReply>('/v1/metrics', metricsQuery(model.name, win, Date.now(), 'all'), signal),
    [api, model.name, win],
  )
  // The buckets name their figures with `*` (chartFields), so they go out beside the window read.
  const series = useApi((signal) => take(w.bucket) ?? readBuckets(api, model.name, win, signal), [api, model.name, win])
  const reload = useMemo(
    () => () => {
      series.reload()
      all.reload()
    },
    [series.reload, all.reload],
  )
  useLiveRefresh(model.name, reload)
  const aligned = useMemo(() => (series.data ? align(series.data) : undefined), [series.data])
  const charts = useMemo(() => {
    if (!aligned || !series.data) return undefined
    const labels = qualityNames(series.data)
    return {
      volume: lines(aligned, (p) => p.count),
      errors: lines(aligned, (p) => p.error_rate),
      latency: [
        ...lines(
          aligned,
          (p) => p.latency_ms?.[phase]?.p50,
          (g) => `${g} p50`,
        ),
        ...lines(
          aligned,
          (p) => p.latency_ms?.[phase]?.p99,
          (g) => `${g} p99`,
        ).map((s) => ({ ...s, dash: true })),
      ],
      cost: lines(aligned, (p) => p.usage?.cost_usd),
      quality: labels.map((l) => {
        const m = headlineMetric(series.data!, l) ?? 'accuracy'
        return {
          label: l,
          metric: m,
          lines: qualityLines(aligned, l, m),
          coverage: lines(aligned, (p) => p.quality?.[l]?.coverage),
          est: estimatedLines(aligned, l, m),
        }
      }),
    }
  }, [aligned, phase])
  const firing = (alerts?.rules ?? []).filter(
    (r) => r.state === 'firing' && JSON.stringify(r.rule.condition).includes(JSON.stringify(model.name)),
  )
  const driftRules = (alerts?.rules ?? []).filter(
    (r) =>
      (r.rule.condition.type === 'drift' || r.rule.condition.type === 'concept_drift') &&
      JSON.stringify(r.rule.condition).includes(JSON.stringify(model.name)),
  )
  const tiles = all.data?.series ?? []
  let count = 0
  let errors = 0
  let cost = 0
  for (const s of tiles)
    for (const p of s.points) {
      count += p.count
      errors += p.errors ?? 0
      cost += p.usage?.cost_usd ?? 0
    }
  const err = series.error ?? all.error
  return html`<${Section} title=${model.name} actions=${html`<a href=${href('/events', { model: model.name })}>events</a> · <a href=${href('/drift', { model: model.name })}>drift</a> · <a href=${href('/compare', { model: model.name })}>compare</a>`}>
    ${err && html`<${ErrorBox} error=${err} onRetry=${reload} />`}
    <div class="tiles">
      <${Tile} label="Requests" value=${fmtNum(count)} sub=${`${win} window`} />
      <${Tile} label="Error rate" value=${count > 0 ? fmtPct(errors / count, 2) : '–'} sub=${`${fmtNum(errors)} errors`} />
      <${Tile} label="Cost" value=${fmtUsd(cost)} />
      <${Tile} label="Drift" value=${driftRules.length === 0 ? 'no rule' : driftRules.some((r) => r.state === 'firing') ? 'drifting' : 'ok'}
        sub=${driftRules.length === 0 ? 'add a drift alert rule' : `${driftRules.length} rule(s)`} />
      <${Tile} label="Firing alerts" value=${String(firing.length)} sub=${firing.map((r) => r.rule.name ?? r.rule.id).join(', ') || undefined} />
    </div>
    <div class="table-wrap"><table class="versions">
      <thead><tr><th>Version</th><th class="num">Requests</th><th class="num">Error rate</th><th class="num">p50</th><th class="num">p99</th><th class="num">Cost</th><th>Labels (coverage)</th></tr></thead>
      <tbody>${tiles.map((s) => {
        const p = s.points[0]
        if (!p) return null
        const v = s.group.version ?? ''
        return html`<tr><td><a href=${href('/events', { model: model.name, version: v })}>${v}</a></td><td class="num">${fmtNum(p.count)}</td>
          <td class="num">${fmtPct(p.error_rate, 2)}</td><td class="num">${fmtMs(p.latency_ms?.total?.p50)}</td><td class="num">${fmtMs(p.latency_ms?.total?.p99)}</td>
          <td class="num">${fmtUsd(p.usage?.cost_usd)}</td>
          <td>${Object.entries(p.quality ?? {}).map(([k, q]) => html`<span class="chip">${k} ${fmtPct(q.coverage, 0)}</span>`)}</td></tr>`
      })}</tbody>
    </table></div>
    ${series.loading && !series.data && html`<${Loading} what="Loading metrics" />`}
    ${charts && aligned && aligned.x.length === 0 && html`<${Empty}>No traffic for ${model.name} in this window.</${Empty}>`}
    ${
      charts &&
      aligned &&
      aligned.x.length > 0 &&
      html`<div class="charts">
        <${TimeChart} title="Requests" x=${aligned.x} series=${charts.volume} fmt=${(v: number) => fmtNum(v)} bars=${aligned.x.length < 80} />
        <${TimeChart} title="Error rate" x=${aligned.x} series=${charts.errors} fmt=${(v: number) => fmtPct(v)} />
        <${TimeChart} title=${`Latency ${phase} p50 / p99 (dashed)`} x=${aligned.x} series=${charts.latency} fmt=${(v: number) => fmtMs(v)} />
        <${TimeChart} title="Cost (USD)" x=${aligned.x} series=${charts.cost} fmt=${(v: number) => fmtUsd(v)} />
        ${charts.quality.map(
          (
            q,
          ) => html`<${TimeChart} title=${`${q.label}: ${q.metric} (95% band)`} x=${aligned.x} series=${q.lines} fmt=${(v: number) => fmtNum(v)} />
            <${TimeChart} title=${`${q.label}: label coverage`} x=${aligned.x} series=${q.coverage} fmt=${(v: number) => fmtPct(v, 0)} />`,
        )}
      </div>`
    }
    ${estimate && html`<${EstimateCharts} model=${model} win=${win} range=${range} />`}
  </${Section}>`
}

/** Every model with traffic in the window, per version: volume, errors, latency, cost, quality, drift, alerts. */
export default function OverviewPage() {
  const { api, route } = useApp()
  const win = (route.query.get('window') ?? '24h') as WindowName
  const w = WINDOWS[win] ? win : '24h'
  const phase = PHASES.includes(route.query.get('phase') ?? '') ? route.query.get('phase')! : 'total'
  const from = useMemo(() => new Date(Date.now() - WINDOWS[w].ms).toISOString(), [w])
  const models = useApi((signal) => api.get<{ items: ModelInfo[] }>('/v1/models', { from }, signal), [api, from])
  const alerts = useApi((signal) => api.get<AlertsView>('/v1/alerts', undefined, signal).catch(() => undefined), [api])
  const selected = route.query.get('model')
  const estimate = route.query.get('estimate') === '1'
  const early = useEarlyReads(api, selected, w)
  const list = (models.data?.items ?? []).filter((m) => m.versions.length > 0)
  const shown = selected ? list.filter((m) => m.name === selected) : list.slice(0, 3)
  const set = (k: string, v: string) =>
    navigate(href('/', { window: w, phase, model: selected, estimate: estimate ? '1' : undefined, [k]: v }), true)
  const firing = (alerts.data?.rules ?? []).filter((r) => r.state === 'firing')
  return html`<div>
    <${PageHead} title="Overview">
      <label>Window <select value=${w} onChange=${(e: Event) => set('window', (e.target as HTMLSelectElement).value)}>
        ${Object.keys(WINDOWS).map((k) => html`<option value=${k}>${k}</option>`)}</select></label>
      <label>Latency phase <select value=${phase} onChange=${(e: Event) => set('phase', (e.target as HTMLSelectElement).value)}>
        ${PHASES.map((k) => html`<option value=${k}>${k}</option>`)}</select></label>
      <label>Model <select value=${selected ?? ''} onChange=${(e: Event) => set('model', (e.target as HTMLSelectElement).value)}>
        <option value="">${list.length > 3 ? 'first 3' : 'all'}</option>${list.map((m) => html`<option value=${m.name}>${m.name}</option>`)}</select></label>
      <label title="Label-free estimate (CBPE) beside the realized accuracy; reads the window's events"><input type="checkbox" checked=${estimate}
        onChange=${(e: Event) => set('estimate', (e.target as HTMLInputElement).checked ? '1' : '')} /> estimated vs realized</label>
    </${PageHead}>
    ${
      firing.length > 0 &&
      html`<div class="alert-strip" role="alert"><${Badge} kind="bad">${firing.length} firing</${Badge}>
      ${firing.map((r) => html` <a href="/alerts">${r.rule.name ?? r.rule.id}</a>`)}</div>`
    }
    ${models.error && html`<${ErrorBox} error=${models.error} onRetry=${models.reload} />`}
    ${models.loading && !models.data && html`<${Loading} what="Loading models" />`}
    ${models.data && list.length === 0 && html`<${Empty}>No model has traffic in the last ${w}. Log predictions with the SDK, or widen the window.</${Empty}>`}
    ${
      list.length > 0 &&
      html`<div class="table-wrap"><table class="models" data-testid="models-table">
        <thead><tr><th>Model</th><th>Versions in window</th><th class="num">Events (all time)</th><th class="num">Errors</th></tr></thead>
        <tbody>${list.map(
          (m) => html`<tr><td><a href=${href('/', { window: w, phase, model: m.name })}>${m.name}</a></td>
          <td>${m.versions.map((v) => html`<span class="chip">${v.version}</span>`)}</td>
          <td class="num">${fmtNum(m.versions.reduce((a, v) => a + v.events, 0))}</td><td class="num">${fmtNum(m.versions.reduce((a, v) => a + v.errors, 0))}</td></tr>`,
        )}</tbody>
      </table></div>`
    }
    ${shown.map((m) => html`<${ModelCharts} key=${m.name} model=${m} win=${w} phase=${phase} alerts=${alerts.data} estimate=${estimate} early=${early} />`)}
  </div>`
}
