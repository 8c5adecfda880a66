/**
 * Worker-thread entry of a dataset build: opens the store read-only-ish with its own connection,
 * builds one version into the project's catalog directory, and posts the result (or the error).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createDatasetCatalog } from '@inferlog/datasets'
import { openStore } from '../store/open-store.js'
import { readAheadDatasetSource } from './read-ahead-source.js'
import { storeDatasetSource } from './store-dataset-source.js'
import { rangeWorkerAvailable, sharableStore, threadRangeCompiler } from './thread-range-compiler.js'

interface Job {
  storeUrl: string
  dir: string
  project: string
  name?: string
  spec: unknown
  sinceLast: boolean
  skipEmpty?: boolean
  chunkSize?: number
  readAhead?: boolean
  /** Threads compiling ranges of the log; 1 or absent: this thread compiles it all. */
  workers?: number
  /** Heap of each range thread. */
  youngGenerationMb?: number
  oldGenerationMb?: number
}

const port = parentPort
if (port) {
  const job = workerData as Job
  void (async () => {
    const store = openStore(job.storeUrl, { readOnly: job.storeUrl.startsWith('sqlite:') })
    // Ranges of the log compiled on threads of their own, each with its own connection (not for
    // a store that cannot be opened twice, nor without the compiled thread script).
    const ranges =
      (job.workers ?? 1) > 1 && sharableStore(job.storeUrl) && rangeWorkerAvailable()
        ? threadRangeCompiler(job.storeUrl, {
            workers: job.workers!,
            // This thread compiles ranges too (one thread fewer: less memory, fewer hand-overs).
            local: storeDatasetSource(store),
            resourceLimits: {
              ...(job.youngGenerationMb !== undefined ? { maxYoungGenerationSizeMb: job.youngGenerationMb } : {}),
              ...(job.oldGenerationMb !== undefined ? { maxOldGenerationSizeMb: job.oldGenerationMb } : {}),
            },
          })
        : undefined
    try {
      await store.migrate()
      const result = await createDatasetCatalog({ dir: job.dir }).build({
        // With readAhead the store is read on a second thread, beside the compiler (same rows, same order).
        source: job.readAhead ? readAheadDatasetSource(job.storeUrl, storeDatasetSource(store)) : storeDatasetSource(store),
        project: job.project,
        spec: job.spec,
        sinceLast: job.sinceLast,
        skipEmpty: job.skipEmpty === true,
        ...(job.chunkSize !== undefined ? { chunkSize: job.chunkSize } : {}),
        ...(job.name !== undefined ? { name: job.name } : {}),
        ...(ranges ? { ranges } : {}),
      })
      port.postMessage({ ok: true, result })
    } catch (e) {
      const err = e as { name?: string; code?: string; message?: string; status?: number; issues?: unknown }
      port.postMessage({
        ok: false,
        error: {
          name: err.name ?? 'Error',
          code: err.code ?? 'internal',
          message: err.message ?? String(e),
          status: err.status,
          issues: err.issues,
        },
      })
    } finally {
      await ranges?.close()
      await store.close().catch(() => undefined)
    }
  })()
}
