import type { ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnServer } from '@inferlog/testkit'
import Database from 'better-sqlite3'

export { CLI } from '@inferlog/testkit'

/** A collector running as a child process (`inferlog serve`). */
export interface Collector {
  url: string
  port: number
  dataDir: string
  child: ChildProcess
  /** Stops it (SIGTERM by default: it commits what is queued) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>
}

/** Starts `inferlog serve --port <port> --data <dir>` and resolves once it printed its URL. */
export async function startCollector(dataDir: string, port = 0): Promise<Collector> {
  const p = await spawnServer(['--port', String(port), '--data', dataDir])
  return {
    url: p.url,
    port: p.port,
    dataDir,
    child: p.child,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      await p.stop(signal)
    },
  }
}

/** Ids of the stored events of a project (read-only look at the collector's SQLite file). */
export function storedEventIds(dataDir: string, project = 'default'): string[] {
  const db = new Database(path.join(dataDir, 'inferlog.db'), { readonly: true, fileMustExist: true })
  try {
    return (db.prepare('SELECT id FROM events WHERE project = ?').all(project) as { id: string }[]).map((r) => r.id)
  } finally {
    db.close()
  }
}

/** Stored event bodies of a project. */
export function storedEventBodies(dataDir: string, project = 'default'): string[] {
  const db = new Database(path.join(dataDir, 'inferlog.db'), { readonly: true, fileMustExist: true })
  try {
    return (db.prepare('SELECT body FROM events WHERE project = ?').all(project) as { body: string }[]).map((r) => r.body)
  } finally {
    db.close()
  }
}

/** A Node child process running an SDK script from the built package. */
export const SDK_DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
