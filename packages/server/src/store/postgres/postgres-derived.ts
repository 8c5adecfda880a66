import { Kysely, PostgresDialect } from 'kysely'
import type { CompiledWrite, DerivedStore } from '../ports/derived-store.js'
import type { PgPool } from './pg-types.js'

/**
 * Derived data in PostgreSQL: reads through Kysely on the store's pool, writes with the watermark
 * in one transaction. The compare-and-set on the watermark row serializes several collectors
 * running the same consumer: the loser's transaction changes nothing and it re-reads.
 */
export class PostgresDerivedStore implements DerivedStore {
  readonly dialect = 'postgres' as const
  readonly db: Kysely<any>

  constructor(
    private readonly pool: PgPool,
    // The real `pg.Pool`, which Kysely's dialect drives itself.
    driverPool: unknown,
  ) {
    this.db = new Kysely<any>({ dialect: new PostgresDialect({ pool: driverPool as never }) })
  }

  async watermark(consumer: string): Promise<number> {
    const r = await this.pool.query<{ position: number }>('SELECT position FROM feed_consumers WHERE name = $1', [consumer])
    return Number(r.rows[0]?.position ?? 0)
  }

  async claim(consumer: string, holder: string, ttlMs: number, takeOverFrom?: string): Promise<boolean> {
    const now = Date.now()
    await this.pool.query('INSERT INTO feed_consumers (name, position, updated_ms) VALUES ($1, 0, $2) ON CONFLICT (name) DO NOTHING', [
      consumer,
      now,
    ])
    const r = await this.pool.query(
      'UPDATE feed_consumers SET holder = $2, lease_until = $3 WHERE name = $1 AND (holder IS NULL OR holder = $2 OR lease_until < $4 OR holder = $5)',
      [consumer, holder, now + ttlMs, now, takeOverFrom ?? holder],
    )
    return r.rowCount === 1
  }

  async write(writes: readonly CompiledWrite[]): Promise<void> {
    const client = await this.pool.connect()
    let failed: Error | undefined
    try {
      await client.query('BEGIN')
      for (const w of writes) await client.query(w.sql, w.parameters as unknown[])
      await client.query('COMMIT')
    } catch (e) {
      failed = e as Error
      await client.query('ROLLBACK').catch(() => undefined)
      throw e
    } finally {
      client.release(failed)
    }
  }

  async advance(consumer: string, from: number, to: number, writes: readonly CompiledWrite[]): Promise<boolean> {
    const client = await this.pool.connect()
    let failed: Error | undefined
    try {
      await client.query('BEGIN')
      const moved =
        from === 0
          ? await client.query(
              `INSERT INTO feed_consumers (name, position, updated_ms) VALUES ($1, $2, $3)
               ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms
               WHERE feed_consumers.position = 0`,
              [consumer, to, Date.now()],
            )
          : await client.query('UPDATE feed_consumers SET position = $3, updated_ms = $4 WHERE name = $1 AND position = $2', [
              consumer,
              from,
              to,
              Date.now(),
            ])
      if (moved.rowCount !== 1) {
        await client.query('ROLLBACK')
        return false
      }
      for (const w of writes) await client.query(w.sql, w.parameters as unknown[])
      await client.query('COMMIT')
      return true
    } catch (e) {
      failed = e as Error
      await client.query('ROLLBACK').catch(() => undefined)
      throw e
    } finally {
      client.release(failed)
    }
  }
}
