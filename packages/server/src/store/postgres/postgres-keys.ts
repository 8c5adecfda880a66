import type { ApiKeyRecord, KeyStore } from '../ports/key-store.js'
import { type KeyRow, toKey } from '../store-rows.js'
import type { PgQueryable } from './pg-types.js'

/** The API key table in PostgreSQL. */
export class PostgresKeyStore implements KeyStore {
  constructor(private readonly pool: PgQueryable) {}

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO api_keys (id, project, name, hash, scopes, created_ms, revoked_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [k.id, k.project, k.name, k.hash, k.scopes.join(','), k.createdMs, k.revokedMs, k.expiresMs],
    )
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.pool.query<KeyRow>('SELECT * FROM api_keys WHERE hash = $1', [hash])
    return r.rows[0] && toKey(r.rows[0])
  }

  async listApiKeys(project?: string): Promise<ApiKeyRecord[]> {
    const r =
      project === undefined
        ? await this.pool.query<KeyRow>('SELECT * FROM api_keys ORDER BY created_ms, id')
        : await this.pool.query<KeyRow>('SELECT * FROM api_keys WHERE project = $1 ORDER BY created_ms, id', [project])
    return r.rows.map(toKey)
  }

  async revokeApiKey(id: string, atMs: number): Promise<boolean> {
    const r = await this.pool.query('UPDATE api_keys SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL', [atMs, id])
    return r.rowCount === 1
  }

  async countActiveApiKeys(nowMs: number): Promise<number> {
    const r = await this.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM api_keys WHERE revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > $1)',
      [nowMs],
    )
    return r.rows[0]!.n
  }
}
