import path from 'node:path'
import {
  DatasetBuilds,
  type ErasureReport,
  InferlogError,
  openStore,
  parseErasureRequest,
  parseRedactionRules,
  type RedactionRuleSet,
  parseRetentionPolicy,
  type RetentionPolicy,
  type RetentionReport,
  type Store,
  storeErasure,
  storeRedaction,
  storeRetention,
} from '@inferlog/server'
import { type ClientFlags, clientFrom, discoverServer, type Io, printJson } from '../common.js'

/** Flags of `inferlog erase`. */
export interface EraseFlags extends ClientFlags {
  userId?: string
  sessionId?: string
  /** Comma-separated event ids. */
  ids?: string
  reason?: string
  yes?: boolean
  dryRun?: boolean
  data?: string
  store?: string
}

/** The store a privacy command writes when it does not go through a server. */
export function privacyStoreUrl(f: { store?: string; data?: string }): string {
  return (
    f.store ??
    (process.env.INFERLOG_STORE || undefined) ??
    `sqlite:${path.join(path.resolve(f.data || process.env.INFERLOG_DATA || './data'), 'inferlog.db')}`
  )
}

/**
 * Through a server when `--url` (or `$INFERLOG_URL`) is given or one runs on the data directory;
 * otherwise straight on the store (`--store`, or the SQLite file under `--data`).
 */
export function privacyViaServer(f: { url?: string; store?: string; data?: string }): boolean {
  if (f.store) return false
  if (f.url || process.env.INFERLOG_URL) return true
  return discoverServer(f.data) !== undefined
}

/** Runs `fn` on the store the flags name, migrated, closing it after. */
export async function withPrivacyStore<T>(f: { store?: string; data?: string }, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(privacyStoreUrl(f))
  try {
    await store.migrate()
    return await fn(store)
  } finally {
    await store.close()
  }
}

/**
 * `inferlog erase --user-id X | --session-id S | --ids A,B --reason R [--yes] [--dry-run]`:
 * removes the matching events (with their shadows and feedback) and prints what was erased and the
 * audit record. More matches than the server's confirmation threshold need `--yes`.
 */
export async function eraseCommand(f: EraseFlags, io: Io): Promise<number> {
  const body: Record<string, unknown> = {
    ...(f.userId !== undefined ? { user_id: f.userId } : {}),
    ...(f.sessionId !== undefined ? { session_id: f.sessionId } : {}),
    ...(f.ids !== undefined
      ? {
          ids: f.ids
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        }
      : {}),
    ...(f.reason !== undefined ? { reason: f.reason } : {}),
    ...(f.yes ? { confirm: true } : {}),
    ...(f.dryRun ? { dry_run: true } : {}),
  }
  if (f.ids !== undefined && (body.ids as string[]).length === 0) throw new InferlogError('validation_failed', '--ids lists no id')
  const request = parseErasureRequest(body)
  let report: ErasureReport
  if (privacyViaServer(f)) {
    report = (await clientFrom(f, process.env, io).request<ErasureReport>('POST', '/v1/erasure', JSON.stringify(body))).json
  } else {
    const secret = process.env.INFERLOG_PSEUDONYMIZE_SECRET || undefined
    // Dataset versions under the data directory that hold an erased event lose their files, as on the server.
    const datasets = path.join(path.resolve(f.data || process.env.INFERLOG_DATA || './data'), 'datasets')
    report = await withPrivacyStore(f, (store) => {
      const builds = new DatasetBuilds(store, { dir: datasets })
      return storeErasure(store, {
        privacy: secret ? { pseudonymizeSecret: secret } : {},
        onErased: async (project, ids, record) => void builds.purgeErased(project, ids, record),
      }).erase(f.project ?? 'default', request, { key_id: null, name: 'inferlog erase' })
    })
  }
  if (f.json) printJson(io, report, true)
  else if (report.dry_run) io.out(`would erase ${report.erased.events} events and ${report.erased.feedback} feedback items`)
  else io.out(`erased ${report.erased.events} events and ${report.erased.feedback} feedback items; audit record ${report.record?.id}`)
  return 0
}

/** Flags of `inferlog retention`. */
export interface RetentionFlags extends ClientFlags {
  eventsDays?: string
  keepFeedback?: boolean
  reason?: string
  dryRun?: boolean
  data?: string
  store?: string
}

const OPERATOR = { key_id: null, name: 'inferlog retention' }

function describePolicy(project: string, p: RetentionPolicy | null): string {
  if (!p) return `${project}: no retention policy (everything is kept)`
  return `${project}: events older than ${p.events_days} days are removed; feedback ${p.feedback ? 'too' : 'is kept'} (set ${p.updated_at})`
}

