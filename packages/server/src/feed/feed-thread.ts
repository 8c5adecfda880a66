import { type ChildProcess, fork } from 'node:child_process'
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { type MessagePort, Worker } from 'node:worker_threads'
import { nextBackoffMs } from '@inferlog/schema'
import type { Logger } from '../logging/logger.js'
import type { CommittedBatch } from '../store/ports/log-scanner.js'
import type { SqliteStore } from '../store/sqlite/sqlite-store.js'
import type { CommitFeed } from './commit-feed.js'
import type { ConsumerSelection } from './consumer-selection.js'
import { bytesIn, DEFAULT_YIELD_ABOVE, type FeedProgress, type FeedRunnerOptions } from './feed-runner.js'
import { leaseHolderId } from './lease-holder.js'

/** Options of {@link FeedThread}. */
export interface FeedThreadOptions {
  /** Which consumers run (see `defaultConsumers`). Default `all`. */
  consumers?: ConsumerSelection
  /**
   * Nice value of the thread (Linux schedules threads, and so niceness, one by one): 0 to 19,
   * higher yields more. At 10, when the CPU is the limit, ingest (main and writer threads, nice 0)
   * gets about nine tenths of it and the consumers catch up when it is idle; with spare CPU it
   * changes nothing. Where the system refuses it the thread runs at normal priority. Under `idle`
   * (the default) it is kept but SCHED_IDLE decides. Default 10.
   */
  nice?: number
  /** Runner settings handed to the thread's `FeedRunner` (plain data only). Default its defaults. */
  runner?: Pick<
    FeedRunnerOptions,
    | 'pollMs'
    | 'stepIntervalMs'
    | 'maxBatches'
    | 'maxRows'
    | 'retryMs'
    | 'sharedRows'
    | 'sharedBytes'
    | 'leaseMs'
    | 'yieldAbove'
    | 'saturatedShare'
    | 'yieldBehindMs'
    | 'holdAbove'
  >
  /**
   * The collector's time with a commit in flight so far, ms (monotonic: `WriteQueue.busyMs`). Its
   * share of the last second counts as the collector's load beside the event loop's utilization
   * (whichever is higher): a collector whose writer is the limit waits for commits on an idle
   * loop. Default none (the loop alone).
   */
  ingestBusyMs?: () => number
  /** Where the thread's log lines go (it forwards them). Default nowhere. */
  logger?: Logger
  /** Told after each step a consumer applied in the thread. */
  onProgress?: (consumer: string, p: FeedProgress) => void
  /** First wait before a thread that died is started again; doubles up to 30 s. Default 1000 ms. */
  restartMs?: number
  /** The thread's script. Default the compiled `feed-thread-entry.js` beside this file. */
  script?: URL
  /**
   * Most bytes (as the runner's cache counts them: see `FeedRunnerOptions.sharedBytes`) of
   * committed batches handed to the thread that it has not taken yet. This thread hands each batch
   * the store commits (its `CommitTap`) to the consumers' thread, so that they need not read it
   * back; past this bound (a thread that is starved or behind) batches are not handed over and the
   * thread reads them from the store when it gets there. Nor are they while the collector's load
   * is at least {@link handOverBusyAbove}. 0 turns the hand-over off. Default 32 MiB.
   */
  handOverBytes?: number
  /**
   * The collector's load (as reported to the consumers, see `ingestBusyMs`) at or above which
   * committed batches are not handed over: their clone costs a saturated event loop 3-5 µs per
   * event (bench/ingest.js), the thread's read-back costs only the idle thread. Below it they are:
   * at half the maximum rate the load often passes the yield threshold (0.6) while the collector
   * has time to spare, and the thread reading every batch back costs the consumers' freshness
   * (bench/feed.js at 8 000 ev/s, 0.6 against 0.9: 0.45-0.50 against 0.26-0.31 rows read back per
   * row, every consumer's p99 10-20 % later). 1 or more: hand over whatever the load. Default 0.9.
   */
  handOverBusyAbove?: number
  /**
   * The thread's old-generation heap limit, MB. With V8's own limit (a quarter of the machine's
   * memory, up to 4 GB) the thread's heap grew while ingest ran flat out: peak RSS of the
   * collector 925-1 060 MB, against 644-672 MB at 1024 for the same CPU per event (256-512 gave
   * the same RSS for 6-8 µs more CPU per event and later aggregates; 2048 gave 958-994 MB;
   * `bench/ingest.js`, 200 000 events). A thread that runs out of it dies and is restarted like
   * any other (consumers resume from their watermarks); ingest never shares its heap. Default 1024.
   */
  oldGenerationMb?: number
  /**
   * Runs the consumers in a child process instead of a worker thread. A thread's isolate shares
   * the process's V8 helper threads, which collect its garbage at the collector's priority; a
   * child process yields whole (helper threads included: SCHED_IDLE, see `idle`, or `nice`), so
   * under a CPU limit its collections yield to ingest as well. Its writes reach the store's writer
   * thread through the IPC channel and the owner; batches are not handed over (their clone would
   * cost the collector more than the child's read-back), so it reads them from the store. It ends
   * when the owner does. Default false.
   */
  process?: boolean
  /**
   * Run the consumers under the SCHED_IDLE policy (Linux, through util-linux's `chrt`, where it is
   * installed) instead of at `nice`: the thread itself (`chrt --idle -p 0 <its tid>`, the
   * collector's threads untouched), or with `process` the whole child. A nice thread still takes
   * the CPU for a whole slice (about 3 ms) when ingest's threads wake; an idle-policy one gives it
   * up at once, so ingest never waits on consumers, which run whenever a core is otherwise idle
   * (and get a sliver of the CPU when none is). With the launcher's `--single-threaded-gc` the
   * thread's garbage is collected on the thread, under the same policy. Where `chrt` is missing
   * or fails, `nice` applies. Default true.
   */
  idle?: boolean
}

