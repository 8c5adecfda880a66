import { createHash } from 'node:crypto'
import type { ErasedRecord } from '../source/dataset-source.js'
import type { DatasetManifest } from './manifest.js'

/**
 * Summarizes erased records for the manifest: counts, a SHA-256 of `kind:id\n` in the order the
 * store lists them (sorted by batch then id by contract of the port's implementations), and up to
 * 100 ids as a sample. Streams: the full list is never held.
 */
export async function collectErased(records: AsyncIterable<ErasedRecord[]>): Promise<NonNullable<DatasetManifest['erased']>> {
  const hash = createHash('sha256')
  let events = 0
  let feedback = 0
  const sample: string[] = []
  for await (const chunk of records) {
    for (const r of chunk) {
      if (r.kind === 'event') events++
      else feedback++
      hash.update(`${r.kind}:${r.id}\n`)
      if (sample.length < 100) sample.push(r.id)
    }
  }
  return { events, feedback, sha256: hash.digest('hex'), sample }
}
