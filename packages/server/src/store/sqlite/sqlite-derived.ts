import type Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { CompiledWrite, DerivedStore } from '../ports/derived-store.js'

/**
 * Derived data in the SQLite file. Reads go through Kysely on the store's connection; writes go
 * to whoever owns the write connection (the writer thread, or the store itself inline), so they
 * interleave with group commits instead of fighting them for the lock.
 */
export class SqliteDerivedStore implements DerivedStore {
  readonly dialect = 'sqlite' as const
  readonly db: Kysely<any>
  /** Prepared on first use (the table exists only after the store's migration). */
  private position?: Database.Statement

  constructor(
    private readonly conn: Database.Database,
    private readonly writer: {
      advance(consumer: string, from: number, to: number, writes: readonly CompiledWrite[]): Promise<boolean>
      exec(writes: readonly CompiledWrite[]): Promise<void>
      claim(consumer: string, holder: string, ttlMs: number, takeOverFrom?: string): Promise<boolean>
    },
  ) {
    this.db = new Kysely<any>({ dialect: new SqliteDialect({ database: conn }) })
  }

  async watermark(consumer: string): Promise<number> {
    this.position ??= this.conn.prepare('SELECT position FROM feed_consumers WHERE name = ?').pluck()
    const v = this.position.get(consumer) as number | undefined
    return v ?? 0
  }

  advance(consumer: string, from: number, to: number, writes: readonly CompiledWrite[]): Promise<boolean> {
    return this.writer.advance(consumer, from, to, writes)
  }

  claim(consumer: string, holder: string, ttlMs: number, takeOverFrom?: string): Promise<boolean> {
    return this.writer.claim(consumer, holder, ttlMs, takeOverFrom)
  }

  write(writes: readonly CompiledWrite[]): Promise<void> {
    return this.writer.exec(writes)
  }
}
