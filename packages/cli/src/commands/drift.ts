import fs from 'node:fs'
import { type ClientFlags, clientFrom, type Io, printJson } from '../common.js'
import { ApiError } from '../http-client.js'

/** Flags of `inferlog drift`. */
export interface DriftFlags extends ClientFlags {
  reference?: string
  profile?: string
  current?: string
  fields?: string
  methods?: string
  thresholds?: string
  mode?: string
  sample?: string
  correction?: string
}

/** A FILTER given as JSON text, `@FILE`, or the path of a JSON file. */
export function readFilter(v: string, what: string): unknown {
  const text = v.startsWith('@')
    ? fs.readFileSync(v.slice(1), 'utf8')
    : !v.trimStart().startsWith('{') && fs.existsSync(v)
      ? fs.readFileSync(v, 'utf8')
      : v
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError(
      0,
      'invalid_parameter',
      `${what} must be a JSON filter such as {"model": "m", "from": "2026-11-01"}, @FILE or a JSON file`,
    )
  }
}

/** `a,b,c` as a list (empty entries dropped). */
function list(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

/** `FIELD=VALUE,FIELD=VALUE` as an object; `number` parses the values. */
function pairs<T>(v: string, what: string, parse: (s: string) => T): Record<string, T> {
  const out: Record<string, T> = {}
  for (const item of list(v)) {
    const cut = item.lastIndexOf('=')
    if (cut <= 0 || cut === item.length - 1)
      throw new ApiError(0, 'invalid_parameter', `${what}: expected FIELD=VALUE, got ${JSON.stringify(item)}`)
    out[item.slice(0, cut)] = parse(item.slice(cut + 1))
  }
  return out
}

const fmt = (v: unknown) =>
  typeof v === 'number'
    ? Number.isInteger(v)
      ? String(v)
      : Number(v.toPrecision(4)).toString()
    : v === undefined || v === null
      ? '-'
      : String(v)

/** Left-aligned columns separated by two spaces. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  '))
}

interface DriftField {
  field: string
  kind?: string
  method?: string
  statistic?: number
  p_value?: number
  threshold?: number
  drift?: boolean
  n_reference?: number
  n_current?: number
  error?: { code: string; message: string }
}

interface DriftReply {
  fields: DriftField[]
  drift_share: number
  dataset_drift: boolean
  mode: string
  windows?: Record<string, { source: string; covered?: { from: string | null; to: string | null }; reason?: string }>
}

/**
 * `inferlog drift`: POST /v1/drift with the reference (a FILTER or a saved `--profile`) and the
 * current window; a table per field (or the reply with `--json`). Exit code 0 whatever the
 * verdict: drift is a finding, not a failure.
 */
export async function driftCommand(f: DriftFlags, io: Io): Promise<number> {
  if (!f.current) throw new ApiError(0, 'invalid_parameter', 'give --current FILTER (JSON), and --reference FILTER or --profile NAME')
  if ((f.reference === undefined) === (f.profile === undefined))
    throw new ApiError(0, 'invalid_parameter', 'give exactly one of --reference FILTER and --profile NAME')
  if (!f.fields) throw new ApiError(0, 'invalid_parameter', 'give --fields, e.g. input.age,input.country')
  const body: Record<string, unknown> = {
    reference: f.profile !== undefined ? { profile: f.profile } : readFilter(f.reference!, '--reference'),
    current: readFilter(f.current, '--current'),
    fields: list(f.fields),
  }
  if (f.methods) body.methods = pairs(f.methods, '--methods', (s) => s)
  if (f.thresholds) body.thresholds = pairs(f.thresholds, '--thresholds', Number)
  if (f.mode) body.mode = f.mode
  if (f.sample !== undefined) body.sample = Number(f.sample)
  if (f.correction) body.correction = f.correction
  const { json } = await clientFrom(f, process.env, io).request<DriftReply>('POST', '/v1/drift', JSON.stringify(body))
  if (f.json) {
    printJson(io, json, true)
    return 0
  }
  const rows = [['field', 'kind', 'method', 'statistic', 'p-value', 'threshold', 'drift', 'n ref', 'n cur']]
  for (const x of json.fields) {
    if (x.error) rows.push([x.field, '-', '-', '-', '-', '-', `error ${x.error.code}`, '-', x.error.message])
    else
      rows.push([
        x.field,
        fmt(x.kind),
        fmt(x.method),
        fmt(x.statistic),
        fmt(x.p_value),
        fmt(x.threshold),
        x.drift ? 'DRIFT' : 'no',
        fmt(x.n_reference),
        fmt(x.n_current),
      ])
  }
  for (const line of table(rows)) io.out(line)
  const computed = json.fields.filter((x) => !x.error)
  io.out(
    `drift share ${fmt(json.drift_share)} (${computed.filter((x) => x.drift).length} of ${computed.length} fields)  dataset drift: ${json.dataset_drift ? 'YES' : 'no'}  mode: ${json.mode}`,
  )
  for (const [side, w] of Object.entries(json.windows ?? {})) {
    const span = w.covered ? ` ${w.covered.from ?? '…'} → ${w.covered.to ?? '…'}` : ''
    io.out(`${side}: ${w.source}${span}${w.reason ? ` (${w.reason})` : ''}`)
  }
  return 0
}

/** `inferlog profile save NAME --filter FILTER --fields … | list | show NAME`. */
export async function profileCommand(
  action: string,
  name: string | undefined,
  f: ClientFlags & { filter?: string; fields?: string },
  io: Io,
): Promise<number> {
  const client = clientFrom(f, process.env, io)
  if (action === 'list') {
    const { json } = await client.request<{ items: { name: string; fields: string[]; rows: number; created_at: string }[] }>(
      'GET',
      '/v1/profiles',
    )
    if (f.json) printJson(io, json, true)
    else if (json.items.length === 0) io.err('inferlog: no saved profiles')
    else
      for (const line of table([
        ['name', 'rows', 'created', 'fields'],
        ...json.items.map((p) => [p.name, String(p.rows), p.created_at, p.fields.join(',')]),
      ]))
        io.out(line)
    return 0
  }
  if (!name) throw new ApiError(0, 'invalid_parameter', `profile ${action} needs a NAME`)
  if (action === 'show') {
    printJson(io, (await client.request('GET', `/v1/profiles/${encodeURIComponent(name)}`)).json, f.json)
    return 0
  }
  if (action === 'save') {
    if (!f.filter || !f.fields) throw new ApiError(0, 'invalid_parameter', 'profile save NAME --filter FILTER --fields a,b')
    const body = JSON.stringify({ name, filter: readFilter(f.filter, '--filter'), fields: list(f.fields) })
    const { json } = await client.request<{ name: string; rows: number; fields: string[] }>('POST', '/v1/profiles', body)
    if (f.json) printJson(io, json, true)
    else io.out(`saved profile ${json.name}: ${json.rows} rows, ${json.fields.length} fields`)
    return 0
  }
  throw new ApiError(0, 'invalid_parameter', `unknown action ${action}; use save, list or show`)
}
