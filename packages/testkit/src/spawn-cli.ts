import { CLI } from './repo-paths.js'
import { type NodeProcess, type ProcessExit, type SpawnNodeOptions, spawnNode } from './spawn-node.js'

/** Options of {@link spawnCli}, {@link spawnServer} and {@link runCli}. */
export interface SpawnCliOptions extends SpawnNodeOptions {
  /** Another launcher taking the CLI's arguments (A/B experiments). Default the built CLI, {@link CLI}. */
  script?: string
  /** How long the first stdout line may take. Default 30 000 ms. */
  startTimeoutMs?: number
  /** {@link runCli}: SIGKILL the run after this long (its `signal` then says so). Default none. */
  killAfterMs?: number
}

/** A CLI process (a collector or a worker) that printed its first line. */
export interface CliProcess extends NodeProcess {
  /** Its first stdout line, trimmed: the URL for `serve`, the health URL or status for `worker`. */
  first: string
}

/** A collector (`inferlog serve`) that printed the URL it listens on. */
export interface ServerProcess extends CliProcess {
  url: string
  port: number
}

/** Starts `inferlog <args>` and resolves with its first stdout line. */
export async function spawnCli(args: string[], o: SpawnCliOptions = {}): Promise<CliProcess> {
  const p = spawnNode(o.script ?? CLI, args, o)
  const first = (await p.firstLine(o.startTimeoutMs ?? 30_000)).trim()
  return Object.assign(p, { first })
}

/**
 * Node flags the collector is started with, as `npm start` and the `inferlog` launcher's shebang
 * start it: `--single-threaded-gc` (each heap collects on its own thread, so the commit-feed
 * thread's garbage collection runs at its priority, not on V8's shared helper threads).
 */
export const SERVER_NODE_ARGS: readonly string[] = ['--single-threaded-gc']

/**
 * Starts `inferlog serve --port 0 <args>` (a later `--port` in `args` wins) with
 * {@link SERVER_NODE_ARGS} before `o.nodeArgs` (a later flag wins, e.g. `--no-single-threaded-gc`)
 * and resolves once it printed the URL it listens on.
 */
export async function spawnServer(args: string[], o: SpawnCliOptions = {}): Promise<ServerProcess> {
  const p = await spawnCli(['serve', '--port', '0', ...args], { ...o, nodeArgs: [...SERVER_NODE_ARGS, ...(o.nodeArgs ?? [])] })
  return Object.assign(p, { url: p.first, port: Number(new URL(p.first).port) })
}

/** What a CLI run printed, and how it ended. */
export interface CliRun extends ProcessExit {
  stdout: string
  stderr: string
}

/** Runs `inferlog <args>` to completion (`input`, when given, is its stdin). */
export async function runCli(args: string[], o: SpawnCliOptions = {}): Promise<CliRun> {
  const p = spawnNode(o.script ?? CLI, args, o)
  const timer = o.killAfterMs === undefined ? undefined : setTimeout(() => p.child.kill('SIGKILL'), o.killAfterMs)
  const exit = await p.exited
  clearTimeout(timer)
  return { ...exit, stdout: p.stdout(), stderr: p.stderr() }
}
