import type Database from 'better-sqlite3'
import type { ApiKeyRecord, KeyStore } from '../ports/key-store.js'
import { type KeyRow, toKey } from '../store-rows.js'

/** The API key table in the SQLite file (written on the store's own connection: keys are rare). */
export class SqliteKeyStore implements KeyStore {
  constructor(private readonly db: Database.Database) {}

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO api_keys (id, project, name, hash, scopes, created_ms, revoked_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(k.id, k.project, k.name, k.hash, k.scopes.join(','), k.createdMs, k.revokedMs, k.expiresMs)
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM api_keys WHERE hash = ?').get(hash) as KeyRow | undefined
    return r && toKey(r)
  }

  async listApiKeys(project?: string): Promise<ApiKeyRecord[]> {
    const rows = (
      project === undefined
        ? this.db.prepare('SELECT * FROM api_keys ORDER BY created_ms, id').all()
        : this.db.prepare('SELECT * FROM api_keys WHERE project = ? ORDER BY created_ms, id').all(project)
    ) as KeyRow[]
    return rows.map(toKey)
  }

  async revokeApiKey(id: string, atMs: number): Promise<boolean> {
    return this.db.prepare('UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL').run(atMs, id).changes === 1
  }

  async countActiveApiKeys(nowMs: number): Promise<number> {
    return this.db
      .prepare('SELECT count(*) FROM api_keys WHERE revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > ?)')
      .pluck()
      .get(nowMs) as number
  }
}
