import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { ApiError } from '../api/api-client.js'
import type { ModelInfo } from '../api/types.js'
import { fmtBytes, fmtNum, fmtTime } from '../format.js'
import { navigate } from '../router.js'
import { useApp } from '../ui/app-context.js'
import { Badge, Empty, ErrorBox, explain, KeyValues, Loading, PageHead, Section } from '../ui/components.js'
import { JsonTree } from '../ui/json-tree.js'
import { useApi } from '../ui/use-api.js'

interface CatalogItem {
  name: string
  versions: { id: string; version: number; watermark: number; rows: number; built_at: string }[]
}
interface Preview {
  watermark: number
  splits: Record<string, { rows: number; labels: Record<string, number> }>
  labels: Record<string, number>
  rows: number
  counts: {
    scanned: number
    selected: number
    rows: number
    dropped: { missing: Record<string, number>; unmapped_label: number; duplicate_input: number }
  }
  truncated: boolean
}
interface Manifest {
  id: string
  name: string
  version: number
  project: string
  format: string
  watermark: number
  built_at: string
  spec: unknown
  counts: {
    scanned: number
    selected: number
    rows: number
    written: number
    dropped: Record<string, unknown>
    skipped: Record<string, number>
  }
  splits: Record<string, { rows: number; labels: Record<string, number> }>
  labels: Record<string, number>
  models: Record<string, number>
  files: { name: string; split: string; rows: number; bytes: number; sha256: string }[]
}

/** A starting spec for a model: its first declared label (else `label`), a seeded 80/10/10 split by session. */
export function templateSpec(model: ModelInfo | undefined): string {
  const label = Object.keys(model?.config?.labels ?? {})[0] ?? 'label'
  return JSON.stringify(
    {
      select: { model: model?.name ?? 'MODEL' },
      feedback: { [label]: { name: label, aggregate: 'latest', missing: 'drop' } },
      label: { from: label },
      split: { by: 'trace.session_id', ratios: { train: 0.8, validation: 0.1, test: 0.1 }, seed: 'v1' },
      format: 'jsonl',
    },
    null,
    2,
  )
}

function SplitTable({
  splits,
  labels,
}: {
  splits: Record<string, { rows: number; labels: Record<string, number> }>
  labels: Record<string, number>
}) {
  const classes = Object.keys(labels)
  return html`<div class="table-wrap"><table data-testid="split-table">
    <thead><tr><th>Split</th><th class="num">Rows</th>${classes.map((c) => html`<th class="num">label ${c}</th>`)}</tr></thead>
    <tbody>${Object.entries(splits).map(([name, s]) => html`<tr><td>${name}</td><td class="num">${fmtNum(s.rows)}</td>${classes.map((c) => html`<td class="num">${fmtNum(s.labels[c] ?? 0)}</td>`)}</tr>`)}</tbody>
  </table></div>`
}

function Editor({ models }: { models: ModelInfo[] }) {
  const { api, toast } = useApp()
  const [name, setName] = useState('')
  const [spec, setSpec] = useState(() => templateSpec(models[0]))
  const [preview, setPreview] = useState<Preview | undefined>()
  const [busy, setBusy] = useState<'preview' | 'build' | undefined>()
  const [error, setError] = useState<ApiError | undefined>()
  const run = async (what: 'preview' | 'build') => {
    setBusy(what)
    setError(undefined)
    try {
      if (what === 'preview') setPreview(await api.post<Preview>('/v1/datasets/preview', { spec }))
      else {
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name))
          throw new ApiError(400, 'invalid_parameter', 'name the dataset: letters, digits, ".", "_" or "-"')
        const built = await api.post<{ id: string }>('/v1/datasets', { name, spec })
        toast(`Built ${built.id}`)
        navigate(`/datasets/${encodeURIComponent(built.id)}`)
      }
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'client', String(e)))
    } finally {
      setBusy(undefined)
    }
  }
  const details = Array.isArray(error?.details) ? (error.details as { path: string; message: string }[]) : []
  return html`<${Section} title="New dataset">
    <div class="row">
      <div class="field"><label for="ds-name">Name</label><input id="ds-name" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} placeholder="churn-train" /></div>
      <div class="field"><label for="ds-template">Start from model</label>
        <select id="ds-template" onChange=${(e: Event) => setSpec(templateSpec(models.find((m) => m.name === (e.target as HTMLSelectElement).value)))}>
          ${models.map((m) => html`<option value=${m.name}>${m.name}</option>`)}</select></div>
    </div>
    <div class="field"><label for="ds-spec">Spec (JSON or YAML; keys in the datasets README)</label>
      <textarea id="ds-spec" rows="14" spellcheck="false" value=${spec} onInput=${(e: Event) => setSpec((e.target as HTMLTextAreaElement).value)}></textarea></div>
    <div class="row">
      <button type="button" class="secondary" disabled=${busy !== undefined} onClick=${() => run('preview')}>${busy === 'preview' ? 'Counting…' : 'Preview'}</button>
      <button type="button" disabled=${busy !== undefined} onClick=${() => run('build')}>${busy === 'build' ? 'Building…' : 'Build'}</button>
    </div>
    ${error && html`<div class="error-box" role="alert"><strong>${explain(error).title}</strong><p>${error.message}</p>${details.length > 0 && html`<ul>${details.map((d) => html`<li><code>${d.path}</code> ${d.message}</li>`)}</ul>`}</div>`}
    ${
      preview &&
      html`<div data-testid="preview"><h3>Preview</h3>
        <p>${fmtNum(preview.rows)} rows${preview.truncated ? ' (at least: the preview stopped)' : ''} from ${fmtNum(preview.counts.selected)} selected of ${fmtNum(preview.counts.scanned)} scanned events, at log position ${preview.watermark}.
          Dropped: ${
            Object.entries(preview.counts.dropped.missing)
              .map(([k, v]) => `${fmtNum(v)} missing ${k}`)
              .join(', ') || 'none missing'
          }, ${fmtNum(preview.counts.dropped.unmapped_label)} unmapped labels, ${fmtNum(preview.counts.dropped.duplicate_input)} duplicate inputs.</p>
        <${SplitTable} splits=${preview.splits} labels=${preview.labels} />
      </div>`
    }
  </${Section}>`
}

