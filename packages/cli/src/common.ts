import fs from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { HttpClient } from './http-client.js'

/** Options every client command takes. */
export interface ClientFlags {
  url?: string
  apiKey?: string
  project?: string
  json?: boolean
}

/** Adds `--url`, `--api-key`, `--project`, `--json` to a command. */
export function clientOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'collector URL (default $INFERLOG_URL, else the server running on ./data, else http://127.0.0.1:7070)')
    .option('--api-key <key>', 'API key (default $INFERLOG_API_KEY)')
    .option('--project <name>', 'project (open mode; with a key it must match the key)')
    .option('--json', 'machine-readable output')
}

/** Where the collector was found, for the one line that says which server a command talks to. */
export interface ServerLocation {
  url: string
  /** `flag`, `env`, the server info file it came from, or `default`. */
  source: string
  /** Whether that server serves keyless requests (known only for a discovered one). */
  open?: boolean
}

/** True when a process with this pid exists (signal 0 probes without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The server a local `inferlog serve` advertises in `<data>/server.json` (data directory from
 * `dataDir`, `$INFERLOG_DATA` or `./data`), if its process still runs.
 */
export function discoverServer(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): ServerLocation | undefined {
  const file = path.join(path.resolve(dataDir || env.INFERLOG_DATA || './data'), 'server.json')
  try {
    const info = JSON.parse(fs.readFileSync(file, 'utf8')) as { url?: unknown; pid?: unknown; open?: unknown }
    if (typeof info.url === 'string' && typeof info.pid === 'number' && alive(info.pid)) {
      return { url: info.url, source: file, open: info.open === true }
    }
  } catch {
    // No server advertised there.
  }
  return undefined
}

/** Which collector a client command talks to: `--url`, `$INFERLOG_URL`, a discovered local server, or the default. */
export function locateServer(f: { url?: string; data?: string }, env: NodeJS.ProcessEnv = process.env): ServerLocation {
  if (f.url) return { url: f.url, source: 'flag' }
  if (env.INFERLOG_URL) return { url: env.INFERLOG_URL, source: 'env' }
  return discoverServer(f.data, env) ?? { url: 'http://127.0.0.1:7070', source: 'default' }
}

/** The HTTP client for a command's flags; says on stderr which server it found when none was named. */
export function clientFrom(f: ClientFlags & { data?: string }, env: NodeJS.ProcessEnv = process.env, io?: Io): HttpClient {
  const apiKey = f.apiKey ?? env.INFERLOG_API_KEY
  const where = locateServer(f, env)
  if (io && where.source !== 'flag' && where.source !== 'env' && !f.json) {
    io.err(
      `inferlog: using ${where.url}${where.source === 'default' ? ' (default)' : ` (from ${path.relative(process.cwd(), where.source) || where.source})`}`,
    )
  }
  return new HttpClient({
    url: where.url,
    ...(apiKey ? { apiKey } : {}),
    ...(f.project ? { project: f.project } : {}),
  })
}

/** Where commands write: stdout for results, stderr for progress and notes. */
export interface Io {
  out(line: string): void
  err(line: string): void
  /** True when stderr is a terminal (progress bars). */
  isTTY: boolean
}

/** The process's own streams (the launcher makes a closed stdout end the command quietly). */
export const processIo = (): Io => ({
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  isTTY: Boolean(process.stderr.isTTY),
})

/** Prints a value as one JSON line (`--json`) or as indented JSON for people. */
export function printJson(io: Io, value: unknown, compact: boolean | undefined): void {
  io.out(compact ? JSON.stringify(value) : JSON.stringify(value, null, 2))
}
