import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './free-port.js'

const run = promisify(execFile)

/** PostgreSQL's binaries (initdb, pg_ctl). Default `/usr/lib/postgresql/15/bin`; override with INFERLOG_PG_BIN. */
export const PG_BIN = process.env.INFERLOG_PG_BIN ?? '/usr/lib/postgresql/15/bin'

/** Options of {@link OwnPostgres.start}. */
export interface OwnPostgresOptions {
  /** Extra server settings, e.g. `{ shared_buffers: '256MB' }`. Default `max_connections=200`, `shared_buffers=128MB`. */
  settings?: Record<string, string | number>
  /**
   * Run on this existing data directory (a cluster stopped cleanly, owned by the user PostgreSQL
   * runs as) instead of a new one; {@link OwnPostgres.destroy} stops it and leaves it in place.
   * Benchmarks keep generated data this way. Default: a new cluster in the temp dir.
   */
  dataDir?: string
}

/**
 * A PostgreSQL cluster of our own: initdb in a temp dir (as the postgres user when running as
 * root), on a free port, fsync and synchronous_commit at their defaults (on).
 */
export class OwnPostgres {
  /** Temp dir of this instance: socket, log, and the data directory unless one was given. */
  readonly dir: string
  /** The cluster's data directory. */
  readonly dataDir: string
  private settings: Record<string, string | number> = { max_connections: 200, shared_buffers: '128MB' }
  constructor(
    readonly port: number,
    dataDir?: string,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-pg-'))
    this.dataDir = dataDir ?? path.join(this.dir, 'data')
  }
  /** A new cluster (or the one in `o.dataDir`), started. */
  static async start(o: OwnPostgresOptions = {}): Promise<OwnPostgres> {
    const p = new OwnPostgres(await freePort(), o.dataDir)
    p.settings = { ...p.settings, ...o.settings }
    fs.chmodSync(p.dir, 0o700)
    if (process.getuid?.() === 0) await run('chown', ['postgres:postgres', p.dir])
    if (!o.dataDir) await p.pg('initdb', ['-D', p.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'])
    await p.start()
    return p
  }
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`
  }
  /** The postmaster's pid (for CPU accounting), read from its pid file. */
  get pid(): number {
    return Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  }
  private pg(bin: string, args: string[]) {
    const cmd = path.join(PG_BIN, bin)
    return process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args)
  }
  /** (Re)starts it; recovery replays the WAL after an `immediate` stop. */
  async start(): Promise<void> {
    const settings = Object.entries(this.settings)
      .map(([k, v]) => `-c ${k}=${v}`)
      .join(' ')
    await this.pg('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      path.join(this.dir, 'log'),
      '-w',
      '-t',
      '120',
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} ${settings}`,
      'start',
    ])
  }
  /** `immediate` (the default) is a crash stop: no checkpoint. */
  async stop(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    await this.pg('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', 'stop']).catch(() => {})
  }
  /** Stops it and removes its files (a given data directory is stopped cleanly and kept). */
  async destroy(): Promise<void> {
    await this.stop(this.dataDir === path.join(this.dir, 'data') ? 'immediate' : 'fast')
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}
