import fs from 'node:fs'
import { InferlogError } from '../errors.js'
import { PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js'
import { SqliteStore } from './sqlite/sqlite-store.js'
import type { Store } from './store.js'

/** What {@link openStore} may be told besides the URL. */
export interface OpenStoreOptions {
  /** Told about conditions worth an operator's look (PostgreSQL only for now). */
  onWarning?: (message: string) => void
  /**
   * Open an existing store to read it, never creating a file or directory (tools that only
   * read). A missing SQLite file is `not_found`. Default false.
   */
  readOnly?: boolean
  /** SQLite page cache of the connection, KiB; default the store's (16 MiB read-only, 64 MiB otherwise). */
  cacheKiB?: number
}

/**
 * Parses a PostgreSQL store URL. Besides what libpq-style URLs carry, two query parameters are
 * read here and removed: `schema` (tables live there; created if missing) and `pool` (most
 * connections of this process, default 8).
 */
export function parsePostgresUrl(url: string): PostgresStoreOptions {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new InferlogError('invalid_parameter', 'store URL is not a valid postgres:// URL')
  }
  const options: PostgresStoreOptions = { connectionString: '' }
  const schema = u.searchParams.get('schema')
  if (schema !== null) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new InferlogError('invalid_parameter', `schema=${schema}: use lower-case letters, digits and _`)
    options.schema = schema
    u.searchParams.delete('schema')
  }
  const pool = u.searchParams.get('pool')
  if (pool !== null) {
    const n = Number(pool)
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InferlogError('invalid_parameter', `pool=${pool}: must be an integer 1..1000`)
    options.poolSize = n
    u.searchParams.delete('pool')
  }
  options.connectionString = u.toString()
  return options
}

/**
 * Opens a store from a URL: `sqlite:<path>` (or `sqlite::memory:`), or
 * `postgres://user@host:port/db[?schema=name&pool=8]` (also `postgresql://`).
 */
export function openStore(url: string, options: OpenStoreOptions = {}): Store {
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (!filename) throw new InferlogError('invalid_parameter', `store URL ${url} names no file`)
    if (options.readOnly && filename !== ':memory:' && !fs.existsSync(filename)) {
      throw new InferlogError('not_found', `no store at ${filename} (start \`inferlog serve\` once, or pass --data / --store)`)
    }
    try {
      return new SqliteStore({
        filename,
        writer: 'thread',
        ...(options.readOnly ? { readonly: true } : {}),
        ...(options.cacheKiB !== undefined ? { cacheKiB: options.cacheKiB } : {}),
      })
    } catch (e) {
      throw new InferlogError('invalid_parameter', `cannot open store ${url}: ${(e as Error).message}`, { cause: e })
    }
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return new PostgresStore({ ...parsePostgresUrl(url), ...(options.onWarning ? { onWarning: options.onWarning } : {}) })
  }
  const scheme = url.split(':')[0]
  throw new InferlogError('invalid_parameter', `unsupported store URL scheme "${scheme}:" (supported: sqlite:, postgres://)`)
}
