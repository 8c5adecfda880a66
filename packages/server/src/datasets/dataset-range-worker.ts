/**
 * Worker-thread entry of a {@link threadRangeCompiler} thread: opens the store once with its own
 * connection, then compiles the ranges it is given one at a time (`compileRange`), posting each
 * scan chunk's piece (its buffers transferred) and waiting for credit once `ahead` are untaken.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { compileRange } from '@inferlog/datasets'
import { openStore } from '../store/open-store.js'
import type { Store } from '../store/store.js'
import { storeDatasetSource } from './store-dataset-source.js'
import type { RangeReply, RangeRequest } from './thread-range-compiler.js'

class Cancelled extends Error {}

/** SQLite page cache of a range thread's connection, KiB. */
const RANGE_CACHE_KIB = 2048

const port = parentPort
if (port) {
  const { storeUrl } = workerData as { storeUrl: string }
  let store: Store | undefined
  let opened: Promise<Store> | undefined
  const open = () => {
    opened ??= (async () => {
      // A range is a short rowid walk: a small page cache serves it as well as the default 16 MiB,
      // and there is one connection per thread.
      const s = openStore(storeUrl, { readOnly: storeUrl.startsWith('sqlite:'), cacheKiB: RANGE_CACHE_KIB })
      store = s
      await s.migrate()
      return s
    })()
    return opened
  }
  // The range being compiled: its credits and whether the build gave it up.
  let current: { id: number; credits: number; cancelled: boolean; wake: (() => void) | undefined } | undefined
  const jobs: Extract<RangeRequest, { type: 'job' }>[] = []
  let busy = false

  const run = async () => {
    if (busy) return
    busy = true
    try {
      for (let req = jobs.shift(); req !== undefined; req = jobs.shift()) {
        const r = { id: req.id, credits: req.ahead, cancelled: false, wake: undefined as (() => void) | undefined }
        current = r
        try {
          const source = storeDatasetSource(await open())
          await compileRange(source, req.job, async (piece, transfer) => {
            while (r.credits === 0 && !r.cancelled) await new Promise<void>((resolve) => (r.wake = resolve))
            if (r.cancelled) throw new Cancelled('cancelled')
            r.credits--
            port.postMessage({ type: 'piece', id: r.id, piece } satisfies RangeReply, transfer)
          })
          port.postMessage({ type: 'end', id: r.id } satisfies RangeReply)
        } catch (e) {
          const err = e as { name?: string; code?: string; message?: string; status?: number; issues?: unknown }
          port.postMessage({
            type: 'error',
            id: r.id,
            error: {
              name: err.name ?? 'Error',
              code: err.code ?? 'internal',
              message: err.message ?? String(e),
              ...(err.status !== undefined ? { status: err.status } : {}),
              ...(err.issues !== undefined ? { issues: err.issues } : {}),
            },
          } satisfies RangeReply)
        } finally {
          current = undefined
        }
      }
    } finally {
      busy = false
    }
  }

  port.on('message', (m: RangeRequest) => {
    if (m.type === 'job') {
      jobs.push(m)
      void run()
      return
    }
    const r = current
    if (!r || r.id !== m.id) return
    if (m.type === 'more') r.credits++
    else r.cancelled = true
    const w = r.wake
    r.wake = undefined
    w?.()
  })
  port.once('close', () => {
    void store?.close().catch(() => undefined)
  })
}
