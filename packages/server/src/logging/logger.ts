import pino, { type DestinationStream } from 'pino'

/** Structured fields attached to one log line. */
export type LogFields = Record<string, unknown>

/**
 * Where the server and the worker report what they cannot answer with: one JSON line per event
 * (pino), on stderr so stdout stays free for the URL and `--json` output.
 */
export interface Logger {
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  /** `err` is logged with its stack: reserve it for faults of the server, never a client's mistake. */
  error(msg: string, err?: unknown, fields?: LogFields): void
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written: `debug` | `info` | `warn` | `error` | `silent`. Default `$INFERLOG_LOG_LEVEL` or `info`. */
  level?: string
  /** Default: file descriptor 2 (stderr), written synchronously so a crash loses no line. */
  destination?: DestinationStream
  /** Fields on every line, e.g. `{component: 'worker'}`. Default none. */
  base?: LogFields
}

/** A pino-backed {@link Logger}. */
export function createLogger(o: LoggerOptions = {}): Logger {
  const p = pino(
    {
      level: o.level ?? process.env.INFERLOG_LOG_LEVEL ?? 'info',
      base: o.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    o.destination ?? pino.destination({ dest: 2, sync: true }),
  )
  return {
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, err, fields) => p.error(err === undefined ? (fields ?? {}) : { ...fields, err }, msg),
  }
}

/** Same as {@link createLogger} with its defaults (kept for callers of the earlier name). */
export const stderrLogger = (): Logger => createLogger()

/** A logger that drops everything (tests, embedded use). */
export function silentLogger(): Logger {
  const nop = () => undefined
  return { info: nop, warn: nop, error: nop }
}

/**
 * Passes at most one call per `intervalMs` and counts the ones it held back, so a flood of the
 * same condition (clients dropping mid-upload) costs one line a minute, not one per request.
 */
export class RateLimitedNote {
  private last = -Infinity
  private suppressed = 0

  constructor(
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `emit` with the number of calls suppressed since the last emission, or not at all. */
  note(emit: (suppressed: number) => void): void {
    const t = this.now()
    if (t - this.last < this.intervalMs) {
      this.suppressed++
      return
    }
    const n = this.suppressed
    this.last = t
    this.suppressed = 0
    emit(n)
  }
}
