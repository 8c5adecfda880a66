import path from 'node:path'
import {
  DatasetBuilds,
  InferlogError,
  openStore,
  parseErasureRequest,
  type ErasureReport,
  type Store,
  storeErasure,
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
