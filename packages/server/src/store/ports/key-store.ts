/** API keys: stored hashed, scoped to one project, revocable, optionally expiring. */

/** Scopes an API key can carry. `admin` implies the others. */
export type Scope = 'ingest' | 'read' | 'admin'

/** A stored API key (never the key itself: only its hash). */
export interface ApiKeyRecord {
  id: string
  project: string
  name: string
  /** SHA-256 of the whole key, hex. */
  hash: string
  scopes: Scope[]
  createdMs: number
  revokedMs: number | null
  /** When the key stops working, epoch ms; `null` never. */
  expiresMs: number | null
}

/** The API key table. */
export interface KeyStore {
  createApiKey(key: ApiKeyRecord): Promise<void>
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>
  listApiKeys(project?: string): Promise<ApiKeyRecord[]>
  revokeApiKey(id: string, atMs: number): Promise<boolean>
  /** Number of keys neither revoked nor expired at `nowMs`. */
  countActiveApiKeys(nowMs: number): Promise<number>
}
