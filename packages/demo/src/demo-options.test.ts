import { describe, expect, it } from 'vitest'
import { DemoError } from './demo-error.js'
import { parseDemoArgs, parseDurationMs, storeUrlOf } from './demo-options.js'

describe('parseDemoArgs', () => {
  it('defaults: until Ctrl-C, 20 req/s, port 7070, temp store, seed 1, real time, shift at 30 s, 5 min of history', () => {
    expect(parseDemoArgs([])).toEqual({
      durationMs: undefined,
      rate: 20,
      port: 7070,
      store: undefined,
      seed: 1,
      speed: 1,
      shiftAtMs: 30_000,
      backfillMs: 300_000,
      help: false,
    })
  })

  it('reads every flag; the shift defaults to 30 s / speed, at most half the duration', () => {
    const o = parseDemoArgs(['--duration', '20s', '--rate', '50', '--port', '0', '--seed', '7', '--speed', '3', '--store', '/tmp/x.db'])
    expect(o).toEqual(expect.objectContaining({ durationMs: 20_000, rate: 50, port: 0, seed: 7, speed: 3, store: 'sqlite:/tmp/x.db' }))
    expect(o.shiftAtMs).toBe(10_000)
    expect(parseDemoArgs(['--duration', '10s']).shiftAtMs).toBe(5_000)
    expect(parseDemoArgs(['--speed', '2']).shiftAtMs).toBe(15_000)
    expect(parseDemoArgs(['--shift-at', '1m', '--duration', '10s']).shiftAtMs).toBe(60_000)
    expect(parseDemoArgs(['-h']).help).toBe(true)
    expect(parseDemoArgs(['--backfill', '0']).backfillMs).toBe(0)
    expect(parseDemoArgs(['--backfill', '2m']).backfillMs).toBe(120_000)
  })

  it.each([
    [['--rate', 'fast'], /--rate: expected a number/],
    [['--rate', '0'], /--rate/],
    [['--rate', ''], /--rate/],
    [['--port', '70000'], /--port/],
    [['--port', '1.5'], /--port: expected an integer/],
    [['--seed', '-1'], /--seed/],
    [['--speed', '1e9'], /--speed/],
    [['--duration', '5 minutes'], /--duration: expected a duration/],
    [['--duration', '0s'], /--duration: must be more than zero/],
    [['--nope'], /Unknown option/],
    [['extra'], /positional/],
    [['--rate'], /argument missing/],
    [['--backfill', '-1m'], /--backfill/],
  ])('refuses %j with invalid_argument', (argv, message) => {
    let err: unknown
    try {
      parseDemoArgs(argv)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(DemoError)
    expect((err as DemoError).code).toBe('invalid_argument')
    expect((err as DemoError).message).toMatch(message)
  })
})

describe('parseDurationMs', () => {
  it('takes ms, s, m, h and bare seconds', () => {
    expect(parseDurationMs('500ms', 'x')).toBe(500)
    expect(parseDurationMs('1.5', 'x')).toBe(1500)
    expect(parseDurationMs('2m', 'x')).toBe(120_000)
    expect(parseDurationMs('1h', 'x')).toBe(3_600_000)
  })
})

describe('storeUrlOf', () => {
  it('keeps URLs and turns paths into absolute sqlite: URLs', () => {
    expect(storeUrlOf('postgres://u@h/db')).toBe('postgres://u@h/db')
    expect(storeUrlOf('sqlite:/a/b.db')).toBe('sqlite:/a/b.db')
    expect(storeUrlOf('demo.db', '/work')).toBe('sqlite:/work/demo.db')
    expect(storeUrlOf('/tmp/demo.db', '/work')).toBe('sqlite:/tmp/demo.db')
  })
})
