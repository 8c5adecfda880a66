/**
 * The part of the `pg` driver the PostgreSQL store uses, declared here so the store's logic does
 * not depend on the driver package (and tests could hand it any pool of the same shape).
 */

/** Rows of one statement. */
export interface PgResult<R> {
  rows: R[]
  rowCount: number | null
}

/** A statement; with a `name`, the driver prepares it once per connection. */
export interface PgStatement {
  name?: string
  text: string
  values?: unknown[]
}

/** Something that runs a parameterized statement. */
export interface PgQueryable {
  query<R extends object = Record<string, unknown>>(q: string | PgStatement, values?: unknown[]): Promise<PgResult<R>>
}

/** A connection checked out of the pool (for a transaction). */
export interface PgClient extends PgQueryable {
  /** Returns it to the pool; with an error, the pool discards it. */
  release(err?: Error | boolean): void
}

/** A connection pool. */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgClient>
  end(): Promise<void>
}