/** Default of {@link FeedThreadOptions.handOverBusyAbove}: 0.9. */
export const DEFAULT_HAND_OVER_BUSY_ABOVE = 0.9

/** How often the owner reports its load (event loop or writer) to the consumers, ms, and over how long. */
const LOAD_REPORT_MS = 250
const LOAD_WINDOW_MS = 1000

/** `chrt`, where it is installed (Linux, util-linux), to start a process under SCHED_IDLE. */
export function idleLauncher(): string | undefined {
  if (process.platform !== 'linux') return undefined
  return ['/usr/bin/chrt', '/bin/chrt'].find((f) => fs.existsSync(f))
}

/**
 * The garbage-collection flags among `execArgv` (`--single-threaded-gc`, `--no-single-threaded-gc`),
 * for a child process that should collect as its parent does.
 */
export function gcFlags(execArgv: readonly string[]): string[] {
  return execArgv.filter((a) => a === '--single-threaded-gc' || a === '--no-single-threaded-gc')
}

/** Data the thread starts with. */
export interface FeedThreadData {
  connection: SqliteStore['connection']
  consumers: ConsumerSelection
  nice: number
  /** A worker thread: `chrt`'s path, to put the thread itself under SCHED_IDLE (see `idle`); else unset. */
  idleWith?: string
  runner: FeedThreadOptions['runner'] & { holder?: string }
}

/** A message from the thread. */
export type FeedThreadMessage =
  /** `progress.readBack`: rows the thread's runner read from the store so far (not handed over, or no longer cached). */
  | { type: 'progress'; consumer: string; progress: FeedProgress }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'stopped' }
  /** The thread took handed-over batches of this many bytes off its queue. */
  | { type: 'taken'; bytes: number }
  /** Its consumers began (true) or ended (false) holding their steps for a saturated ingest: no hand-over meanwhile. */
  | { type: 'holding'; holding: boolean }

/** A message to the thread. */
export type FeedThreadCommand =
  | { type: 'poke' }
  /** The owner's load over the last second, 0–1: its event loop's or its writer's utilization, whichever is higher (see `FeedRunnerOptions.ingestLoad`). */
  | { type: 'load'; utilization: number }
  | { type: 'stop' }
  /** A batch the store committed, under the position before it, and its size as the cache counts it. */
  | { type: 'committed'; batch: CommittedBatch; after: number; bytes: number }

