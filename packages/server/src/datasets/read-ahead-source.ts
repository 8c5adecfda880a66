import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { DatasetSource, JoinedChunk, ScanBounds, ScanFilter } from '@inferlog/datasets'
import type { ErrorCode } from '@inferlog/schema'
import { InferlogError } from '../errors.js'
import { type PackedChunk, unpackChunk } from './joined-chunk-codec.js'

/** Options of {@link readAheadDatasetSource}. */
export interface ReadAheadOptions {
  /** Reader script. Default: the compiled `dataset-read-worker.js` beside this file. */
  script?: URL
  /** Chunks the reader may hold ready beyond the one being compiled; default 4. */
  ahead?: number
}

/** What the reader thread is given. */
export interface ReadJob {
  storeUrl: string
  project: string
  filter: ScanFilter
  bounds: ScanBounds
  chunkSize: number
  names: string[]
  ahead: number
}

/** Messages from the reader thread. */
export type ReadMessage =
  | { type: 'chunk'; chunk: PackedChunk }
  | { type: 'end' }
  | { type: 'error'; error: { name: string; code: string; message: string } }

/** True when the store at `url` can be opened a second time from another thread. */
function sharable(url: string): boolean {
  return !url.startsWith('sqlite::memory:') && url !== 'sqlite::memory:'
}

/**
 * `source` plus a {@link DatasetSource.scanJoined} that reads on another thread: a reader opens
 * the store at `storeUrl` with its own connection, walks the same scan and feedback look-ups as
 * `source`, and posts each chunk with its feedback while the compiler works on the one before (at
 * most `ahead` chunks waiting). The store's read cost (SQLite pages, PostgreSQL round trips and
 * row decoding) then runs beside the compiler's instead of before it; chunks arrive in scan order,
 * so the build's rows and bytes are the same. Without the compiled reader script (tests running
 * from sources) or for an in-memory store, `source` is returned as it is.
 */
export function readAheadDatasetSource(storeUrl: string, source: DatasetSource, o: ReadAheadOptions = {}): DatasetSource {
  const script = o.script ?? new URL('./dataset-read-worker.js', import.meta.url)
  if (!sharable(storeUrl) || !fs.existsSync(fileURLToPath(script))) return source
  const ahead = o.ahead ?? 4
  return {
    watermark: (project) => source.watermark(project),
    scanEvents: (project, filter, bounds, chunkSize) => source.scanEvents(project, filter, bounds, chunkSize),
    feedbackFor: (project, ids, upToBatch, names) => source.feedbackFor(project, ids, upToBatch, names),
    ...(source.erased ? { erased: source.erased.bind(source) } : {}),
    scanJoined: (project, filter, bounds, chunkSize, names) =>
      readOnThread(script, { storeUrl, project, filter, bounds, chunkSize, names, ahead }),
  }
}

async function* readOnThread(script: URL, job: ReadJob): AsyncIterable<JoinedChunk> {
  const worker = new Worker(script, { workerData: job })
  const queue: ReadMessage[] = []
  let failure: Error | undefined
  let exited = false
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  worker.on('message', (m: ReadMessage) => {
    queue.push(m)
    notify()
  })
  worker.once('error', (e) => {
    failure ??= new InferlogError('internal', `dataset read failed: ${e.message}`, { cause: e })
    notify()
  })
  worker.once('exit', (code) => {
    exited = true
    if (code !== 0) failure ??= new InferlogError('internal', `dataset reader exited with ${code}`)
    notify()
  })
  try {
    for (;;) {
      while (queue.length === 0) {
        if (failure) throw failure
        if (exited) throw new InferlogError('internal', 'dataset reader stopped before the end of the scan')
        await new Promise<void>((resolve) => {
          wake = resolve
        })
      }
      const m = queue.shift()!
      if (m.type === 'end') return
      if (m.type === 'error') {
        const { name, code, message } = m.error
        if (name === 'InferlogError') throw new InferlogError(code as ErrorCode, message)
        throw Object.assign(new Error(message), { name, code })
      }
      // Ask for the next chunk before compiling this one: the reader stays `ahead` chunks ahead.
      worker.postMessage('more')
      yield unpackChunk(m.chunk)
    }
  } finally {
    await worker.terminate()
  }
}
