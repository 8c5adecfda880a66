import fs from 'node:fs'
import path from 'node:path'
import { buildDataset, type DatasetManifest, loadScorer, parseDatasetSpec, type SourceEvent, scoreEvents } from '@inferlog/datasets'
import { defaultDatasetWorkers, openStore, sharableStore, storeDatasetSource, threadRangeCompiler } from '@inferlog/server'
import { parse as parseYaml } from 'yaml'
import { type ClientFlags, clientFrom, type Io, printJson } from '../common.js'
import { ApiError } from '../http-client.js'

/** Flags of `inferlog dataset build`. */
export interface DatasetBuildFlags extends ClientFlags {
  out?: string
  name?: string
  sinceLast?: boolean
  data?: string
  store?: string
  /** Compilers of a build straight from a store (see {@link buildWorkers}). */
  workers?: string
}

/**
 * Compilers of a build straight from a store: `--workers N`, else `INFERLOG_DATASET_WORKERS`
 * (not for parquet), else `min(2, cores)` (parquet: 1), as the server's `DatasetBuilds` decides.
 * 1 compiles on this thread alone; more adds worker threads with their own store connections.
 */
export function buildWorkers(flag: string | undefined, env: NodeJS.ProcessEnv, format: string): number {
  const raw = flag ?? (format === 'parquet' ? undefined : env.INFERLOG_DATASET_WORKERS || undefined)
  if (raw === undefined) return format === 'parquet' ? 1 : defaultDatasetWorkers()
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1)
    throw new ApiError(0, 'invalid_parameter', `--workers must be a positive integer, got ${JSON.stringify(raw)}`)
  return Number(raw)
}

function readSpec(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new ApiError(0, 'not_found', `cannot read spec ${file}: ${(e as Error).message}`)
  }
}

/**
 * `inferlog dataset build SPEC [--out DIR]`: through the running server (a new version in its
 * catalog; with `--out`, its files are downloaded there), or with `--store`/`--data` straight from
 * the store into `--out` (nothing else written).
 */
export async function datasetBuildCommand(specFile: string, f: DatasetBuildFlags, io: Io): Promise<number> {
  const spec = readSpec(specFile)
  if (f.store || f.data) {
    if (!f.out) throw new ApiError(0, 'invalid_parameter', '--out DIR is required when building straight from a store')
    const url = f.store ?? `sqlite:${path.join(path.resolve(f.data!), 'inferlog.db')}`
    const workers = buildWorkers(f.workers, process.env, parseDatasetSpec(spec).format ?? 'jsonl')
    const store = openStore(url, { readOnly: url.startsWith('sqlite:') })
    const source = storeDatasetSource(store)
    // Ranges of the log compiled on this thread and workers - 1 threads (same bytes).
    const ranges = workers > 1 && sharableStore(url) ? threadRangeCompiler(url, { workers, local: source }) : undefined
    try {
      await store.migrate()
      const manifest = await buildDataset({
        source,
        project: f.project ?? 'default',
        spec,
        outDir: path.resolve(f.out),
        ...(f.name ? { name: f.name } : {}),
        ...(ranges ? { ranges } : {}),
      })
      report(io, manifest, f.json)
    } finally {
      await ranges?.close()
      await store.close()
    }
    return 0
  }
  const client = clientFrom(f, process.env, io)
  const { json } = await client.request<{ id: string; manifest: DatasetManifest }>(
    'POST',
    '/v1/datasets',
    JSON.stringify({ spec, ...(f.name ? { name: f.name } : {}), ...(f.sinceLast ? { since_last: true } : {}) }),
  )
  if (f.out) await download(client, json.id, json.manifest, path.resolve(f.out))
  report(io, json.manifest, f.json, json.id)
  return 0
}

function report(io: Io, m: DatasetManifest, json: boolean | undefined, id?: string): void {
  if (json) {
    printJson(io, id ? { id, manifest: m } : m, true)
    return
  }
  const splits = Object.entries(m.splits as Record<string, { rows: number }>)
    .map(([k, v]) => `${k} ${v.rows}`)
    .join(', ')
  io.out(`${id ?? m.name}: ${(m.counts as { rows: number }).rows} rows (${splits}) at log position ${m.watermark}`)
}

