import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { DemoError } from './demo-error.js'

/** Options of {@link startCollector}. */
export interface CollectorOptions {
  /** Port to listen on (0: a free one). */
  port: number
  /** `--data` directory (server.json, datasets). */
  dataDir: string
  /** `--store` URL; default the server's own (`sqlite:<data>/inferlog.db`). */
  store?: string
  /** How long the collector may take to print its URL, ms. Default 60 000. */
  startTimeoutMs?: number
  /** Receives the collector's stderr lines. Default: dropped. */
  onLog?: (line: string) => void
}

/** A running `inferlog serve` child process. */
export interface Collector {
  /** The URL it listens on (its first line of output). */
  url: string
  pid: number
  /** The collector's last stderr lines (at most 20), to explain a failure. */
  recentLog(): string[]
  /** SIGTERM, then SIGKILL after `graceMs` (default 15 000); resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>
}

/** `packages/cli/bin/inferlog.js`, found through the `@inferlog/cli` dependency. */
export function cliPath(): string {
  const entry = createRequire(import.meta.url).resolve('@inferlog/cli') // <cli>/dist/index.js
  return path.join(path.dirname(entry), '..', 'bin', 'inferlog.js')
}

/**
 * Starts `inferlog serve` on loopback (open mode) as a child process in its own process group, so a
 * Ctrl-C in the terminal reaches the demo only, which then drains its logger before stopping the
 * collector. The child is killed if this process exits without stopping it.
 */
export async function startCollector(o: CollectorOptions): Promise<Collector> {
  const args = [cliPath(), 'serve', '--host', '127.0.0.1', '--port', String(o.port), '--data', o.dataDir]
  if (o.store) args.push('--store', o.store)
  // As the launcher's shebang and `npm start` run it (docs/reference/limits-and-config.md).
  const child: ChildProcess = spawn(process.execPath, ['--single-threaded-gc', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const errLines: string[] = []
  createInterface({ input: child.stderr! }).on('line', (line) => {
    errLines.push(line)
    if (errLines.length > 20) errLines.shift()
    o.onLog?.(line)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new DemoError('collector_failed', `inferlog serve printed no URL within ${o.startTimeoutMs ?? 60_000} ms`))
    }, o.startTimeoutMs ?? 60_000)
    const lines = createInterface({ input: child.stdout! })
    lines.once('line', (line) => {
      clearTimeout(timer)
      resolve(line.trim())
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      const why =
        errLines
          .filter((l) => l.trim() !== '')
          .slice(-3)
          .join(' / ') || `exit ${code ?? signal}`
      reject(new DemoError('collector_failed', `inferlog serve stopped before listening: ${why}`))
    })
  })
  let stopping: Promise<void> | undefined
  return {
    url,
    pid: child.pid ?? -1,
    recentLog: () => [...errLines],
    stop: (graceMs = 15_000) =>
      (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM')
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
          await exited
          clearTimeout(timer)
        }
        process.removeListener('exit', killOnExit)
      })()),
  }
}
