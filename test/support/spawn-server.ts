import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The built CLI launcher (npm test builds before running). */
export const CLI = fileURLToPath(new URL('../../packages/cli/bin/inferlog.js', import.meta.url))

/** A collector running as a child process. */
export interface ServerProcess {
  url: string
  child: ChildProcessWithoutNullStreams
  stderr: () => string
  /** Resolves with the exit code/signal once the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `inferlog serve --port 0 …` and resolves once it printed its URL (its first stdout line). */
export function spawnServer(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
    ...(cwd ? { cwd } : {}),
  })
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    const timer = setTimeout(() => reject(new Error(`server did not start in 20s: ${err}`)), 20_000)
    lines.once('line', (url) => {
      clearTimeout(timer)
      resolve({ url: url.trim(), child, stderr: () => err, exited })
    })
    void exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before printing its URL: ${err}`))
    })
  })
}

/** Runs the CLI to completion (in `cwd`, default this process's) and returns its output. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'pipe', ...(cwd ? { cwd } : {}) })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    if (input !== undefined) child.stdin.end(input)
    else child.stdin.end()
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Every item of a keyset-paginated list endpoint (`/v1/events`, `/v1/feedback`), page by page. */
export async function listAll(url: string, path: string): Promise<{ id: string }[]> {
  const out: { id: string }[] = []
  let cursor: string | null = null
  do {
    const res = await fetch(`${url}${path}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`)
    const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null }
    out.push(...page.items)
    cursor = page.next_cursor
  } while (cursor)
  return out
}
