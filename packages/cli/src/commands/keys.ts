import path from 'node:path'
import { createApiKey, openStore, parseScopes, SCOPES } from '@inferlog/server'
import { clientFrom, printJson, type ClientFlags, type Io } from '../common.js'

/** Flags of `inferlog keys create`. */
export interface KeysCreateFlags extends ClientFlags {
  scopes?: string
  name?: string
  data?: string
  store?: string
}

function storeUrl(f: KeysCreateFlags): string {
  return (
    f.store ??
    process.env.INFERLOG_STORE ??
    `sqlite:${path.join(path.resolve(f.data ?? process.env.INFERLOG_DATA ?? './data'), 'inferlog.db')}`
  )
}

/**
 * `inferlog keys create --project P --scopes ingest,read`: prints the new key once. Without
 * `--url` it writes the store under `--data` directly (how the first key is made); with `--url`
 * it asks a running server (needs an admin key once keys exist).
 */
export async function keysCreateCommand(f: KeysCreateFlags, io: Io): Promise<number> {
  const scopes = parseScopes(f.scopes ?? 'ingest,read')
  let out: { key: string; id: string; project: string; scopes: string[]; name: string }
  if (f.url) {
    const body = JSON.stringify({ project: f.project, scopes, name: f.name })
    out = (await clientFrom(f).request<typeof out>('POST', '/v1/keys', body)).json
  } else {
    const store = openStore(storeUrl(f))
    try {
      await store.migrate()
      const created = await createApiKey(store, { project: f.project ?? 'default', scopes, ...(f.name ? { name: f.name } : {}) })
      out = {
        key: created.key,
        id: created.record.id,
        project: created.record.project,
        scopes: created.record.scopes,
        name: created.record.name,
      }
    } finally {
      await store.close()
    }
  }
  if (f.json) printJson(io, out, true)
  else {
    io.out(out.key)
    io.err(`created key ${out.id} for project ${out.project} with scopes ${out.scopes.join(',')}; it is shown only once`)
  }
  return 0
}

/** `inferlog keys list`. */
export async function keysListCommand(f: KeysCreateFlags, io: Io): Promise<number> {
  let items: { id: string; project: string; name: string; scopes: string[]; createdMs: number; revokedMs: number | null }[]
  if (f.url) {
    items = (await clientFrom(f).request<{ items: typeof items }>('GET', '/v1/keys')).json.items
  } else {
    const store = openStore(storeUrl(f))
    try {
      await store.migrate()
      items = (await store.listApiKeys(f.project)).map(({ hash: _h, ...k }) => k)
    } finally {
      await store.close()
    }
  }
  if (f.json) printJson(io, { items }, true)
  else for (const k of items) io.out(`${k.id}  ${k.project}  ${k.scopes.join(',')}  ${k.name}${k.revokedMs ? '  (revoked)' : ''}`)
  return 0
}

export { SCOPES }
