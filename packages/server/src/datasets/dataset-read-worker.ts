/**
 * Worker-thread entry of a read-ahead scan ({@link readAheadDatasetSource}): opens the store with
 * its own connection, reads the scan's chunks and each chunk's feedback, and posts them in order,
 * at most `ahead` beyond what the compiler has taken.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { openStore } from '../store/open-store.js'
import type { Store } from '../store/store.js'
import { packChunk } from './joined-chunk-codec.js'
import type { ReadJob, ReadMessage } from './read-ahead-source.js'
import { storeDatasetSource } from './store-dataset-source.js'

const port = parentPort
if (port) {
  const job = workerData as ReadJob
  let credits = job.ahead
  let wake: (() => void) | undefined
  port.on('message', () => {
    credits++
    const w = wake
    wake = undefined
    w?.()
  })
  void (async () => {
    let store: Store | undefined
    try {
      store = openStore(job.storeUrl, { readOnly: job.storeUrl.startsWith('sqlite:') })
      await store.migrate()
      const source = storeDatasetSource(store)
      for await (const events of source.scanEvents(job.project, job.filter, job.bounds, job.chunkSize)) {
        const feedback =
          job.names.length === 0 || events.length === 0
            ? []
            : await source.feedbackFor(
                job.project,
                events.map((e) => e.id),
                job.bounds.upToBatch,
                job.names,
              )
        const chunk = packChunk({ events, feedback })
        while (credits === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve
          })
        }
        credits--
        port.postMessage({ type: 'chunk', chunk } satisfies ReadMessage, [chunk.numbers.buffer as ArrayBuffer])
      }
      port.postMessage({ type: 'end' } satisfies ReadMessage)
    } catch (e) {
      const err = e as { name?: string; code?: string; message?: string }
      port.postMessage({
        type: 'error',
        error: { name: err.name ?? 'Error', code: err.code ?? 'internal', message: err.message ?? String(e) },
      } satisfies ReadMessage)
    } finally {
      await store?.close().catch(() => undefined)
    }
  })()
}
