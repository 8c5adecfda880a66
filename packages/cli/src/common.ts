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
    .option('--url <url>', 'collector URL (default $INFERLOG_URL or http://127.0.0.1:7070)')
    .option('--api-key <key>', 'API key (default $INFERLOG_API_KEY)')
    .option('--project <name>', 'project (open mode; with a key it must match the key)')
    .option('--json', 'machine-readable output')
}

/** The HTTP client for a command's flags. */
export function clientFrom(f: ClientFlags, env: NodeJS.ProcessEnv = process.env): HttpClient {
  const apiKey = f.apiKey ?? env.INFERLOG_API_KEY
  return new HttpClient({
    url: f.url ?? env.INFERLOG_URL ?? 'http://127.0.0.1:7070',
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

/** The process's own streams. */
export const processIo = (): Io => ({
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
  isTTY: Boolean(process.stderr.isTTY),
})

/** Prints a value as one JSON line (`--json`) or as indented JSON for people. */
export function printJson(io: Io, value: unknown, compact: boolean | undefined): void {
  io.out(compact ? JSON.stringify(value) : JSON.stringify(value, null, 2))
}