async function download(client: ReturnType<typeof clientFrom>, id: string, m: DatasetManifest, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true })
  for (const f of [...(m.files as { name: string }[]).map((x) => x.name), 'manifest.json']) {
    const res = await fetch(`${client.base}/v1/datasets/${encodeURIComponent(id)}/files/${encodeURIComponent(f)}`, {
      headers: client.authHeaders(),
    })
    if (res.status !== 200) throw new ApiError(res.status, 'download_failed', `GET ${f}: HTTP ${res.status}`)
    fs.writeFileSync(path.join(dir, f), Buffer.from(await res.arrayBuffer()))
  }
}

/** `inferlog dataset list | show ID | download ID --out DIR`. */
export async function datasetCommand(action: string, id: string | undefined, f: ClientFlags & { out?: string }, io: Io): Promise<number> {
  const client = clientFrom(f, process.env, io)
  if (action === 'list') {
    const { json } = await client.request<{ items: { name: string; versions: { id: string; rows: number; built_at: string }[] }[] }>(
      'GET',
      '/v1/datasets',
    )
    if (f.json) printJson(io, json, true)
    else for (const d of json.items) for (const v of d.versions) io.out(`${v.id}  ${v.rows} rows  ${v.built_at}`)
    return 0
  }
  if (!id) throw new ApiError(0, 'invalid_parameter', `dataset ${action} needs an id such as churn@3`)
  const { json } = await client.request<DatasetManifest>('GET', `/v1/datasets/${encodeURIComponent(id)}`)
  if (action === 'show') {
    printJson(io, json, f.json)
    return 0
  }
  if (action === 'download') {
    const dir = path.resolve(f.out ?? id.replace('@', '-'))
    await download(client, id, json, dir)
    io.err(`downloaded ${id} into ${dir}`)
    return 0
  }
  throw new ApiError(0, 'invalid_parameter', `unknown action ${action}; use build, list, show or download`)
}

/**
 * `inferlog score --scorer FILE --name NAME [filters]`: runs a reward function over the selected
 * events (read page by page from the server) and writes each score back as feedback with an id
 * derived from event, scorer and name, so a re-run writes nothing new.
 */
export async function scoreCommand(
  f: ClientFlags & { scorer?: string; name?: string; model?: string; version?: string; from?: string; to?: string; concurrency?: string },
  io: Io,
): Promise<number> {
  if (!f.scorer || !f.name) throw new ApiError(0, 'invalid_parameter', 'score needs --scorer FILE (exporting score(event)) and --name NAME')
  const scorer = await loadScorer(path.resolve(f.scorer))
  const client = clientFrom(f, process.env, io)
  const q = new URLSearchParams({ limit: '1000' })
  for (const k of ['model', 'version', 'from', 'to'] as const) if (f[k]) q.set(k, f[k]!)
  async function* pages(): AsyncIterable<SourceEvent[]> {
    type Page = { items: { id: string; ts: string }[]; next_cursor: string | null }
    let cursor: string | null = null
    do {
      const page: Page = (await client.request<Page>('GET', `/v1/events?${q}${cursor ? `&cursor=${cursor}` : ''}`)).json
      yield page.items.map((e) => ({ id: e.id, batch: 0, seq: 0, tsMs: Date.parse(e.ts), body: JSON.stringify(e) }))
      cursor = page.next_cursor
    } while (cursor)
  }
  let duplicates = 0
  const result = await scoreEvents({
    events: pages(),
    scorer,
    name: f.name,
    ...(f.concurrency ? { concurrency: Number(f.concurrency) } : {}),
    async write(items) {
      const { json } = await client.request<{ duplicates: number }>('POST', '/v1/feedback', JSON.stringify(items))
      duplicates += json.duplicates
    },
  })
  if (f.json) printJson(io, { ...result, duplicates }, true)
  else
    io.out(
      `scored ${result.scored} events with ${scorer.name}@${scorer.version}: ${result.written - duplicates} new, ${duplicates} already there, ${result.errors.length} errors`,
    )
  for (const e of result.errors.slice(0, 10)) io.err(`event ${e.eventId}: ${e.message}`)
  return result.errors.length > 0 ? 1 : 0
}

