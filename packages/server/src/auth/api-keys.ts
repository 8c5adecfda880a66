import { type AuditActor, appendAuditRecord } from '../audit/audit-records.js'
import { createHash, randomBytes } from 'node:crypto'
import { InferlogError } from '../errors.js'
import type { ApiKeyRecord, Scope, Store } from '../store/store.js'

/** Every scope a key can carry. */
export const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin']

/** SHA-256 of a key. Keys are 192-bit random secrets, so a fast hash is the right one. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/**
 * Scopes from a comma list (`ingest,read`) or a JSON array of names; `invalid_parameter` for
 * anything else: an empty list, an unknown name, or an array entry that is not a string.
 */
export function parseScopes(s: unknown): Scope[] {
  if (typeof s !== 'string' && !Array.isArray(s)) {
    throw new InferlogError('invalid_parameter', `scopes must be a list such as ["ingest","read"], got ${JSON.stringify(s) ?? String(s)}`)
  }
  if (Array.isArray(s) && s.some((x) => typeof x !== 'string')) {
    throw new InferlogError('invalid_parameter', `scopes must be strings, one of ${SCOPES.join(', ')}`)
  }
  const list = (typeof s === 'string' ? s.split(',') : (s as string[])).map((x) => x.trim()).filter(Boolean)
  if (list.length === 0) throw new InferlogError('invalid_parameter', `scopes must name at least one of ${SCOPES.join(', ')}`)
  for (const x of list) {
    if (!(SCOPES as readonly string[]).includes(x))
      throw new InferlogError('invalid_parameter', `unknown scope ${JSON.stringify(x)}; known: ${SCOPES.join(', ')}`)
  }
  return [...new Set(list)] as Scope[]
}

/** Project names: letters, digits, `-`, `_`, `.`; 1..64 characters. */
export function checkProjectName(project: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(project)) {
    throw new InferlogError('invalid_parameter', `project name ${JSON.stringify(project)} must be 1-64 of letters, digits, '.', '_' or '-'`)
  }
  return project
}

/** Longest key label, in characters. */
export const MAX_KEY_NAME = 128

/** A key label: 1-128 printable characters (no control characters, not only white space). */
export function checkKeyName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_KEY_NAME || !/^(?!\s*$)[^\p{Cc}\p{Cs}]+$/u.test(name)) {
    throw new InferlogError('invalid_parameter', `name must be 1-${MAX_KEY_NAME} printable characters`)
  }
  return name
}

/** Options of {@link createApiKey}. */
export interface CreateApiKeyOptions {
  project: string
  scopes: Scope[]
  /** Label shown in listings. Default `key`. */
  name?: string
  /** Epoch ms after which the key stops working. Default never. */
  expiresMs?: number | null
  /** Epoch ms. Default now. */
  nowMs?: number
  /** Who creates it, for the audit record. Default the local operator (`{key_id: null, name: 'operator'}`). */
  actor?: AuditActor
}

/**
 * Creates and stores a key. The plaintext (`il_<id>_<secret>`) is returned once and never stored;
 * only its SHA-256 is. The creation is then chained as an administrative record (`key_created`:
 * id, name, scopes, expiry; never the key).
 */
export async function createApiKey(store: Store, o: CreateApiKeyOptions): Promise<{ key: string; record: ApiKeyRecord }> {
  checkProjectName(o.project)
  const createdMs = o.nowMs ?? Date.now()
  if (o.expiresMs != null && o.expiresMs <= createdMs) throw new InferlogError('invalid_parameter', 'expires_at must be in the future')
  const id = randomBytes(6).toString('hex')
  const key = `il_${id}_${randomBytes(24).toString('base64url')}`
  const record: ApiKeyRecord = {
    id,
    project: o.project,
    name: o.name === undefined ? 'key' : checkKeyName(o.name),
    hash: hashApiKey(key),
    scopes: o.scopes,
    createdMs,
    revokedMs: null,
    expiresMs: o.expiresMs ?? null,
  }
  await store.createApiKey(record)
  await appendAuditRecord(store, {
    project: record.project,
    type: 'key_created',
    actor: o.actor ?? OPERATOR,
    nowMs: createdMs,
    details: {
      key_id: id,
      name: record.name,
      scopes: record.scopes,
      expires_at: record.expiresMs === null ? null : new Date(record.expiresMs).toISOString(),
    },
  })
  return { key, record }
}

const OPERATOR: AuditActor = { key_id: null, name: 'operator' }

/**
 * Revokes a key (it stops working at once) and chains the revocation as an administrative record
 * (`key_revoked`). Resolves false, recording nothing, when the key does not exist or was revoked
 * already.
 */
export async function revokeApiKey(
  store: Store,
  key: Pick<ApiKeyRecord, 'id' | 'project' | 'name' | 'revokedMs'>,
  o: { actor?: AuditActor; nowMs?: number } = {},
): Promise<boolean> {
  if (key.revokedMs !== null) return false
  const nowMs = o.nowMs ?? Date.now()
  if (!(await store.revokeApiKey(key.id, nowMs))) return false
  await appendAuditRecord(store, {
    project: key.project,
    type: 'key_revoked',
    actor: o.actor ?? OPERATOR,
    nowMs,
    details: { key_id: key.id, name: key.name },
  })
  return true
}
