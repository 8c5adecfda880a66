import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { portOpen } from './free-port.js'
import { NATS_SERVER } from './own-nats.js'
import { PG_BIN } from './own-postgres.js'

/** The machine's PostgreSQL for tests. Default `postgres://postgres@127.0.0.1:5432/test`; override with INFERLOG_TEST_PG. */
export const PG_TEST_URL = process.env.INFERLOG_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'

/** The machine's NATS (JetStream) for tests, `host:port`. Default `127.0.0.1:4222`; override with INFERLOG_TEST_NATS. */
export const NATS_TEST_SERVER = process.env.INFERLOG_TEST_NATS ?? '127.0.0.1:4222'

/**
 * The rule of every integration test: a missing service skips the test (with a warning), except
 * under CI=true, where it is an error.
 */
function absent(what: string): false {
  if (process.env.CI === 'true') throw new Error(`${what} under CI=true`)
  console.warn(`skipping: ${what}`)
  return false
}

/** Whether the binaries to run an {@link OwnNats} and an {@link OwnPostgres} exist. */
export function servicesAvailable(): boolean {
  const missing = [NATS_SERVER, path.join(PG_BIN, 'initdb')].filter((f) => !fs.existsSync(f))
  return missing.length === 0 || absent(`scale-out tests need ${missing.join(', ')}`)
}

/** Whether PostgreSQL answers at `url` (default {@link PG_TEST_URL}). */
export async function postgresReachable(url = PG_TEST_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch (e) {
    return absent(`PostgreSQL at ${url} is unreachable (${(e as Error).message})`)
  } finally {
    await client.end().catch(() => {})
  }
}

/** Whether a NATS server accepts connections at `hostPort` (default {@link NATS_TEST_SERVER}). */
export async function natsReachable(hostPort = NATS_TEST_SERVER): Promise<boolean> {
  const u = new URL(`nats://${hostPort.replace(/^nats:\/\//, '')}`)
  return (await portOpen(Number(u.port || 4222), u.hostname)) || absent(`NATS at ${hostPort} is unreachable`)
}