/** `inferlog retention show|set|clear|run`: the project's retention policy, through a server or on the store. */
export async function retentionCommand(action: string, f: RetentionFlags, io: Io): Promise<number> {
  const project = f.project ?? 'default'
  const server = privacyViaServer(f)
  const client = server ? clientFrom(f, process.env, io) : undefined
  if (action === 'show') {
    const out = client
      ? (await client.request<{ project: string; policy: RetentionPolicy | null }>('GET', '/v1/retention')).json
      : await withPrivacyStore(f, async (store) => ({ project, policy: (await storeRetention(store).policies.get(project)) ?? null }))
    if (f.json) printJson(io, out, true)
    else io.out(describePolicy(out.project, out.policy))
    return 0
  }
  if (action === 'set') {
    const days = f.eventsDays === undefined ? undefined : /^\d+$/.test(f.eventsDays) ? Number(f.eventsDays) : f.eventsDays
    const body = { events_days: days, feedback: !f.keepFeedback, ...(f.reason !== undefined ? { reason: f.reason } : {}) }
    const policy = parseRetentionPolicy(body)
    const out = client
      ? (await client.request<{ project: string; policy: RetentionPolicy; record: string }>('PUT', '/v1/retention', JSON.stringify(body)))
          .json
      : await withPrivacyStore(f, async (store) => ({ project, ...(await storeRetention(store).policies.set(project, policy, OPERATOR)) }))
    if (f.json) printJson(io, out, true)
    else io.out(`${describePolicy(out.project, out.policy)}; audit record ${out.record}`)
    return 0
  }
  if (action === 'clear') {
    const out = client
      ? (await client.request<{ project: string; record: string | null }>('DELETE', '/v1/retention')).json
      : await withPrivacyStore(f, async (store) => ({
          project,
          record: await storeRetention(store).policies.clear(project, OPERATOR, f.reason),
        }))
    if (f.json) printJson(io, { ...out, policy: null }, true)
    else
      io.out(
        out.record ? `${out.project}: retention policy removed; audit record ${out.record}` : `${out.project}: had no retention policy`,
      )
    return 0
  }
  if (action === 'run') {
    let report: RetentionReport
    if (client) {
      report = (await client.request<RetentionReport>('POST', '/v1/retention/run', JSON.stringify({ dry_run: f.dryRun === true }))).json
    } else {
      const [r] = await withPrivacyStore(f, (store) =>
        storeRetention(store).service.run(OPERATOR, { projects: [project], dryRun: f.dryRun === true }),
      )
      if (!r) throw new InferlogError('not_found', `project ${project} has no retention policy (inferlog retention set --events-days N)`)
      report = r
    }
    if (f.json) printJson(io, report, true)
    else {
      const verb = report.dry_run ? 'would remove' : 'removed'
      const parts = report.partitions.length > 0 ? `; dropped ${report.partitions.join(', ')}` : ''
      io.out(
        `${report.project}: ${verb} ${report.removed.events} events and ${report.removed.feedback} feedback items older than ${report.cutoff}${parts}`,
      )
    }
    return 0
  }
  throw new InferlogError('invalid_parameter', `unknown action ${JSON.stringify(action)}: use show, set, clear or run`)
}

/** Flags of `inferlog redaction`. */
export interface RedactionFlags extends ClientFlags {
  paths?: string
  /** Comma list; `none` for no detectors. Default all three. */
  detectors?: string
  reason?: string
  data?: string
  store?: string
}

function describeRules(project: string, r: Omit<RedactionRuleSet, 'updated_at'> | null): string {
  if (!r) return `${project}: no server-side redaction rules`
  const paths = r.paths.length > 0 ? `drops ${r.paths.join(', ')}` : 'drops no paths'
  return `${project}: ${paths}; detectors ${r.detectors.length > 0 ? r.detectors.join(', ') : 'none'}`
}

/** `inferlog redaction show|set|clear`: the project's server-side redaction rules. */
export async function redactionCommand(action: string, f: RedactionFlags, io: Io): Promise<number> {
  const project = f.project ?? 'default'
  const client = privacyViaServer(f) ? clientFrom(f, process.env, io) : undefined
  const actor = { key_id: null, name: 'inferlog redaction' }
  if (action === 'show') {
    const out = client
      ? (await client.request<{ project: string; rules: RedactionRuleSet | null }>('GET', '/v1/redaction')).json
      : await withPrivacyStore(f, async (store) => ({ project, rules: (await storeRedaction(store).get(project)) ?? null }))
    if (f.json) printJson(io, out, true)
    else io.out(describeRules(out.project, out.rules))
    return 0
  }
  if (action === 'set') {
    const list = (s: string | undefined) =>
      s === undefined
        ? undefined
        : s
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean)
    const body: Record<string, unknown> = {
      ...(f.paths !== undefined ? { paths: list(f.paths) } : {}),
      ...(f.detectors !== undefined ? { detectors: f.detectors === 'none' ? [] : list(f.detectors) } : {}),
      ...(f.reason !== undefined ? { reason: f.reason } : {}),
    }
    const rules = parseRedactionRules(body)
    const out = client
      ? (await client.request<{ project: string; rules: RedactionRuleSet; record: string }>('PUT', '/v1/redaction', JSON.stringify(body)))
          .json
      : await withPrivacyStore(f, async (store) => ({ project, ...(await storeRedaction(store).set(project, rules, actor)) }))
    if (f.json) printJson(io, out, true)
    else io.out(`${describeRules(out.project, out.rules)}; audit record ${out.record}`)
    return 0
  }
  if (action === 'clear') {
    const out = client
      ? (await client.request<{ project: string; record: string | null }>('DELETE', '/v1/redaction')).json
      : await withPrivacyStore(f, async (store) => ({ project, record: await storeRedaction(store).clear(project, actor, f.reason) }))
    if (f.json) printJson(io, { ...out, rules: null }, true)
    else
      io.out(out.record ? `${out.project}: redaction rules removed; audit record ${out.record}` : `${out.project}: had no redaction rules`)
    return 0
  }
  throw new InferlogError('invalid_parameter', `unknown action ${JSON.stringify(action)}: use show, set or clear`)
}
