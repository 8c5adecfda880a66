/**
 * Worker-thread entry of {@link verifyChainParallel}: checks the rows of one range of batches on a
 * connection of its own and posts the report.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { openStore } from '../store/open-store.js'
import { verifyChain } from './verify-chain.js'

const port = parentPort
if (port) {
  const { url, from, to, chunkRows, strays } = workerData as {
    url: string
    from: number
    to: number
    chunkRows?: number
    strays?: 'end' | 'range'
  }
  const run = async () => {
    const store = openStore(url, { readOnly: url.startsWith('sqlite:') })
    try {
      await store.migrate()
      return await verifyChain(store, { from, to, parts: 'rows', ...(chunkRows ? { chunkRows } : {}), ...(strays ? { strays } : {}) })
    } finally {
      await store.close()
    }
  }
  run().then(
    (report) => port.postMessage({ ok: true, report }),
    (e: Error) => port.postMessage({ ok: false, message: e.message }),
  )
}
