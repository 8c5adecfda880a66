import fs from 'node:fs'
import { type ClientFlags, clientFrom, type Io, printJson } from '../common.js'
import { ApiError } from '../http-client.js'

/** Flags of `inferlog metrics`. */
export interface MetricsFlags extends ClientFlags {
  model?: string
  version?: string[]
  stage?: string
  arm?: string
  endpoint?: string
  from?: string
  to?: string
  bucket?: string
  groupBy?: string
  estimate?: string
  score?: string
  probabilities?: string
  positive?: string
  referenceFrom?: string
  referenceTo?: string
}

const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '-' : Number(v.toPrecision(digits)).toString())

/** `inferlog metrics`: one line per point (or the reply with `--json`). */
export async function metricsCommand(f: MetricsFlags, io: Io): Promise<number> {
  const p = new URLSearchParams()
  for (const [flag, param] of [
    ['model', 'model'],
    ['stage', 'stage'],
    ['arm', 'arm'],
    ['endpoint', 'endpoint'],
    ['from', 'from'],
    ['to', 'to'],
    ['bucket', 'bucket'],
    ['groupBy', 'group_by'],
    ['estimate', 'estimate'],
    ['score', 'score'],
    ['probabilities', 'probabilities'],
    ['positive', 'positive'],
    ['referenceFrom', 'reference_from'],
    ['referenceTo', 'reference_to'],
  ] as const) {
    const v = f[flag]
    if (v !== undefined) p.set(param, v)
  }
  for (const v of f.version ?? []) p.append('version', v)
  const { json } = await clientFrom(f, process.env, io).request<{
    series: { group: Record<string, string>; points: Record<string, unknown>[] }[]
  }>('GET', `/v1/metrics?${p}`)
  if (f.json) {
    printJson(io, json, true)
    return 0
  }
  for (const s of json.series) {
    const g = Object.entries(s.group)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
    io.out(`# ${g || 'all'}`)
    for (const pt of s.points) {
      const lat = (pt.latency_ms as Record<string, { p50: number; p99: number }>).total
      const quality = Object.entries(pt.quality as Record<string, { accuracy?: { value: number }; coverage: number | null }>)
        .map(([name, q]) => `${name}: acc ${fmt(q.accuracy?.value)} cov ${fmt(q.coverage)}`)
        .join('; ')
      const estimated = Object.entries((pt.estimated ?? {}) as Record<string, { accuracy: number; f1?: number; f1_macro: number }>)
        .map(([name, e]) => `${name}: est acc ${fmt(e.accuracy)} f1 ${fmt(e.f1 ?? e.f1_macro)}`)
        .join('; ')
      io.out(
        `${pt.start}  n ${pt.n}  count ${fmt(pt.count as number, 6)}  err ${fmt(pt.error_rate as number)}  p50 ${fmt(lat?.p50)}  p99 ${fmt(lat?.p99)} ms${quality ? `  ${quality}` : ''}${estimated ? `  ${estimated}` : ''}`,
      )
    }
  }
  if (json.series.length === 0) io.err('inferlog: no data in this window')
  return 0
}

function readJsonArg(v: string, what: string): unknown {
  const text = v.startsWith('@') ? fs.readFileSync(v.slice(1), 'utf8') : fs.existsSync(v) ? fs.readFileSync(v, 'utf8') : v
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError(0, 'invalid_parameter', `${what} must be JSON, @FILE or a JSON file`)
  }
}

/** `inferlog models list|show NAME|configure NAME CONFIG`. */
export async function modelsCommand(
  action: string,
  name: string | undefined,
  config: string | undefined,
  f: ClientFlags,
  io: Io,
): Promise<number> {
  const client = clientFrom(f, process.env, io)
  if (action === 'list') {
    const { json } = await client.request<{ items: { name: string; versions: { version: string; events: number; last_ts: string }[] }[] }>(
      'GET',
      '/v1/models',
    )
    if (f.json) printJson(io, json, true)
    else
      for (const m of json.items)
        io.out(
          `${m.name}  ${m.versions.map((v) => `${v.version} (${v.events}, last ${v.last_ts})`).join(', ') || '(configured, no traffic)'}`,
        )
    return 0
  }
  if (!name) throw new ApiError(0, 'invalid_parameter', `models ${action} needs a model name`)
  if (action === 'show') {
    printJson(io, (await client.request('GET', `/v1/models/${encodeURIComponent(name)}`)).json, f.json)
    return 0
  }
  if (action === 'configure') {
    if (!config) throw new ApiError(0, 'invalid_parameter', 'models configure NAME CONFIG: CONFIG is JSON, @FILE or a JSON file')
    const body = JSON.stringify(readJsonArg(config, 'CONFIG'))
    printJson(io, (await client.request('PUT', `/v1/models/${encodeURIComponent(name)}`, body)).json, f.json)
    return 0
  }
  throw new ApiError(0, 'invalid_parameter', `unknown action ${action}; use list, show or configure`)
}

