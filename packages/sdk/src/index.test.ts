import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from './index.js'

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('createLogger', () => {
  it('names the url option and the value when the URL is unusable', () => {
    for (const url of ['not a url', 'ftp://127.0.0.1:7070', '127.0.0.1:7070']) {
      expect(() => createLogger({ url, spool: { dir: false }, flushOnExit: false })).toThrow(TypeError)
      expect(() => createLogger({ url, spool: { dir: false }, flushOnExit: false })).toThrow(
        `inferlog: url must be an http:// or https:// URL`,
      )
      expect(() => createLogger({ url, spool: { dir: false }, flushOnExit: false })).toThrow(JSON.stringify(url))
    }
  })

  it('says when the bad URL came from $INFERLOG_URL', () => {
    vi.stubEnv('INFERLOG_URL', 'nope')
    expect(() => createLogger({ spool: { dir: false }, flushOnExit: false })).toThrow(
      'url ($INFERLOG_URL) must be an http:// or https:// URL',
    )
  })

  it('takes http and https URLs, with a path prefix', async () => {
    for (const url of ['http://127.0.0.1:7070', 'https://collector.example/inferlog/']) {
      const log = createLogger({ url, spool: { dir: false }, flushOnExit: false })
      await log.close()
    }
  })
})
