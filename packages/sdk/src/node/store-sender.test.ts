import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openStore, ReadService } from '@inferlog/server'
import { afterAll, describe, expect, it } from 'vitest'
import { createLoggerWith } from '../core/logger.js'
import type { InferlogSdkError } from '../errors.js'
import { nodePlatform } from './node-platform.js'
import { createStoreSender, type StoreSenderOptions } from './store-sender.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inferlog-store-sender-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

function setup(o: Partial<StoreSenderOptions>) {
  const errors: InferlogSdkError[] = []
  const platform = nodePlatform()
  const sender = createStoreSender({ store: 'sqlite:/nonexistent/x.db', project: 'p', platform, onWarning: () => undefined, ...o })
  const log = createLoggerWith(
    { model: { name: 'm', version: '1' }, flushOnExit: false, batch: { intervalMs: 10 }, onError: (e) => errors.push(e) },
    { platform, sender },
  )
  return { log, errors }
}

describe('direct-to-store', () => {
  it('without the server package: reports store_unavailable once per batch, counts the items as failed, and does not retry', async () => {
    const { log, errors } = setup({ moduleName: '@inferlog/no-such-package' })
    for (let i = 0; i < 5; i++) log.log({ input: i, output: i })
    await log.flush()
    expect(log.stats()).toMatchObject({ failed: 5, sent: 0, retried: 0 })
    expect(errors.map((e) => e.code)).toEqual(['store_unavailable'])
    expect(errors[0]!.message).toContain('@inferlog/no-such-package')
    expect(errors[0]!.items).toBe(5)
    await log.close()
  })

  it('with a package that has no openDirectIngest: store_unavailable, naming what is missing', async () => {
    const { log, errors } = setup({ moduleName: 'node:path' })
    log.log({ input: 1, output: 1 })
    await log.flush()
    expect(log.stats()).toMatchObject({ failed: 1, retried: 0 })
    expect(errors.map((e) => e.code)).toEqual(['store_unavailable'])
    expect(errors[0]!.message).toContain('openDirectIngest')
    await log.close()
  })

  it('writes through the server package in this process; rejections come back per item', async () => {
    const url = `sqlite:${path.join(root, 'direct.db')}`
    const { log, errors } = setup({ store: url, project: 'direct' })
    const id = log.log({ input: { q: 1 }, output: { a: 2 }, internals: { emb: new Float32Array([1, 2]) } })
    log.log({ input: 1, output: 1, sample_rate: 7 })
    log.feedback(id, 'thumbs', 1)
    await log.close()
    expect(log.stats()).toMatchObject({ sent: 2, rejected: 1, failed: 0 })
    expect(errors.map((e) => e.code)).toEqual(['rejected'])
    // Read back through the server's public read API.
    const store = openStore(url)
    try {
      const detail = await new ReadService(store).event('direct', id)
      expect(detail.event).toMatchObject({ id, input: { q: 1 }, output: { a: 2 }, internals: { emb: { dtype: 'float32', shape: [2] } } })
      expect(detail.feedback).toMatchObject([{ event_id: id, name: 'thumbs', value: 1 }])
    } finally {
      await store.close()
    }
  })
})
