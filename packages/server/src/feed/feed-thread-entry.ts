/**
 * Entry of {@link FeedThread}'s consumers, as a worker thread or (`process: true`) as a child
 * process: opens the store on the same file (reads on its own connection, writes through the
 * owner's writer thread: over the port it was given, or from a child process over a port bridged
 * through its IPC channel), lowers its own priority and runs the selected feed consumers until
 * told to stop.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { MessageChannel, type MessagePort, parentPort, workerData } from 'node:worker_threads'
import type { CommitListener } from '../store/ports/log-scanner.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { defaultConsumers } from './default-consumers.js'
import { FeedRunner } from './feed-runner.js'
import type { FeedProcessCommand, FeedProcessMessage, FeedThreadCommand, FeedThreadData, FeedThreadMessage } from './feed-thread.js'

/** Runs the consumers until a `stop` command; `commands` delivers what the owner sends. */
function runFeed(
  d: FeedThreadData,
  port: MessagePort,
  send: (m: FeedThreadMessage) => void,
  commands: (on: (m: FeedThreadCommand) => void) => void,
  exit: (code: number) => void,
): void {
  // The writer thread went away (its owner restarts it): end, so the owner starts a new thread
  // with a port to the new writer. Steps in flight never committed; the watermarks say so.
  let closing = false
  port.once('close', () => {
    if (!closing) exit(3)
  })
  const store = new SqliteStore({ ...d.connection, writer: { port } })
  const log =
    (level: 'info' | 'warn' | 'error') =>
    (message: string): void =>
      send({ type: 'log', level, message })
  // Batches the owner hands over as the store commits them: the runner's cache takes them as it
  // would from a store's own commit tap.
  let listener: CommitListener | undefined
  const source = {
    derived: store.derived,
    readBatches: store.readBatches.bind(store),
    commitHead: store.commitHead.bind(store),
    tapCommits: (l: CommitListener) => {
      listener = l
      return () => {
        listener = undefined
      }
    },
  }
  // The owner's load (event loop or writer), as it last reported it (ingest first: see `yieldAbove`).
  let load = 0
  const runner = new FeedRunner(source, defaultConsumers(store, d.consumers), {
    ...d.runner,
    ingestLoad: () => load,
    onHold: (holding) => send({ type: 'holding', holding }),
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    onProgress: (consumer, progress) => send({ type: 'progress', consumer, progress }),
  })
  runner.start()
  commands((m) => {
    if (m.type === 'committed') {
      try {
        listener?.(m.batch, m.after)
      } finally {
        send({ type: 'taken', bytes: m.bytes })
      }
      runner.poke()
    } else if (m.type === 'load') load = m.utilization
    else if (m.type === 'poke') runner.poke()
    else if (m.type === 'stop') {
      if (runner.yieldedMs > 0) log('info')(`consumers held their steps ${Math.round(runner.yieldedMs)} ms in all for a saturated ingest`)
      void runner
        .stop()
        .then(() => {
          closing = true
          return store.close()
        })
        .finally(() => send({ type: 'stopped' }))
    }
  })
}

/**
 * Sets every thread of this process to `nice` (Linux applies a nice value per thread; threads
 * started later inherit their creator's). For a child process whose V8 helper threads (garbage
 * collection, compilation) must yield too, not only its main thread.
 */
function niceAllThreads(nice: number): void {
  let tids: string[] = []
  try {
    tids = fs.readdirSync('/proc/self/task')
  } catch {
    // No procfs (not Linux): the main thread only.
  }
  if (tids.length === 0) tids = ['0']
  for (const tid of tids) {
    try {
      os.setPriority(Number(tid), nice)
    } catch {
      // Not allowed, or the thread ended: that thread stays as it is.
    }
  }
}

/**
 * Puts the calling thread alone under SCHED_IDLE (`chrt --idle -p 0 <tid>`: `chrt -p` without
 * `-a` changes one task); false where that failed (no procfs, not allowed).
 */
function idleThisThread(chrt: string): boolean {
  try {
    const tid = fs.readlinkSync('/proc/thread-self').split('/').pop()!
    return spawnSync(chrt, ['--idle', '-p', '0', tid], { stdio: 'ignore', timeout: 5000 }).status === 0
  } catch {
    return false
  }
}

const parent = parentPort
if (parent) {
  const d = workerData as FeedThreadData & { port: MessagePort }
  try {
    // Linux applies a nice value to the calling thread only: the collector keeps its priority.
    if (d.nice !== 0) os.setPriority(d.nice)
  } catch {
    // Not allowed here: run at normal priority.
  }
  if (d.idleWith && !idleThisThread(d.idleWith))
    parent.postMessage({
      type: 'log',
      level: 'warn',
      message: `\`chrt --idle\` failed; running at nice ${d.nice}`,
    } satisfies FeedThreadMessage)
  runFeed(
    d,
    d.port,
    (m) => parent.postMessage(m),
    (on) => parent.on('message', on),
    (code) => process.exit(code),
  )
} else if (process.send) {
  // A child process: the owner sends `init` first, then commands; writer traffic crosses the IPC
  // channel both ways and a local port pair makes it look like the writer's own port.
  const send = (m: FeedProcessMessage) => process.send?.(m)
  const { port1, port2 } = new MessageChannel()
  port2.on('message', (message: unknown) => send({ type: 'writer', message }))
  let commandHandler: ((m: FeedThreadCommand) => void) | undefined
  // The owner is gone (exit, kill -9): nothing would read what this process derives. It may have
  // gone while this module was still loading, before there was a listener to tell.
  process.on('disconnect', () => process.exit(0))
  if (!process.connected) process.exit(0)
  process.on('message', (m: FeedProcessCommand) => {
    if (m.type === 'init') {
      if (m.data.nice !== 0) niceAllThreads(m.data.nice)
      runFeed(
        m.data,
        port1,
        send,
        (on) => {
          commandHandler = on
        },
        (code) => process.exit(code),
      )
    } else if (m.type === 'writer') port2.postMessage(m.message)
    else if (m.type === 'writer-closed') port2.close()
    else commandHandler?.(m)
  })
}