/** Flags of `inferlog review`. */
export interface ReviewFlags extends ClientFlags {
  strategy?: string
  queue?: string
  label?: string
  limit?: string
  filter?: string
  out?: string
}

/**
 * `inferlog review select --queue Q --strategy S [--filter JSON] [--limit N] [--label NAME]`,
 * `review show Q`, `review export Q [--out FILE]` (Label Studio tasks), `review import Q FILE`.
 */
export async function reviewCommand(
  action: string,
  queue: string | undefined,
  file: string | undefined,
  f: ReviewFlags,
  io: Io,
): Promise<number> {
  const client = clientFrom(f, process.env, io)
  const name = queue ?? f.queue
  if (action === 'select') {
    if (!name || !f.strategy)
      throw new ApiError(
        0,
        'invalid_parameter',
        'review select needs --queue NAME and --strategy least-confidence|margin|entropy|disagreement',
      )
    let filter: unknown = {}
    if (f.filter) {
      try {
        filter = JSON.parse(f.filter)
      } catch {
        throw new ApiError(0, 'invalid_parameter', '--filter must be a JSON object such as {"model": "m"}')
      }
    }
    const body = { queue: name, label: f.label ?? 'label', strategy: f.strategy, filter, limit: f.limit ? Number(f.limit) : 100 }
    const { json } = await client.request<{ total: number }>('POST', '/v1/review', JSON.stringify(body))
    if (f.json) printJson(io, json, true)
    else io.out(`queue ${name}: ${json.total} events to label`)
    return 0
  }
  if (!name) throw new ApiError(0, 'invalid_parameter', `review ${action} needs a queue name`)
  if (action === 'show') {
    const { json } = await client.request<{ total: number; labelled: number }>('GET', `/v1/review/${encodeURIComponent(name)}`)
    if (f.json) printJson(io, json, true)
    else io.out(`queue ${name}: ${json.labelled} of ${json.total} labelled`)
    return 0
  }
  if (action === 'export') {
    const { json } = await client.request('GET', `/v1/review/${encodeURIComponent(name)}/tasks`)
    if (f.out) fs.writeFileSync(f.out, `${JSON.stringify(json, null, 2)}\n`)
    else printJson(io, json, f.json)
    return 0
  }
  if (action === 'import') {
    if (!file) throw new ApiError(0, 'invalid_parameter', 'review import QUEUE FILE: a Label Studio JSON export')
    let tasks: unknown
    try {
      tasks = JSON.parse(fs.readFileSync(file, 'utf8'))
    } catch (e) {
      throw new ApiError(0, 'invalid_parameter', `cannot read ${file} as JSON: ${(e as Error).message}`)
    }
    const { json } = await client.request<{ imported: number; duplicates: number; unknown: unknown[] }>(
      'POST',
      `/v1/review/${encodeURIComponent(name)}/import`,
      JSON.stringify({ tasks }),
    )
    if (f.json) printJson(io, json, true)
    else io.out(`imported ${json.imported} labels (${json.duplicates} already there); ${json.unknown.length} tasks not in the queue`)
    return 0
  }
  throw new ApiError(0, 'invalid_parameter', `unknown action ${action}; use select, show, export or import`)
}

/** Flags of `inferlog dataset trigger`. */
export interface TriggerFlags extends ClientFlags {
  spec?: string
  every?: string
  cron?: string
  timezone?: string
  onAlert?: string
  webhook?: string
  secretEnv?: string
  full?: boolean
}