function DatasetVersion({ id }: { id: string }) {
  const { api } = useApp()
  const r = useApi((signal) => api.get<Manifest>(`/v1/datasets/${encodeURIComponent(id)}`, undefined, signal), [api, id])
  if (r.error) return html`<div><${PageHead} title=${id} /><${ErrorBox} error=${r.error} onRetry=${r.reload} /></div>`
  if (!r.data) return html`<${Loading} what="Loading the manifest" />`
  const m = r.data
  return html`<div>
    <${PageHead} title=${`Dataset ${m.id}`}><a class="button secondary" href="/datasets">All datasets</a></${PageHead}>
    <div class="grid two">
      <${Section} title="Manifest"><${KeyValues} rows=${[
        ['Built', `${fmtTime(m.built_at)} UTC`],
        ['Format', m.format],
        ['Log position', String(m.watermark)],
        ['Rows', `${fmtNum(m.counts.written)} written of ${fmtNum(m.counts.selected)} selected (${fmtNum(m.counts.scanned)} scanned)`],
        [
          'Models',
          Object.entries(m.models)
            .map(([k, v]) => `${k}: ${fmtNum(v)}`)
            .join(', ') || '–',
        ],
      ]} /></${Section}>
      <${Section} title="Files">
        <ul class="files" data-testid="dataset-files">${m.files.map(
          (
            f,
          ) => html`<li><a href=${`/v1/datasets/${encodeURIComponent(m.id)}/files/${encodeURIComponent(f.name)}`} download=${f.name}>${f.name}</a>
            <span class="muted small"> ${fmtNum(f.rows)} rows · ${fmtBytes(f.bytes)} · sha256 ${f.sha256.slice(0, 12)}…</span></li>`,
        )}
          <li><a href=${`/v1/datasets/${encodeURIComponent(m.id)}/files/manifest.json`} download="manifest.json">manifest.json</a></li></ul>
      </${Section}>
    </div>
    <${Section} title="Splits"><${SplitTable} splits=${m.splits} labels=${m.labels} /></${Section}>
    <details class="card"><summary>Spec and full manifest</summary><${JsonTree} value=${m} open=${false} /></details>
  </div>`
}

/** Datasets: versions built so far, a spec editor with a preview, build, download, manifest. */
export default function DatasetsPage() {
  const { api, route } = useApp()
  const list = useApi((signal) => api.get<{ items: CatalogItem[] }>('/v1/datasets', undefined, signal), [api])
  const models = useApi((signal) => api.get<{ items: ModelInfo[] }>('/v1/models', undefined, signal), [api])
  if (route.page === 'dataset') return html`<${DatasetVersion} id=${route.params.id ?? ''} />`
  const items = list.data?.items ?? []
  return html`<div>
    <${PageHead} title="Datasets" />
    ${list.error && html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`}
    ${list.loading && !list.data && html`<${Loading} what="Loading datasets" />`}
    ${list.data && items.length === 0 && html`<${Empty}>No dataset built yet. Write a spec below, preview it, build it.</${Empty}>`}
    ${
      items.length > 0 &&
      html`<${Section} title="Built"><div class="table-wrap"><table data-testid="datasets-table">
        <thead><tr><th>Name</th><th>Versions</th><th class="num">Rows (latest)</th><th>Built (latest)</th></tr></thead>
        <tbody>${items.map((d) => {
          const last = d.versions[d.versions.length - 1]!
          return html`<tr><td>${d.name}</td><td>${d.versions.map((v) => html`<a class="chip" href=${`/datasets/${encodeURIComponent(v.id)}`}>v${v.version}</a>`)}</td>
            <td class="num">${fmtNum(last.rows)}</td><td>${fmtTime(last.built_at)} <${Badge}>pos ${last.watermark}</${Badge}></td></tr>`
        })}</tbody></table></div></${Section}>`
    }
    ${models.data && html`<${Editor} models=${models.data.items} />`}
  </div>`
}
