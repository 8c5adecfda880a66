import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { PG_TEST_URL } from './service-availability.js'

/** A unique schema name for one test: `inferlog_<prefix>_<time>_<random>`. */
export function uniqueSchema(prefix = 't'): string {
  return `inferlog_${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
}

/** `url` with `schema=name` added (the store creates the schema on migrate). */
export function withSchema(url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.set('schema', schema)
  return u.toString()
}

/** Drops schemas and everything in them (at `url`, default {@link PG_TEST_URL}). */
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
