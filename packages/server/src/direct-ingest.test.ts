import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { DirectIngest } from '@inferlog/schema'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDirectIngest } from './direct-ingest.js'
import { ReadService } from './query/read-service.js'
import { openStore } from './store/open-store.js'

const ndjson = (items: object[]) => Buffer.from(`${items.map((i) => JSON.stringify(i)).join('\n')}\n`)
const event = (id: string, extra: object = {}) => ({ id, model: { name: 'm', version: '1' }, input: 1, output: 2, ...extra })

let dir: string
let url: string
let ingest: DirectIngest
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-direct-'))
  url = `sqlite:${path.join(dir, 'inferlog.db')}`
  ingest = await openDirectIngest(url)
})
afterEach(async () => {
  await ingest.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('openDirectIngest', () => {
  it('ingests NDJSON through the collector pipeline: 200, then 207 with per-item codes, duplicates counted', async () => {
    expect(await ingest.ingestNdjson('event', 'p', ndjson([event('a'), event('b')]))).toMatchObject({
      status: 200,
      reply: { accepted: 2, duplicates: 0, ids: ['a', 'b'], rejected: [] },
    })
    const mixed = await ingest.ingestNdjson('event', 'p', ndjson([event('a'), event('c', { sample_rate: 7 }), event('b', { output: 3 })]))
    expect(mixed.status).toBe(207)
    expect(mixed.reply).toMatchObject({ accepted: 0, duplicates: 1 })
    expect(mixed.reply?.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'validation_failed'],
      [2, 'conflict'],
    ])
    expect(await ingest.ingestNdjson('feedback', 'p', ndjson([{ event_id: 'a', name: 'thumbs', value: 1 }]))).toMatchObject({
      status: 200,
    })
    await ingest.close()
    // Committed: another store handle reads it back.
    const store = openStore(url)
    try {
      const detail = await new ReadService(store).event('p', 'a')
      expect(detail.event).toMatchObject({ id: 'a', input: 1, output: 2 })
      expect(detail.feedback).toMatchObject([{ event_id: 'a', name: 'thumbs', value: 1 }])
    } finally {
      await store.close()
    }
  })

  it('answers request-level failures with their status and code instead of throwing', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => event(`e${i}`))
    expect(await ingest.ingestNdjson('event', 'p', ndjson(many))).toMatchObject({ status: 413, errorCode: 'too_many_items' })
  })

  it('rejects when the store cannot be opened', async () => {
    await expect(openDirectIngest('mysql://nowhere/x')).rejects.toThrow('unsupported store URL scheme')
  })

  it('close() is idempotent', async () => {
    await ingest.close()
    await ingest.close()
  })
})
