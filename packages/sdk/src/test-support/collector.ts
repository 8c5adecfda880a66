import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import path from 'node:path'

/** The built CLI (`npm test` builds before running). */
export const CLI = fileURLToPath(new URL('../../../cli/bin/inferlog.js', import.meta.url))

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
export function startCollector(dataDir: string, port = 0): Promise<Collector> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start: ${err}`)), 20_000)
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer)
      const url = line.trim()
      resolve({
        url,
        port: Number(new URL(url).port),
        dataDir,
        child,
        stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
          await exited
        },
      })
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`collector exited before printing its URL: ${err}`))
    })
  })
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
