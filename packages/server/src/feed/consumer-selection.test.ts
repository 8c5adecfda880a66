import { describe, expect, it } from 'vitest'
import { resolveServerConfig } from '../config.js'
import { isInferlogError } from '../errors.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { eventRecord } from '../store/store-conformance.test-suite.js'
import { CONSUMER_NAMES, parseConsumerSelection } from './consumer-selection.js'
import { defaultConsumers } from './default-consumers.js'
import { FeedRunner } from './feed-runner.js'

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f()
  } catch (e) {
    return isInferlogError(e) ? e.code : `not an InferlogError: ${String(e)}`
  }
  return undefined
}

describe('consumer selection', () => {
  it('parses all, none and comma lists (trimmed, without repeats)', () => {
    expect(parseConsumerSelection('all')).toBe('all')
    expect(parseConsumerSelection(' none ')).toBe('none')
    expect(parseConsumerSelection('noop')).toEqual(['noop'])
    expect(parseConsumerSelection(' catalog , metrics,catalog')).toEqual(['catalog', 'metrics'])
  })

  it('refuses unknown names and empty lists with invalid_parameter', () => {
    expect(codeOf(() => parseConsumerSelection('catalog,nope'))).toBe('invalid_parameter')
    expect(codeOf(() => parseConsumerSelection(''))).toBe('invalid_parameter')
    expect(codeOf(() => parseConsumerSelection(' , '))).toBe('invalid_parameter')
    expect(codeOf(() => parseConsumerSelection('ALL'))).toBe('invalid_parameter')
  })

  it('runs in a thread at nice 10 unless told otherwise; bad values are invalid_parameter', () => {
    const defaults = { thread: true, nice: 10, process: false, idle: true, yieldAbove: 0.6 }
    expect(resolveServerConfig({}, {}).feed).toEqual(defaults)
    expect(resolveServerConfig({}, { INFERLOG_FEED_THREAD: 'false', INFERLOG_FEED_NICE: '0' }).feed).toEqual({
      ...defaults,
      thread: false,
      nice: 0,
    })
    expect(resolveServerConfig({ feedThread: true, feedNice: '19' }, { INFERLOG_FEED_THREAD: 'false' }).feed).toEqual({
      ...defaults,
      nice: 19,
    })
    expect(resolveServerConfig({}, { INFERLOG_FEED_PROCESS: 'true', INFERLOG_FEED_IDLE: 'no' }).feed).toEqual({
      ...defaults,
      process: true,
      idle: false,
    })
    expect(resolveServerConfig({ feedProcess: false }, { INFERLOG_FEED_PROCESS: '1' }).feed.process).toBe(false)
    for (const nice of ['20', '-1', '1.5', 'high'])
      expect(codeOf(() => resolveServerConfig({ feedNice: nice }, {}))).toBe('invalid_parameter')
    expect(codeOf(() => resolveServerConfig({}, { INFERLOG_FEED_THREAD: 'maybe' }))).toBe('invalid_parameter')
    expect(codeOf(() => resolveServerConfig({}, { INFERLOG_FEED_PROCESS: 'child' }))).toBe('invalid_parameter')
    expect(codeOf(() => resolveServerConfig({}, { INFERLOG_FEED_IDLE: '2' }))).toBe('invalid_parameter')
  })

  it('yields to a saturated ingest from 0.6 of its event loop unless told another bound or off', () => {
    expect(resolveServerConfig({}, { INFERLOG_FEED_YIELD: '0.8' }).feed.yieldAbove).toBe(0.8)
    expect(resolveServerConfig({}, { INFERLOG_FEED_YIELD: '.75' }).feed.yieldAbove).toBe(0.75)
    expect(resolveServerConfig({}, { INFERLOG_FEED_YIELD: '1' }).feed.yieldAbove).toBe(1)
    expect(resolveServerConfig({}, { INFERLOG_FEED_YIELD: 'OFF' }).feed.yieldAbove).toBe(1)
    expect(resolveServerConfig({ feedYield: 0.5 }, { INFERLOG_FEED_YIELD: 'off' }).feed.yieldAbove).toBe(0.5)
    for (const bad of ['0', '-0.5', '1.5', '2', 'high', '.', '0.5x', ' ', 'NaN'])
      expect(codeOf(() => resolveServerConfig({}, { INFERLOG_FEED_YIELD: bad }))).toBe('invalid_parameter')
    expect(codeOf(() => resolveServerConfig({ feedYield: Number.NaN }, {}))).toBe('invalid_parameter')
  })

  it('comes from the flag first, then INFERLOG_CONSUMERS, default all', () => {
    expect(resolveServerConfig({}, {}).consumers).toBe('all')
    expect(resolveServerConfig({}, { INFERLOG_CONSUMERS: 'noop' }).consumers).toEqual(['noop'])
    expect(resolveServerConfig({ consumers: 'none' }, { INFERLOG_CONSUMERS: 'noop' }).consumers).toBe('none')
    expect(codeOf(() => resolveServerConfig({}, { INFERLOG_CONSUMERS: 'metrix' }))).toBe('invalid_parameter')
  })

  it('builds the consumers it names; all is catalog and metrics, noop only when named', async () => {
    const store = new SqliteStore({ filename: ':memory:' })
    try {
      const names = (s: Parameters<typeof defaultConsumers>[1]) => defaultConsumers(store, s).map((c) => c.name)
      expect(names('all')).toEqual(['catalog', 'metrics', 'audit', 'profiles'])
      // Every consumer a process can run is a name the flag accepts, and nothing else is.
      expect([...names('all'), 'noop'].sort()).toEqual([...CONSUMER_NAMES].sort())
      expect(names('none')).toEqual([])
      expect(names(['noop'])).toEqual(['noop'])
      expect(names(['noop', 'catalog'])).toEqual(['catalog', 'noop'])
      expect(codeOf(() => defaultConsumers(store, ['nope']))).toBe('invalid_parameter')
    } finally {
      await store.close()
    }
  })

  it('noop derives nothing, yet its watermark follows every commit', async () => {
    const store = new SqliteStore({ filename: ':memory:' })
    await store.migrate()
    try {
      const [noop] = defaultConsumers(store, ['noop'])
      const batch = { position: 1, committedMs: 0, events: [], feedback: [] }
      expect(await noop!.apply([batch], { derived: store.derived })).toEqual([])
      for (let i = 0; i < 3; i++) await store.writeBatch({ events: [eventRecord({ id: `e${i}` })], feedback: [] })
      await new FeedRunner(store, [noop!]).catchUp()
      expect(await store.derived.watermark('noop')).toBe(await store.commitHead())
      expect(await store.commitHead()).toBe(3)
    } finally {
      await store.close()
    }
  })
})
