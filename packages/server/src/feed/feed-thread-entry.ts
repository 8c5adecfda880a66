/**
 * Worker-thread entry of {@link FeedThread}: opens the store on the same file (reads on its own
 * connection, writes through the owner's writer thread over the port it was given), lowers its
 * own priority and runs the selected feed consumers until told to stop.
 */
import os from 'node:os'
import { type MessagePort, parentPort, workerData } from 'node:worker_threads'
import type { CommitListener } from '../store/ports/log-scanner.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { defaultConsumers } from './default-consumers.js'
import { FeedRunner } from './feed-runner.js'
import type { FeedThreadCommand, FeedThreadData, FeedThreadMessage } from './feed-thread.js'

const parent = parentPort
if (parent) {
  const d = workerData as FeedThreadData & { port: MessagePort }
  const send = (m: FeedThreadMessage) => parent.postMessage(m)
  try {
    // Linux applies a nice value to the calling thread only: the collector keeps its priority.
    if (d.nice !== 0) os.setPriority(d.nice)
  } catch {
    // Not allowed here: run at normal priority.
  }
  // The writer thread went away (its owner restarts it): end, so the owner starts a new thread
  // with a port to the new writer. Steps in flight never committed; the watermarks say so.
  let closing = false
  d.port.once('close', () => {
    if (!closing) process.exit(3)
  })
  const store = new SqliteStore({ ...d.connection, writer: { port: d.port } })
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
  const runner = new FeedRunner(source, defaultConsumers(store, d.consumers), {
    ...d.runner,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    onProgress: (consumer, progress) => send({ type: 'progress', consumer, progress, readBack: runner.readBack }),
  })
  runner.start()
  parent.on('message', (m: FeedThreadCommand) => {
    if (m.type === 'committed') {
      try {
        listener?.(m.batch, m.after)
      } finally {
        send({ type: 'taken', bytes: m.bytes })
      }
      runner.poke()
    } else if (m.type === 'poke') runner.poke()
    else if (m.type === 'stop') {
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
