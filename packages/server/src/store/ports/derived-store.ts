import type { Kysely } from 'kysely'

/**
 * A write statement ready to run: SQL in the store's dialect with its parameters, as Kysely's
 * `query.compile()` makes it. Plain data, so it can cross to a writer thread.
 */
export interface CompiledWrite {
  readonly sql: string
  readonly parameters: readonly unknown[]
}

/**
 * Where feed consumers keep what they derive (aggregates, profiles, the audit chain), next to a
 * durable watermark per consumer. A consumer's writes and its watermark move in one transaction,
 * so a crash at any instant neither skips nor double-counts a batch.
 *
 * Queries are written once with Kysely and run on either store: reads through {@link db},
 * writes compiled (`query.compile()`) and handed to {@link advance}, which the SQLite adapter runs
 * on its writer thread between group commits and PostgreSQL in one transaction.
 */
export interface DerivedStore {
  /** `sqlite` or `postgres`: for the few statements whose SQL differs. */
  readonly dialect: 'sqlite' | 'postgres'
  /** Read access for consumers and for the endpoints that answer from derived data. */
  readonly db: Kysely<any>
  /** The consumer's watermark: the last commit position it applied (0 when new). */
  watermark(consumer: string): Promise<number>
  /**
   * In one transaction: moves the consumer's watermark from `from` to `to` (compare-and-set) and
   * runs `writes`. Resolves false, changing nothing, when the watermark is no longer `from`
   * (another instance advanced it); the caller re-reads and retries.
   */
  advance(consumer: string, from: number, to: number, writes: readonly CompiledWrite[]): Promise<boolean>
  /**
   * Takes or renews the lease on running `consumer` for `ttlMs`: true when `holder` holds it now
   * (it was free, expired, or already `holder`'s). Several processes may run a consumer safely
   * (the watermark arbitrates), but only the lease holder does the work; the others stand by.
   * A `ttlMs` of 0 or less gives the lease up (a holder's graceful stop): another holder may
   * claim it at once instead of when it would have run out; it changes nothing when `holder`
   * does not hold it. With `takeOverFrom`, also when that is the holder (one the caller knows is
   * gone: a process of this host that no longer runs), whatever time its lease has left.
   */
  claim(consumer: string, holder: string, ttlMs: number, takeOverFrom?: string): Promise<boolean>
  /**
   * Runs `writes` in one transaction, with no watermark: for data people configure rather than
   * derive (model configuration, alert rules, price tables) that lives beside derived data.
   */
  write(writes: readonly CompiledWrite[]): Promise<void>
}
