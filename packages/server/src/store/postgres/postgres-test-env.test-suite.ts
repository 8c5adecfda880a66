/**
 * Test helpers for the PostgreSQL store: where the test server is, whether it is reachable, and
 * throwaway schemas. Integration tests skip when PostgreSQL is unreachable, except under CI=true,
 * where they fail.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The server the tests use. Default `postgres://postgres@127.0.0.1:5432/test`; override with INFERLOG_TEST_PG. */
export const PG_TEST_URL = process.env.INFERLOG_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'

/** True when PostgreSQL answers; under CI=true an unreachable server throws instead. */
export async function postgresReachable(url = PG_TEST_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL at ${url} is unreachable under CI=true: ${(e as Error).message}`)
    console.warn(`skipping PostgreSQL tests: ${url} unreachable (${(e as Error).message})`)
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

/** A unique schema name for one test. */
export function uniqueSchema(prefix = 't'): string {
  return `inferlog_${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
}

/** `url` with `schema=name` added (the store creates the schema on migrate). */
export function withSchema(url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.set('schema', schema)
  return u.toString()
}

/** Drops schemas (and everything in them). */
export async function dropSchemas(schemas: string[], url = PG_TEST_URL): Promise<void> {
  if (schemas.length === 0) return
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`)
  } finally {
    await client.end()
  }
}