/** `inferlog compare --a FILTER --b FILTER` or `--shadow FILTER`. */
export async function compareCommand(
  f: ClientFlags & { a?: string; b?: string; shadow?: string; expectedSplit?: string; output?: string },
  io: Io,
): Promise<number> {
  const body: Record<string, unknown> = {}
  if (f.shadow) {
    body.shadow = readJsonArg(f.shadow, '--shadow')
    if (f.output !== undefined) body.output = f.output
  } else {
    if (!f.a || !f.b) throw new ApiError(0, 'invalid_parameter', 'give --a and --b (filters as JSON), or --shadow')
    body.a = readJsonArg(f.a, '--a')
    body.b = readJsonArg(f.b, '--b')
    if (f.expectedSplit !== undefined) body.expected_split = Number(f.expectedSplit)
  }
  const { json } = await clientFrom(f, process.env, io).request<Record<string, unknown>>('POST', '/v1/compare', JSON.stringify(body))
  if (f.json || f.shadow) {
    printJson(io, json, f.json)
    return 0
  }
  const r = json as {
    a: { n: number }
    b: { n: number }
    srm: { p_value: number; mismatch: boolean }
    metrics: Record<string, Record<string, number | null>>
  }
  io.out(`a: n ${r.a.n}   b: n ${r.b.n}   SRM p ${fmt(r.srm.p_value)}${r.srm.mismatch ? '  MISMATCH' : ''}`)
  for (const [name, m] of Object.entries(r.metrics)) {
    io.out(`${name}  a ${fmt(m.a)}  b ${fmt(m.b)}  diff ${fmt(m.diff)} [${fmt(m.ci_low)}, ${fmt(m.ci_high)}]  p ${fmt(m.p_value)}`)
  }
  return 0
}

/** `inferlog tail [filters]`: newly committed events as they arrive (Ctrl-C to stop). */
export async function tailCommand(
  f: ClientFlags & { model?: string; version?: string; stage?: string; status?: string },
  io: Io,
): Promise<number> {
  const client = clientFrom(f, process.env, io)
  const p = new URLSearchParams()
  for (const k of ['model', 'version', 'stage', 'status'] as const) if (f[k]) p.set(k, f[k]!)
  let last: string | undefined
  for (let first = true; ; first = false) {
    const res = await client.stream(`/v1/stream?${p}`, last)
    if (first) io.err('inferlog: following new events (Ctrl-C to stop)')
    const reader = res.getReader()
    let buf = ''
    const decoder = new TextDecoder()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buf += decoder.decode(value, { stream: true })
      for (let cut = buf.indexOf('\n\n'); cut !== -1; cut = buf.indexOf('\n\n')) {
        const block = buf.slice(0, cut)
        buf = buf.slice(cut + 2)
        let event = 'message'
        let data = ''
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim()
          else if (line.startsWith('id:')) last = line.slice(3).trim()
          else if (line.startsWith('data:')) data += line.slice(5).trim()
        }
        if (event === 'event') {
          if (f.json) io.out(data)
          else {
            const e = JSON.parse(data) as { ts: string; id: string; model: { name: string; version: string }; status?: string }
            io.out(`${e.ts}  ${e.id}  ${e.model.name}@${e.model.version}  ${e.status ?? 'ok'}`)
          }
        } else if (event === 'error') io.err(`inferlog: stream: ${data}; resuming`)
      }
    }
    // The server closed (restart, too slow): resume from the last event seen.
    await new Promise((r) => setTimeout(r, 1000))
  }
}

/** `inferlog prices set FILE | get` and `inferlog alerts set FILE | list | evaluate`. */
export async function documentCommand(
  kind: 'prices' | 'alerts',
  action: string,
  file: string | undefined,
  f: ClientFlags,
  io: Io,
): Promise<number> {
  const client = clientFrom(f, process.env, io)
  const paths = { prices: { get: '/v1/prices', set: '/v1/prices' }, alerts: { get: '/v1/alerts', set: '/v1/alerts/rules' } }[kind]
  if (action === 'set') {
    if (!file) throw new ApiError(0, 'invalid_parameter', `${kind} set FILE: a JSON file`)
    const doc = readJsonArg(file, 'FILE')
    const body = kind === 'alerts' && Array.isArray(doc) ? { rules: doc } : doc
    printJson(io, (await client.request('PUT', paths.set, JSON.stringify(body))).json, f.json)
    return 0
  }
  if (action === 'get' || action === 'list') {
    printJson(io, (await client.request('GET', paths.get)).json, f.json)
    return 0
  }
  if (kind === 'alerts' && action === 'evaluate') {
    printJson(io, (await client.request('POST', '/v1/alerts/evaluate', '{}')).json, f.json)
    return 0
  }
  throw new ApiError(0, 'invalid_parameter', `unknown action ${action}`)
}
