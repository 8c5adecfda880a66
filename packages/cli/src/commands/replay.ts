import { clientFrom, type ClientFlags, type Io, printJson } from '../common.js'
import { httpCandidate, moduleCandidate, type Predict } from '../replay/replay-candidate.js'
import { parseCandidate, parseOverrides } from '../replay/replay-overrides.js'
import { type ReplaySummary, runReplay } from '../replay/replay-runner.js'
import type { QueryFlags } from './records.js'

/** Flags of `inferlog replay`. */
export interface ReplayFlags extends ClientFlags, Omit<QueryFlags, 'cursor' | keyof ClientFlags> {
  /** Extra filters as `KEY=VALUE` in `GET /v1/events` terms (`model=churn-clf`). */
  filter?: string[]
  target?: string
  module?: string
  as: string
  set?: string[]
  concurrency?: string
  rate?: string
  timeoutMs?: string
}

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'invalid_parameter' })
}

function positive(name: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!(n > 0) || (integer && !Number.isInteger(n)))
    throw invalid(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`)
  return n
}

const FILTER_FLAGS: [keyof ReplayFlags, string][] = [
  ['model', 'model'],
  ['version', 'version'],
  ['stage', 'stage'],
  ['status', 'status'],
  ['from', 'from'],
  ['to', 'to'],
  ['sessionId', 'session_id'],
  ['userId', 'user_id'],
  ['arm', 'arm'],
  ['hasFeedback', 'has_feedback'],
  ['feedback', 'feedback'],
]

/** The selection: the query command's filter flags plus `--filter KEY=VALUE`; primaries only unless `--stage` says otherwise. */
export function replayFilters(f: ReplayFlags): URLSearchParams {
  const q = new URLSearchParams()
  for (const [flag, param] of FILTER_FLAGS) {
    const v = f[flag]
    if (typeof v === 'string') q.set(param, v)
  }
  for (const kv of f.filter ?? []) {
    const eq = kv.indexOf('=')
    if (eq <= 0) throw invalid(`--filter takes KEY=VALUE (e.g. model=churn-clf), got ${JSON.stringify(kv)}`)
    q.set(kv.slice(0, eq), kv.slice(eq + 1))
  }
  if (!q.has('stage')) q.set('stage', 'primary')
  return q
}

function progressLine(s: ReplaySummary, limit: number | undefined, secs: number): string {
  const width = 30
  const frac = limit ? Math.min(1, s.selected / limit) : 0
  const full = Math.round(frac * width)
  const barText = limit ? `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  ` : ''
  return `\r${barText}${s.selected} events  ${s.errors} errors  ${s.already} already  ${(s.selected / Math.max(secs, 0.001)).toFixed(1)}/s `
}

/**
 * `inferlog replay (--target URL | --module FILE) --as NAME@VERSION [filters] [--set input.x=V]`:
 * re-runs logged inputs against a candidate and logs the results as shadow events. Progress bar
 * on a terminal, a summary at the end (`--json` for the object). Exits 1 when shadow events could
 * not be stored; candidate failures are results, recorded per event.
 */
export async function replayCommand(f: ReplayFlags, io: Io): Promise<number> {
  if (!f.target === !f.module) throw invalid('give exactly one of --target URL or --module FILE')
  const candidate = parseCandidate(f.as)
  const overrides = parseOverrides(f.set ?? [])
  const limit = positive('--limit', f.limit, true)
  const concurrency = positive('--concurrency', f.concurrency, true) ?? 4
  const rate = positive('--rate', f.rate, false)
  const timeoutMs = positive('--timeout-ms', f.timeoutMs, true) ?? 30_000
  const filters = replayFilters(f)
  const predict: Predict = f.target ? httpCandidate(f.target, timeoutMs) : await moduleCandidate(f.module!, timeoutMs)
  const client = clientFrom(f, process.env, io)
  const started = performance.now()
  let lastDraw = 0
  const tty = io.isTTY && !f.json
  const s = await runReplay({
    client,
    filters,
    ...(limit !== undefined ? { limit } : {}),
    candidate,
    predict,
    overrides,
    concurrency,
    ...(rate !== undefined ? { rate } : {}),
    onProgress: (p) => {
      if (!tty) return
      const t = performance.now()
      if (t - lastDraw < 100) return
      lastDraw = t
      process.stderr.write(progressLine(p, limit, (t - started) / 1000))
    },
  })
  if (tty) process.stderr.write(`${progressLine(s, limit, s.seconds)}\n`)
  if (f.json) {
    printJson(io, s, true)
  } else {
    for (const e of s.failures) io.err(`${e.id}: ${e.type}: ${e.message}`)
    const agreement = s.agreement
      ? `agreement ${(100 * s.agreement.value).toFixed(1)}% over ${s.agreement.pairs} pairs` +
        (s.agreement.ci_low !== null && s.agreement.ci_high !== null
          ? ` (95% CI ${(100 * s.agreement.ci_low).toFixed(1)}-${(100 * s.agreement.ci_high).toFixed(1)}%)`
          : '')
      : 'agreement n/a (no pairs with both outputs)'
    io.out(
      `replayed ${s.selected} events as ${s.candidate}: ${s.logged} shadow events logged, ${s.already} already replayed, ${s.errors} candidate errors, ${s.not_logged} not stored; ${agreement}; ${s.seconds}s`,
    )
  }
  return s.not_logged > 0 ? 1 : 0
}
