/**
 * Throwaway NATS and PostgreSQL servers for the scale-out tests, each on a free port with its own
 * data directory, so a test can stop and restart them without disturbing the machine's shared ones.
 * Under CI=true a service that cannot be started fails the test; elsewhere the tests skip.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const run = promisify(execFile)

/** The built CLI launcher (npm test builds before running). */
export const CLI = fileURLToPath(new URL('../../packages/cli/bin/inferlog.js', import.meta.url))

export const NATS_SERVER = process.env.INFERLOG_NATS_SERVER ?? '/usr/sbin/nats-server'
export const PG_BIN = process.env.INFERLOG_PG_BIN ?? '/usr/lib/postgresql/15/bin'

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitPort(port: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1')
      c.once('connect', () => {
        c.destroy()
        resolve(true)
      })
      c.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Whether the scale-out tests can run here; under CI=true a missing service is an error. */
export function servicesAvailable(): boolean {
  const missing = [NATS_SERVER, path.join(PG_BIN, 'initdb')].filter((f) => !fs.existsSync(f))
  if (missing.length === 0) return true
  if (process.env.CI === 'true') throw new Error(`scale-out tests need ${missing.join(', ')} under CI=true`)
  console.warn(`skipping scale-out tests: ${missing.join(', ')} not found`)
  return false
}

/** A nats-server with JetStream of our own. */
export class OwnNats {
  child: ChildProcess | undefined
  readonly dir: string
  constructor(readonly port: number) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-nats-'))
  }
  static async start(): Promise<OwnNats> {
    const n = new OwnNats(await freePort())
    await n.start()
    return n
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`
  }
  async start(): Promise<void> {
    this.child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.dir], { stdio: 'ignore' })
    await waitPort(this.port)
  }
  /** SIGKILL by default: the harshest stop. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill(signal)
    await exited
  }
  async destroy(): Promise<void> {
    await this.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A PostgreSQL cluster of our own (initdb in a temp dir, run as the postgres user). */
export class OwnPostgres {
  readonly dir: string
  constructor(readonly port: number) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-pg-'))
  }
  static async start(): Promise<OwnPostgres> {
    const p = new OwnPostgres(await freePort())
    fs.chmodSync(p.dir, 0o700)
    const asPostgres = process.getuid?.() === 0
    if (asPostgres) await run('chown', ['postgres:postgres', p.dir])
    await p.pg('initdb', ['-D', path.join(p.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'])
    await p.start()
    return p
  }
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`
  }
  private pg(bin: string, args: string[]) {
    const cmd = path.join(PG_BIN, bin)
    return process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args)
  }
  async start(): Promise<void> {
    await this.pg('pg_ctl', [
      '-D',
      path.join(this.dir, 'data'),
      '-l',
      path.join(this.dir, 'log'),
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c max_connections=200 -c shared_buffers=128MB`,
      'start',
    ])
  }
  /** `immediate` is a crash stop (no checkpoint; recovery replays WAL on start). */
  async stop(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    await this.pg('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', mode, '-w', 'stop']).catch(() => {})
  }
  async destroy(): Promise<void> {
    await this.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A CLI process (collector or worker) that printed its first line. */
export interface CliProcess {
  first: string
  child: ChildProcess
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGTERM and wait. */
  stop(): Promise<void>
}

/** Starts `inferlog <args>` and resolves with its first stdout line. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliProcess> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
    if (err.length > 200_000) err = err.slice(-100_000)
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const timer = setTimeout(() => reject(new Error(`inferlog ${args[0]} did not start in 30s: ${err}`)), 30_000)
    lines.once('line', (first) => {
      clearTimeout(timer)
      resolve({
        first: first.trim(),
        child,
        stderr: () => err,
        exited,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
          await exited
        },
      })
    })
    void exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`inferlog ${args[0]} exited with ${code} before its first line: ${err}`))
    })
  })
}
