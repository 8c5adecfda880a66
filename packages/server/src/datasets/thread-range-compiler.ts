import { availableParallelism } from 'node:os'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { compileRange, type DatasetSource, PieceChannel, type RangeCompiler, type RangeJob, type RangePiece } from '@inferlog/datasets'

/** Options of {@link threadRangeCompiler}. */
export interface ThreadRangeCompilerOptions {
  /** Worker threads, each with its own store connection; default {@link defaultDatasetWorkers}. */
  workers?: number
  /** Pieces (scan chunks) a range may hold ready beyond what the build has taken; default 4. */
  ahead?: number
  /** Worker script. Default: the compiled `dataset-range-worker.js` beside this file. */
  script?: URL
  /**
   * Compile ranges on the calling thread too, reading this source: it is one of the `workers`
   * (so `workers: 2` starts one thread). Saves a thread's heap and the hand-over of its pieces;
   * the calling thread yields to its event loop after each chunk, so the threads' pieces keep
   * flowing. Default none: every range on a thread.
   */
  local?: DatasetSource
  /** Heap limits of each thread, as `Worker`'s `resourceLimits`. */
  resourceLimits?: { maxYoungGenerationSizeMb?: number; maxOldGenerationSizeMb?: number }
}

/** Messages to a range thread. */
export type RangeRequest =
  | { type: 'job'; id: number; job: RangeJob; ahead: number }
  | { type: 'more'; id: number }
  | { type: 'cancel'; id: number }

/** Messages from a range thread. */
export type RangeReply =
  | { type: 'piece'; id: number; piece: RangePiece }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; error: { name: string; code: string; message: string; status?: number; issues?: unknown } }

/** A {@link RangeCompiler} whose threads can be stopped. */
export interface ThreadRangeCompiler extends RangeCompiler {
  /** Terminates every thread (idempotent); ranges not finished fail. */
  close(): Promise<void>
}

/**
 * Default number of compilers of a dataset build's ranges: `min(2, os.availableParallelism())`.
 * Two because one build should not take every core of a collector that is also ingesting; raise
 * it (`INFERLOG_DATASET_WORKERS`, `DatasetBuilds({ workers })`) on a machine with cores to spare.
 */
export function defaultDatasetWorkers(): number {
  return Math.min(2, availableParallelism())
}

interface Running {
  id: number
  channel: PieceChannel
}

interface Thread {
  worker: Worker
  running: Running | undefined
}

/** True when the store at `url` can be opened again from another thread (not an in-memory SQLite database). */
export function sharableStore(url: string): boolean {
  return !url.startsWith('sqlite::memory:')
}

/** True when the compiled worker script exists (not when tests run from the sources). */
export function rangeWorkerAvailable(script = new URL('./dataset-range-worker.js', import.meta.url)): boolean {
  return fs.existsSync(fileURLToPath(script))
}

/**
 * Compiles ranges of a dataset build on worker threads, each opening the store at `storeUrl`
 * (read-only for SQLite) once and running `compileRange` for one range after another. A range's
 * thread posts a piece per scan chunk and at most `ahead` pieces before the build takes one (each
 * take grants one more), so a range ahead of the build waits instead of filling memory. A thread
 * that fails or dies fails its range (and, when it died, every range), and the build with it.
 */
export function threadRangeCompiler(storeUrl: string, o: ThreadRangeCompilerOptions = {}): ThreadRangeCompiler {
  const script = o.script ?? new URL('./dataset-range-worker.js', import.meta.url)
  const workers = Math.max(1, o.workers ?? defaultDatasetWorkers())
  const ahead = o.ahead ?? 4
  const threads: Thread[] = []
  const queued: { id: number; job: RangeJob; channel: PieceChannel }[] = []
  let nextId = 1
  let broken: Error | undefined
  let closed = false

  const fail = (e: Error) => {
    broken ??= e
    for (const t of threads) t.running?.channel.fail(e)
    for (const q of queued.splice(0)) q.channel.fail(e)
  }

  const spawn = (): Thread => {
    const worker = new Worker(script, { workerData: { storeUrl }, ...(o.resourceLimits ? { resourceLimits: o.resourceLimits } : {}) })
    const t: Thread = { worker, running: undefined }
    worker.on('message', (m: RangeReply) => {
      const r = t.running
      if (!r || r.id !== m.id) return
      if (m.type === 'piece') {
        r.channel.put(m.piece)
        return
      }
      if (m.type === 'end') r.channel.end()
      else {
        const { name, code, message, status, issues } = m.error
        r.channel.fail(Object.assign(new Error(message), { name, code, status, issues }))
      }
      t.running = undefined
      dispatch()
    })
    worker.once('error', (e) => fail(new Error(`dataset range thread failed: ${e.message}`, { cause: e })))
    worker.once('exit', (code) => {
      if (!closed) fail(new Error(`dataset range thread exited with ${code}`))
    })
    threads.push(t)
    return t
  }

  const local = o.local
  const threadCount = local ? workers - 1 : workers
  let localBusy = false
  const runLocal = (job: RangeJob, channel: PieceChannel) => {
    localBusy = true
    void (async () => {
      try {
        await compileRange(local!, job, async (piece) => {
          if (closed || broken) throw broken ?? new Error('the range compiler is closed')
          await channel.push(piece)
          // Let the threads' messages in between two chunks compiled here.
          await new Promise<void>((resolve) => setImmediate(resolve))
        })
        channel.end()
      } catch (e) {
        channel.fail(e)
      } finally {
        localBusy = false
        dispatch()
      }
    })()
  }

  const dispatch = () => {
    while (queued.length > 0 && !broken && !closed) {
      let t = threads.find((x) => x.running === undefined)
      if (!t && threads.length < threadCount) t = spawn()
      if (!t) {
        if (!local || localBusy) return
        const { job, channel } = queued.shift()!
        if (!channel.closed) runLocal(job, channel)
        continue
      }
      const { id, job, channel } = queued.shift()!
      if (channel.closed) continue
      const thread = t
      thread.running = { id, channel }
      channel.onTake = () => {
        if (thread.running?.id === id) thread.worker.postMessage({ type: 'more', id } satisfies RangeRequest)
      }
      channel.onClose = () => {
        if (thread.running?.id === id) thread.worker.postMessage({ type: 'cancel', id } satisfies RangeRequest)
      }
      thread.worker.postMessage({ type: 'job', id, job, ahead } satisfies RangeRequest)
    }
  }

  return {
    workers,
    compile(job: RangeJob): AsyncIterable<RangePiece> {
      // A thread's pieces are bounded by its credits; a range compiled here waits on the channel.
      const channel = new PieceChannel(ahead)
      if (broken || closed) channel.fail(broken ?? new Error('the range compiler is closed'))
      else {
        queued.push({ id: nextId++, job, channel })
        dispatch()
      }
      return channel
    },
    async close() {
      if (closed) return
      closed = true
      const e = new Error('the range compiler is closed')
      for (const t of threads) t.running?.channel.fail(e)
      for (const q of queued.splice(0)) q.channel.fail(e)
      await Promise.all(threads.map((t) => t.worker.terminate()))
    },
  }
}
