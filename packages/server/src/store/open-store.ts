import { InferlogError } from '../errors.js'
import { SqliteStore } from './sqlite/sqlite-store.js'
import type { Store } from './store.js'

/**
 * Opens a store from a URL: `sqlite:<path>` (or `sqlite::memory:`). The PostgreSQL adapter
 * (`postgres://…`) plugs in here.
 */
export function openStore(url: string): Store {
  if (url.startsWith('sqlite:')) {
    const filename = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (!filename) throw new InferlogError('invalid_parameter', `store URL ${url} names no file`)
    return new SqliteStore({ filename, writer: 'thread' })
  }
  const scheme = url.split(':')[0]
  throw new InferlogError('invalid_parameter', `unsupported store URL scheme "${scheme}:" (supported: sqlite:)`)
}
