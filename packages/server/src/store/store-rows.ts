import type { ApiKeyRecord, Scope } from './ports/key-store.js'
import type { Page, StoredRow } from './ports/record-reader.js'

/** An `api_keys` row as both SQL adapters store it (scopes comma-separated). */
export interface KeyRow {
  id: string
  project: string
  name: string
  hash: string
  scopes: string
  created_ms: number
  revoked_ms: number | null
  expires_ms: number | null
}

/** Maps an `api_keys` row to the port's record. */
export function toKey(r: KeyRow): ApiKeyRecord {
  return {
    id: r.id,
    project: r.project,
    name: r.name,
    hash: r.hash,
    scopes: r.scopes.split(',') as Scope[],
    createdMs: r.created_ms,
    revokedMs: r.revoked_ms,
    expiresMs: r.expires_ms ?? null,
  }
}

/**
 * Cuts `limit + 1` fetched rows (newest first) into a page: the extra row only tells that more
 * exist, and the last kept row is the cursor.
 */
export function page(rows: StoredRow[], limit: number): Page {
  if (rows.length <= limit) return { rows, next: null }
  const kept = rows.slice(0, limit)
  const last = kept[kept.length - 1]!
  return { rows: kept, next: { tsMs: last.tsMs, seq: last.seq } }
}