/** What a child process (`process: true`) sends: the thread's messages, and its writer traffic. */
export type FeedProcessMessage = FeedThreadMessage | { type: 'writer'; message: unknown }

/** What the owner sends a child process: `init` first, commands, and the writer's replies. */
export type FeedProcessCommand =
  | FeedThreadCommand
  | { type: 'init'; data: FeedThreadData }
  | { type: 'writer'; message: unknown }
  | { type: 'writer-closed' }

/** The compiled thread script beside this module, if there is one (there is none when run from TypeScript sources). */
export function feedThreadScript(script = new URL('./feed-thread-entry.js', import.meta.url)): URL | undefined {
  return script.protocol === 'file:' && fs.existsSync(fileURLToPath(script)) ? script : undefined
}

/** The thread or child process the consumers run in, as the owner drives it. */
interface FeedHost {
  /** The thread, when they run in one. */
  readonly worker?: Worker
  /** The child process, when they run in one. */
  readonly child?: ChildProcess
  post(m: FeedThreadCommand): void
  /** Ends it at once (no clean-up). */
  kill(): Promise<void>
  readonly exited: Promise<void>
}

/**
 * The commit feed's consumers of an embedded SQLite store, run in a worker thread of their own
 * instead of on the collector's event loop: their CPU never delays a request, and at a lower
 * priority (`nice`) they yield the CPU to ingest when it is the limit, catching up when it is
 * idle. The thread reads the log on its own connection and sends its writes (with the watermark,
 * in one transaction, as always) to the store's writer thread, so there is still one writer.
 * Exactly-once does not depend on the thread: a thread that dies is started again (with back-off)
 * and resumes from the watermarks.
 *
 * Each batch the store commits is handed to the thread as it commits (structured clone of its
 * rows: the text, not the parsed form), so consumers that keep up read nothing back; a thread that
 * is behind by more than `handOverBytes` reads the rest from the store, as after a restart.
 */