/** The trigger document from FILE (JSON or YAML), or from flags (`--spec`, `--every`/`--cron`, `--on-alert`, `--webhook`). */
function triggerDocument(file: string | undefined, f: TriggerFlags): Record<string, unknown> {
  let doc: Record<string, unknown> = {}
  if (file) {
    const v = parseYaml(readSpec(file)) as unknown
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new ApiError(0, 'invalid_parameter', `${file} must hold a trigger object`)
    doc = v as Record<string, unknown>
  }
  if (f.spec) doc.spec = readSpec(f.spec)
  if (f.every) doc.schedule = { every: f.every }
  if (f.cron) doc.schedule = { cron: f.cron, ...(f.timezone ? { timezone: f.timezone } : {}) }
  if (f.onAlert)
    doc.on_alert = f.onAlert
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  if (f.full) doc.since_last = false
  if (f.webhook || f.secretEnv) {
    const hook: Record<string, unknown> = {
      ...((doc.webhook as Record<string, unknown> | undefined) ?? {}),
      ...(f.webhook ? { url: f.webhook } : {}),
    }
    if (f.secretEnv) {
      const secret = process.env[f.secretEnv]
      if (!secret) throw new ApiError(0, 'invalid_parameter', `--secret-env ${f.secretEnv}: that variable is not set`)
      hook.secret = secret
    }
    doc.webhook = hook
  }
  if (doc.spec === undefined)
    throw new ApiError(0, 'invalid_parameter', 'trigger set NAME needs a FILE or --spec SPEC (with --every, --cron or --on-alert)')
  return doc
}

interface TriggerView {
  name: string
  trigger: {
    schedule?: { every?: string; cron?: string; timezone?: string }
    on_alert?: string[]
    webhook?: { url: string; has_secret: boolean }
  }
  next_run_at: string | null
  runs: {
    id: string
    at: string
    reason: string
    state: string
    dataset_id: string | null
    rows?: number
    message?: string
    webhook: { state: string; attempts: number; last_error: string | null }
  }[]
}

function describeTrigger(io: Io, v: TriggerView): void {
  const t = v.trigger
  const when = [
    t.schedule?.every ? `every ${t.schedule.every}` : t.schedule?.cron ? `cron "${t.schedule.cron}" ${t.schedule.timezone ?? 'UTC'}` : '',
    t.on_alert ? `on alerts ${t.on_alert.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ')
  io.out(`${v.name}: ${when}; next scheduled run ${v.next_run_at ?? 'none'}`)
  io.out(`webhook: ${t.webhook ? `${t.webhook.url}${t.webhook.has_secret ? ' (signed)' : ' (unsigned)'}` : 'none'}`)
  for (const r of v.runs) {
    const what = r.state === 'built' ? `${r.dataset_id} (${r.rows} rows)` : (r.message ?? '')
    const hook =
      r.webhook.state === 'none'
        ? ''
        : `, webhook ${r.webhook.state} after ${r.webhook.attempts} attempts${r.webhook.last_error ? ` (${r.webhook.last_error})` : ''}`
    io.out(`  ${r.at}  ${r.reason}  ${r.state}  ${what}${hook}`)
  }
}

/** `inferlog dataset trigger set NAME [FILE] [flags] | show NAME | remove NAME | run NAME`. */
export async function datasetTriggerCommand(
  action: string,
  name: string,
  file: string | undefined,
  f: TriggerFlags,
  io: Io,
): Promise<number> {
  const client = clientFrom(f, process.env, io)
  const path_ = `/v1/datasets/${encodeURIComponent(name)}/trigger`
  if (action === 'set') {
    const { json } = await client.request<TriggerView>('PUT', path_, JSON.stringify(triggerDocument(file, f)))
    if (f.json) printJson(io, json, true)
    else describeTrigger(io, json)
    return 0
  }
  if (action === 'show') {
    const { json } = await client.request<TriggerView>('GET', path_)
    if (f.json) printJson(io, json, true)
    else describeTrigger(io, json)
    return 0
  }
  if (action === 'remove') {
    await client.request('DELETE', path_)
    if (f.json) printJson(io, { removed: name }, true)
    else io.out(`removed the trigger of ${name} (its versions stay)`)
    return 0
  }
  if (action === 'run') {
    await client.request('POST', `${path_}/run`, '{}')
    if (f.json) printJson(io, { requested: name }, true)
    else io.out(`requested a build of ${name}; see inferlog dataset trigger show ${name}`)
    return 0
  }
  throw new ApiError(0, 'invalid_parameter', `unknown action ${action}; use set, show, remove or run`)
}
