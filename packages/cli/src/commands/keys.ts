import path from 'node:path'
import type { keyView, Store } from '@inferlog/server'
import { type ClientFlags, clientFrom, discoverServer, type Io, printJson } from '../common.js'

/** Flags of the `inferlog keys` commands. */
export interface KeysFlags extends ClientFlags {
  scopes?: string
  name?: string
  expires?: string
  data?: string
  store?: string
}

type KeyView = ReturnType<typeof keyView>

/** The server package (store drivers included) loads only when a command works on the store itself. */
const server = () => import('@inferlog/server')

/** A usage error of a keys command, printed as `inferlog: <code>: <message>`. */
class KeysUsageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

function storeUrl(f: KeysFlags): string {
  return (
    f.store ??
    (process.env.INFERLOG_STORE || undefined) ??
    `sqlite:${path.join(path.resolve(f.data || process.env.INFERLOG_DATA || './data'), 'inferlog.db')}`
  )
}

/**
 * Where a keys command goes: a server when `--url` is given (or `$INFERLOG_URL`), or when one runs
 * on the data directory and can be asked (it is in open mode, or an API key was given); otherwise
 * the store itself (`--store`, or the SQLite file under `--data`), which the local operator can
 * always reach.
 */
function viaServer(f: KeysFlags): boolean {
  if (f.store) return false
  if (f.url || process.env.INFERLOG_URL) return true
  const found = discoverServer(f.data)
  return found !== undefined && (found.open === true || Boolean(f.apiKey ?? process.env.INFERLOG_API_KEY))
}

async function withStore<T>(f: KeysFlags, readOnly: boolean, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = (await server()).openStore(storeUrl(f), { readOnly })
  try {
    await store.migrate()
    return await fn(store)
  } finally {
    await store.close()
  }
}

function expiresMs(s: string | undefined): number | null {
  if (s === undefined) return null
  const rel = /^(\d+)([dhm])$/.exec(s)
  if (rel) return Date.now() + Number(rel[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[rel[2] as 'd' | 'h' | 'm']
  const t = /^\d+$/.test(s) ? Number(s) : Date.parse(s)
  if (!Number.isFinite(t))
    throw new KeysUsageError('invalid_parameter', `--expires must be an RFC 3339 time, epoch ms, or a duration like 30d, got ${s}`)
  return t
}

/**
 * `inferlog keys create --project P --scopes ingest,read [--expires 30d]`: prints the new key once.
 * Through a running server when there is one (an admin key once keys are required), else written
 * to the store under `--data` (how the first key is made).
 */
export async function keysCreateCommand(f: KeysFlags, io: Io): Promise<number> {
  const expires = expiresMs(f.expires)
  let out: KeyView & { key: string }
  if (viaServer(f)) {
    // The server validates scopes and name (and answers with the same codes); no need to load its
    // code here just to check them first.
    const body = JSON.stringify({
      project: f.project,
      scopes: (f.scopes ?? 'ingest,read').split(',').map((s) => s.trim()),
      name: f.name,
      ...(expires !== null ? { expires_at: new Date(expires).toISOString() } : {}),
    })
    out = (await clientFrom(f, process.env, io).request<typeof out>('POST', '/v1/keys', body)).json
  } else {
    const { checkKeyName, createApiKey, keyView, parseScopes } = await server()
    const scopes = parseScopes(f.scopes ?? 'ingest,read')
    const name = f.name === undefined ? undefined : checkKeyName(f.name)
    out = await withStore(f, false, async (store) => {
      const created = await createApiKey(store, {
        project: f.project ?? 'default',
        scopes,
        ...(name ? { name } : {}),
        expiresMs: expires,
        actor: { key_id: null, name: 'inferlog keys create' },
      })
      return { key: created.key, ...keyView(created.record) }
    })
  }
  if (f.json) printJson(io, out, true)
  else {
    io.out(out.key)
    io.err(`created key ${out.id} for project ${out.project} with scopes ${out.scopes.join(',')}; it is shown only once`)
  }
  return 0
}

/** `inferlog keys list`: never the secrets; reads a store without creating one. */
export async function keysListCommand(f: KeysFlags, io: Io): Promise<number> {
  const items: KeyView[] = viaServer(f)
    ? (await clientFrom(f, process.env, io).request<{ items: KeyView[] }>('GET', '/v1/keys')).json.items
    : await withStore(f, true, async (store) => (await store.listApiKeys(f.project)).map((await server()).keyView))
  if (f.json) printJson(io, { items }, true)
  else {
    for (const k of items) {
      const state = k.revoked_at ? `  revoked ${k.revoked_at}` : k.expires_at ? `  expires ${k.expires_at}` : ''
      io.out(`${k.id}  ${k.project}  ${k.scopes.join(',')}  ${k.name}${state}`)
    }
  }
  return 0
}

/** `inferlog keys revoke ID`: the key stops working at once here, within 60 s on other collectors. */
export async function keysRevokeCommand(id: string, f: KeysFlags, io: Io): Promise<number> {
  if (viaServer(f)) {
    await clientFrom(f, process.env, io).request('DELETE', `/v1/keys/${encodeURIComponent(id)}`)
  } else {
    await withStore(f, false, async (store) => {
      const key = (await store.listApiKeys()).find((k) => k.id === id)
      if (!key) throw new KeysUsageError('not_found', `no API key with id ${JSON.stringify(id)}`)
      await (await server()).revokeApiKey(store, key, { actor: { key_id: null, name: 'inferlog keys revoke' } })
    })
  }
  if (f.json) printJson(io, { revoked: id }, true)
  else io.err(`revoked key ${id}`)
  return 0
}