export class FeedThread implements CommitFeed {
  private host: FeedHost | undefined
  private starting: Promise<void> | undefined
  private stopping = false
  private started = false
  private failures = 0
  private restartTimer: NodeJS.Timeout | undefined
  /** The consumers' lease name, the same for every thread (or child) this feed starts. */
  private readonly holder = leaseHolderId()
  private readonly progress = new Map<string, FeedProgress>()
  private stopped: (() => void) | undefined
  private readonly script: URL
  /** Stops the store handing committed batches to this thread. */
  private untap: (() => void) | undefined
  /** Bytes handed to the thread that it has not taken yet. */
  private pending = 0
  /** Batches not handed over because the thread was behind (it read them back). */
  private skipped = 0
  /** Rows the current thread read back from the store, as of its last progress message. */
  private readBackRows = 0
  /** The thread's consumers hold their steps for ingest: batches are not handed over meanwhile. */
  private holding = false
  /**
   * The collector's last measured load was at least `handOverBusyAbove`: batches are not handed
   * over meanwhile, their clone would cost the busy event loop (the thread reads them back at its
   * own priority).
   */
  private busy = false
  /** Reports the collector's load to the consumers four times a second (ingest first: `yieldAbove`). */
  private loadTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly store: SqliteStore,
    private readonly o: FeedThreadOptions = {},
  ) {
    const script = feedThreadScript(o.script)
    if (!script) throw new Error('the feed thread script is missing (run the compiled server: npm run build)')
    this.script = script
  }

  start(): void {
    if (this.started) return
    this.started = true
    this.spawn()
    // Ingest first: the consumers hold their steps while the collector is saturated: its event
    // loop busy, or its writer (a commit in flight), whichever more. Reported four times a second,
    // each over the last second.
    const yieldAbove = this.o.runner?.yieldAbove ?? DEFAULT_YIELD_ABOVE
    const busyAbove = this.o.handOverBusyAbove ?? DEFAULT_HAND_OVER_BUSY_ABOVE
    if (yieldAbove < 1 || busyAbove < 1) {
      const sample = () => ({ loop: performance.eventLoopUtilization(), busyMs: this.o.ingestBusyMs?.() ?? 0, at: performance.now() })
      const window = [sample()]
      this.loadTimer = setInterval(() => {
        const now = sample()
        const then = window[0]!
        const writer = now.at > then.at ? (now.busyMs - then.busyMs) / (now.at - then.at) : 0
        const loop = performance.eventLoopUtilization(now.loop, then.loop).utilization
        const load = Math.min(1, Math.max(loop, writer))
        // 1 or more: hand over whatever the load (a load of exactly 1 included).
        this.busy = busyAbove < 1 && load >= busyAbove
        this.send({ type: 'load', utilization: load })
        window.push(now)
        if (window.length > LOAD_WINDOW_MS / LOAD_REPORT_MS) window.shift()
      }, LOAD_REPORT_MS)
      this.loadTimer.unref()
    }
  }

  /** Resolves once the thread is started (or its start failed and a restart is scheduled). */
  async ready(): Promise<void> {
    await this.starting
  }

  poke(): void {
    // Also for batches handed over (sent before this, so the thread has them when it wakes) and
    // for those the store could not hand over (administrative, or text it stores differently).
    this.send({ type: 'poke' })
  }

  /**
   * Batches not handed to the thread because it was behind by more than `handOverBytes`, held its
   * steps for ingest, or the collector was busy (load at least `handOverBusyAbove`).
   */
  get notHandedOver(): number {
    return this.skipped
  }

  /** Rows the current thread read from the store rather than taking them handed over (as of its last step). */
  get rowsReadBack(): number {
    return this.readBackRows
  }

  private get handOverBytes(): number {
    // A child process reads every batch back (see `process`).
    return this.o.process ? 0 : (this.o.handOverBytes ?? 32 * 1024 * 1024)
  }

  private send(m: FeedThreadCommand): void {
    this.host?.post(m)
  }

  /** Hands a committed batch to the thread unless it is behind by more than the bound, or ingest is busy. */
  private handOver(batch: CommittedBatch, after: number): void {
    if (!this.host) return
    if (this.holding || this.busy) {
      // Held for ingest, or the collector is busy: the thread reads this one back when it steps.
      this.skipped++
      return
    }
    const bytes = bytesIn(batch)
    if (this.pending + bytes > this.handOverBytes) {
      // Behind: the thread reads this one from the store when the owner's poke wakes it.
      this.skipped++
      return
    }
    this.pending += bytes
    this.send({ type: 'committed', batch, after, bytes })
  }

  private stopHandOver(): void {
    this.untap?.()
    this.untap = undefined
    this.pending = 0
  }

  status(): ReadonlyMap<string, FeedProgress> {
    return this.progress
  }

  /** Asks the thread to stop after its consumers' current steps; ends it after 10 s regardless. */
  async stop(): Promise<void> {
    this.stopping = true
    if (this.restartTimer) clearTimeout(this.restartTimer)
    if (this.loadTimer) clearInterval(this.loadTimer)
    this.stopHandOver()
    await this.starting
    const h = this.host
    if (!h) return
    const done = new Promise<void>((resolve) => {
      this.stopped = resolve
    })
    this.send({ type: 'stop' })
    const t = setTimeout(() => void h.kill(), 10_000)
    await Promise.race([done, h.exited])
    clearTimeout(t)
    await h.kill()
    this.host = undefined
  }

  private spawn(): void {
    this.starting = this.open().catch((e: unknown) => {
      this.o.logger?.warn(`feed thread: could not start: ${(e as Error).message}`)
      this.scheduleRestart()
    })
  }

  private async open(): Promise<void> {
    const port = await this.store.connectWriter()
    if (!port) throw new Error('the store has no writer thread to share')
    if (this.stopping) {
      port.close()
      return
    }
    const data: FeedThreadData = {
      connection: this.store.connection,
      consumers: this.o.consumers ?? 'all',
      nice: this.o.nice ?? 10,
      ...(!this.o.process && this.o.idle !== false ? { idleWith: idleLauncher() } : {}),
      // One lease name for every thread this feed starts: a restarted thread holds its predecessor's leases.
      runner: { ...this.o.runner, holder: this.holder },
    }
    const h = this.o.process ? this.openProcess(data, port) : this.openThread(data, port)
    this.host = h
    const none = this.o.consumers === 'none' || (Array.isArray(this.o.consumers) && this.o.consumers.length === 0)
    if (!none && this.handOverBytes > 0) this.untap = this.store.tapCommits((b, after) => this.handOver(b, after))
  }

  private onMessage(m: FeedThreadMessage): void {
    if (m.type === 'progress') {
      this.failures = 0
      this.readBackRows = m.progress.readBack ?? 0
      this.progress.set(m.consumer, m.progress)
      this.o.onProgress?.(m.consumer, m.progress)
    } else if (m.type === 'log') {
      this.o.logger?.[m.level === 'error' ? 'warn' : m.level](`feed thread: ${m.message}`)
    } else if (m.type === 'stopped') {
      this.stopped?.()
    } else if (m.type === 'taken') {
      this.pending = Math.max(0, this.pending - m.bytes)
    } else if (m.type === 'holding') {
      this.holding = m.holding
    }
  }

  /** The host ended (crash, kill, or stop; `how`: its exit code or signal): unless stopping, a new one starts after a back-off. */
  private onExit(h: FeedHost, how: number | string | null): void {
    if (this.host === h) {
      this.host = undefined
      this.holding = false
      this.stopHandOver()
    }
    if (this.stopping) return
    this.o.logger?.warn(`feed thread exited (${how}); consumers resume from their watermarks when it restarts`)
    this.scheduleRestart()
  }

  private openThread(data: FeedThreadData, port: MessagePort): FeedHost {
    const w = new Worker(this.script, {
      workerData: { ...data, port },
      transferList: [port],
      resourceLimits: { maxOldGenerationSizeMb: this.o.oldGenerationMb ?? 1024 },
    })
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()))
    const h: FeedHost = {
      worker: w,
      post: (m) => w.postMessage(m),
      kill: async () => {
        await w.terminate()
      },
      exited,
    }
    w.on('message', (m: FeedThreadMessage) => this.onMessage(m))
    w.on('error', (e) => this.o.logger?.warn(`feed thread failed: ${e.message}`))
    w.on('exit', (code) => this.onExit(h, code))
    return h
  }

  private openProcess(data: FeedThreadData, port: MessagePort): FeedHost {
    // The child collects garbage as the collector does (`--single-threaded-gc` from the launcher).
    const flags = [...gcFlags(process.execArgv), `--max-old-space-size=${this.o.oldGenerationMb ?? 1024}`]
    const chrt = this.o.idle === false ? undefined : idleLauncher()
    const c = fork(fileURLToPath(this.script), [], {
      serialization: 'advanced',
      // Under `chrt --idle 0` the child and every thread it starts run SCHED_IDLE.
      ...(chrt ? { execPath: chrt, execArgv: ['--idle', '0', process.execPath, ...flags] } : { execArgv: flags }),
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    })
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    let gone = false
    const post = (m: FeedProcessCommand) => {
      // A child that is gone (or going) takes nothing: its exit restarts it.
      if (!gone && c.connected) c.send(m, (e) => e && undefined)
    }
    const h: FeedHost = {
      child: c,
      post,
      kill: async () => {
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
        await exited
      },
      exited,
    }
    // The writer's port stays here: the child's requests cross the IPC channel, replies go back.
    port.on('message', (message: unknown) => post({ type: 'writer', message }))
    port.once('close', () => post({ type: 'writer-closed' }))
    c.on('message', (m: FeedProcessMessage) => {
      if (m.type === 'writer') port.postMessage(m.message)
      else this.onMessage(m)
    })
    c.on('error', (e) => this.o.logger?.warn(`feed process failed: ${e.message}`))
    c.on('exit', (code, signal) => {
      gone = true
      port.close()
      this.onExit(h, code ?? signal)
    })
    post({ type: 'init', data: { ...data, nice: chrt ? 0 : data.nice } })
    this.o.logger?.info(`feed consumers run in process ${c.pid} (${chrt ? 'SCHED_IDLE' : `nice ${data.nice}`})`)
    return h
  }

  private scheduleRestart(): void {
    if (this.stopping) return
    const wait = nextBackoffMs(this.failures++, { baseMs: this.o.restartMs ?? 1000, maxMs: 30_000 })
    this.restartTimer = setTimeout(() => this.spawn(), wait)
    this.restartTimer.unref()
  }
}
