import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'

/** How a child process ended. */
export interface ProcessExit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** Options of {@link spawnNode}. */
export interface SpawnNodeOptions {
  /** Merged over this process's environment. Default none. */
  env?: NodeJS.ProcessEnv
  /** Working directory. Default this process's. */
  cwd?: string
  /** Node flags before the script, e.g. `['--cpu-prof']`. Default none. */
  nodeArgs?: string[]
  /** Written to the child's stdin, which is then closed. Default: stdin closed at once. */
  input?: string | Buffer
  /** Characters of stderr kept (the tail): a long-running server may log a lot. Default 200 000. */
  stderrLimit?: number
}

/** A Node child process with its output collected. */
export interface NodeProcess {
  child: ChildProcessWithoutNullStreams
  pid: number
  /** Complete stdout lines so far. */
  lines: string[]
  /** All stdout so far. */
  stdout(): string
  /** The kept tail of stderr. */
  stderr(): string
  /** Resolves once the child has exited and its output streams are closed. */
  exited: Promise<ProcessExit>
  /**
   * Resolves with the first stdout line; rejects when the child exits before printing one, or
   * after `timeoutMs` (then the child is killed: nothing is left behind by a start that failed).
   */
  firstLine(timeoutMs: number): Promise<string>
  /** Sends `signal` (default SIGTERM), SIGKILL after `graceMs` (default 30 000), resolves with the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ProcessExit>
}

/** Starts `node [nodeArgs] script [args]` with every stream piped. */
export function spawnNode(script: string, args: string[], o: SpawnNodeOptions = {}): NodeProcess {
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), script, ...args], {
    env: { ...process.env, ...o.env },
    stdio: 'pipe',
    ...(o.cwd ? { cwd: o.cwd } : {}),
  })
  const limit = o.stderrLimit ?? 200_000
  let out = ''
  let err = ''
  let partial = ''
  const lines: string[] = []
  const lineWaiters: (() => void)[] = []
  child.stdout.on('data', (d: Buffer) => {
    const s = d.toString()
    out += s
    const parts = (partial + s).split('\n')
    partial = parts.pop()!
    if (parts.length === 0) return
    lines.push(...parts)
    for (const w of lineWaiters.splice(0)) w()
  })
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString()
    // Trim in halves: amortised O(1) per chunk instead of a slice on every write.
    if (err.length > 2 * limit) err = err.slice(-limit)
  })
  // A child that exits before reading its stdin must not crash the parent with EPIPE.
  child.stdin.on('error', () => {})
  child.stdin.end(o.input)
  // 'close', not 'exit': by then stdout and stderr are complete.
  const exited = new Promise<ProcessExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
  const alive = () => child.exitCode === null && child.signalCode === null
  const stderr = () => (err.length > limit ? err.slice(-limit) : err)
  return {
    child,
    pid: child.pid ?? -1,
    lines,
    stdout: () => out,
    stderr,
    exited,
    firstLine(timeoutMs) {
      if (lines.length > 0) return Promise.resolve(lines[0]!)
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer)
          resolve(lines[0]!)
        }
        const timer = setTimeout(() => {
          if (alive()) child.kill('SIGKILL')
          reject(new Error(`${script} ${args.join(' ')}: no output line in ${timeoutMs} ms; stderr: ${stderr()}`))
        }, timeoutMs)
        lineWaiters.push(done)
        void exited.then(({ code, signal }) => {
          if (lines.length > 0) return
          clearTimeout(timer)
          reject(new Error(`${script} ${args.join(' ')} exited (${code ?? signal}) before its first line; stderr: ${stderr()}`))
        })
      })
    },
    async stop(signal = 'SIGTERM', graceMs = 30_000) {
      if (alive()) {
        child.kill(signal)
        const t = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs)
        t.unref()
        await exited
        clearTimeout(t)
      }
      return exited
    },
  }
}
