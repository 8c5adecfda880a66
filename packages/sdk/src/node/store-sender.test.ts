import { describe, expect, it } from 'vitest'
import { createLoggerWith } from '../core/logger.js'
import type { InferlogSdkError } from '../errors.js'
import { nodePlatform } from './node-platform.js'
import { createStoreSender } from './store-sender.js'

describe('direct-to-store without the server package', () => {
  it('reports store_unavailable once per batch, counts the items as failed, and does not retry', async () => {
    const errors: InferlogSdkError[] = []
    const platform = nodePlatform()
    const sender = createStoreSender({
      store: 'sqlite:/nonexistent/x.db',
      project: 'p',
      platform,
      onWarning: () => undefined,
      moduleName: '@inferlog/no-such-package',
    })
    const log = createLoggerWith(
      { model: { name: 'm', version: '1' }, flushOnExit: false, batch: { intervalMs: 10 }, onError: (e) => errors.push(e) },
      { platform, sender },
    )
    for (let i = 0; i < 5; i++) log.log({ input: i, output: i })
    await log.flush()
    expect(log.stats()).toMatchObject({ failed: 5, sent: 0, retried: 0 })
    expect(errors.map((e) => e.code)).toEqual(['store_unavailable'])
    expect(errors[0]!.message).toContain('@inferlog/no-such-package')
    expect(errors[0]!.items).toBe(5)
    await log.close()
  })
})
