import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, waitPort } from './free-port.js'

/** The nats-server binary. Default `/usr/sbin/nats-server`; override with INFERLOG_NATS_SERVER. */
export const NATS_SERVER = process.env.INFERLOG_NATS_SERVER ?? '/usr/sbin/nats-server'

/**
 * A nats-server with JetStream of our own, on a free port with its own storage directory, so a
 * test can kill and restart it without disturbing the machine's shared one.
 */
export class OwnNats {
  child: ChildProcess | undefined
  readonly dir: string
  constructor(readonly port: number) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-nats-'))
  }
  /** A new server, started. */
  static async start(): Promise<OwnNats> {
    const n = new OwnNats(await freePort())
    await n.start()
    return n
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`
  }
  get pid(): number | undefined {
    return this.child?.pid
  }
  /** (Re)starts it on the same port and storage: what JetStream stored survives a restart. */
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
  /** Stops it and removes its storage. */
  async destroy(): Promise<void> {
    await this.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}
