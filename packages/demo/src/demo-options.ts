import path from 'node:path'
import { parseArgs } from 'node:util'
import { DemoError } from './demo-error.js'

/** What `npm run demo` was asked to do, parsed once from the command line. */
export interface DemoOptions {
  /** How long traffic runs, ms; `undefined`: until Ctrl-C. Flag `--duration` (`90s`, `2m`, `500ms`, bare seconds). */
  durationMs: number | undefined
  /** Prediction requests per second (each also runs the shadow model). Flag `--rate`, default 20. */
  rate: number
  /** Collector port; 0 picks a free one. Flag `--port`, default 7070. */
  port: number
  /** Store URL given to `inferlog serve --store`; `undefined`: a fresh SQLite file in a temp dir removed on exit. Flag `--store` (a path or a URL). */
  store: string | undefined
  /** Seed of every random choice (traffic, users, feedback, forest). Flag `--seed`, default 1. */
  seed: number
  /**
   * Time compression: feedback delays, the distribution shift, alert windows and evaluation
   * intervals are divided by it. Flag `--speed`, default 1.
   */
  speed: number
  /** When the traffic switches from Seattle to New York, ms after start. Flag `--shift-at`, default 30 s / speed (at most half the duration). */
  shiftAtMs: number
  /**
   * History logged at start-up, ms: requests at `rate` with timestamps over this long before the
   * start (Seattle traffic, feedback included), so charts have a shape from the first minute.
   * Flag `--backfill`, default 5 min; `0` for none.
   */
  backfillMs: number
  /** `--help`. */
  help: boolean
}

/** `--help` text. */
export const DEMO_USAGE = `usage: npm run demo -- [options]

Starts inferlog on a fresh store and sends live traffic from weather classifiers trained at
start-up on Seattle and New York daily weather (vega-datasets), through @inferlog/sdk.

  --duration D   stop after D (e.g. 60s, 5m); default: run until Ctrl-C
  --rate N       prediction requests per second (each also runs the shadow model); default 20
  --port N       collector port (0: a free port); default 7070
  --store PATH   SQLite file (or store URL) to keep; default: a temp dir removed on exit
  --seed N       seed of traffic, users, feedback and the forest; default 1
  --speed N      time compression: delays, the shift and alert windows divided by N; default 1
  --shift-at D   when traffic moves from Seattle to New York; default 30s / speed
  --backfill D   history logged at start-up (timestamps before the start); default 5m, 0 for none
  --help         this text`

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `90s`, `2m`, `1.5h`, `500ms` or bare seconds → ms. */
export function parseDurationMs(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!m) throw new DemoError('invalid_argument', `${flag}: expected a duration such as 60s, 5m or 500ms, got ${JSON.stringify(text)}`)
  const ms = Number(m[1]) * (UNITS[m[2] ?? 's'] as number)
  if (!(ms > 0) || !Number.isFinite(ms)) throw new DemoError('invalid_argument', `${flag}: must be more than zero`)
  return ms
}

function parseNumber(text: string, flag: string, o: { min: number; max: number; integer?: boolean }): number {
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || n < o.min || n > o.max || (o.integer && !Number.isInteger(n)))
    throw new DemoError(
      'invalid_argument',
      `${flag}: expected ${o.integer ? 'an integer' : 'a number'} in [${o.min}, ${o.max}], got ${JSON.stringify(text)}`,
    )
  return n
}

/** A `--store` value as a store URL: URLs pass through, a path becomes `sqlite:<absolute path>`. */
export function storeUrlOf(value: string, cwd = process.cwd()): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value)) return value
  return `sqlite:${path.resolve(cwd, value)}`
}

/** Parses the demo's arguments (everything after `npm run demo --`). */
export function parseDemoArgs(argv: string[]): DemoOptions {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string' },
        rate: { type: 'string' },
        port: { type: 'string' },
        store: { type: 'string' },
        seed: { type: 'string' },
        speed: { type: 'string' },
        'shift-at': { type: 'string' },
        backfill: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (e) {
    throw new DemoError('invalid_argument', (e as Error).message)
  }
  const str = (k: string) => values[k] as string | undefined
  const durationMs = str('duration') === undefined ? undefined : parseDurationMs(str('duration') as string, '--duration')
  const speed = str('speed') === undefined ? 1 : parseNumber(str('speed') as string, '--speed', { min: 0.1, max: 100 })
  const defaultShift = Math.min(30_000 / speed, durationMs === undefined ? Number.POSITIVE_INFINITY : durationMs / 2)
  const shiftAtMs = str('shift-at') === undefined ? defaultShift : parseDurationMs(str('shift-at') as string, '--shift-at')
  return {
    durationMs,
    rate: str('rate') === undefined ? 20 : parseNumber(str('rate') as string, '--rate', { min: 0.1, max: 2000 }),
    port: str('port') === undefined ? 7070 : parseNumber(str('port') as string, '--port', { min: 0, max: 65535, integer: true }),
    store: str('store') === undefined ? undefined : storeUrlOf(str('store') as string),
    seed: str('seed') === undefined ? 1 : parseNumber(str('seed') as string, '--seed', { min: 0, max: 2 ** 31 - 1, integer: true }),
    speed,
    shiftAtMs,
    backfillMs:
      str('backfill') === undefined ? 300_000 : str('backfill') === '0' ? 0 : parseDurationMs(str('backfill') as string, '--backfill'),
    help: values.help === true,
  }
}
