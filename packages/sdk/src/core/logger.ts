import type { FeedbackItem, FeedbackKind, FeedbackSource, JsonObject, LatencyMs, ModelInfo } from '@inferlog/schema'
import { InferlogSdkError, type SdkErrorCode } from '../errors.js'
import type { LoggedEvent, LoggerOptions } from '../options.js'
import { createUuidV7 } from '@inferlog/schema'
import { Pipeline, type LoggerStats, type PipelineConfig } from './pipeline.js'
import type { Platform, Sender, Spool } from './platform.js'
import type { PrepareConfig } from './prepare.js'
import { createRedactor } from './redact.js'
import { idSampler, INTERNALS_SEED } from './sampling.js'

/** Phases a {@link Span} can time. */
export type Phase = 'pre' | 'inference' | 'post'

/** Times one prediction; `end()` logs it with `latency_ms` filled. */
export interface Span {
  /** The event id, known from the start (e.g. to return it to the client for feedback). */
  readonly id: string
  /** Starts a phase, ending the current one. Phases may repeat; their times add up. */
  phase(name: Phase): Span
  /** Marks the first token: `latency_ms.ttft` is the time from `start()` to the first call. */
  ttft(): Span
  /** Adds fields to the event (merged shallowly; later calls win). */
  set(fields: LoggedEvent): Span
  /** Ends the span and logs the event; returns its id. Later calls do nothing. */
  end(fields?: LoggedEvent): string
  /** Ends the span with `status: 'error'` and the error's type and message. */
  fail(error: unknown, fields?: LoggedEvent): string
}

/** Options of {@link Logger.wrap}. */
export interface WrapOptions<A extends unknown[], R> {
  /** Maps the arguments to the logged `input`. Default: the only argument, or the argument list. */
  input?: (...args: A) => unknown
  /** Maps the result to the logged `output`. Default: the (awaited) result itself. */
  output?: (result: R) => unknown
  /** Extra fields of the event (usage, trace, context…), computed when the call settles. */
  fields?: (args: A, result: R | undefined, error: unknown) => LoggedEvent
  /** Chooses the event id from the arguments (e.g. a request id). Default: a new UUIDv7. */
  id?: (...args: A) => string | undefined
  /** Model of these events. Default: the logger's. */
  model?: ModelInfo
}

/** Optional fields of a feedback item. */
export interface FeedbackExtra {
  /** Idempotency key. Default: a new UUIDv7. */
  id?: string
  /** Default `explicit`. */
  kind?: FeedbackKind
  source?: FeedbackSource
  /** When the signal happened (RFC 3339). Default: when `feedback()` was called. */
  ts?: string
  comment?: string
  metadata?: JsonObject
}

/** Options of {@link Logger.flush} and {@link Logger.close}. */
export interface FlushOptions {
  /** Resolve after this long even if items are still pending, ms. Default: wait until done. */
  timeoutMs?: number
}

/** The logger returned by `createLogger`. No method throws into the caller. */
export interface Logger {
  /** Enqueues an event (O(1), synchronous, no I/O) and returns its id (UUIDv7 unless `event.id` is given). */
  log(event: LoggedEvent): string
  /** Starts timing a prediction. */
  start(init?: LoggedEvent): Span
  /** Wraps a function (sync or async) so each call is logged with input, output or error, and latency. */
  wrap<A extends unknown[], R>(fn: (...args: A) => R, options?: WrapOptions<A, Awaited<R>>): (...args: A) => R
  /** Enqueues a feedback item for an event and returns the item's id. */
  feedback(eventId: string, name: string, value: FeedbackItem['value'], extra?: FeedbackExtra): string
  /** Resolves when everything enqueued so far is acknowledged, spooled, dropped or given up on. */
  flush(options?: FlushOptions): Promise<void>
  /**
   * Flushes, gives the spool one replay pass (stopping at the first failure), then releases timers,
   * connections and exit hooks; all within `timeoutMs` when given. Idempotent.
   */
  close(options?: FlushOptions): Promise<void>
  /** A snapshot of the counters. */
  stats(): LoggerStats
  /** The value the SDK sends in place of a user id (its HMAC), e.g. to query by user. Identity without a secret. */
  pseudonymize(userId: string): string
}

/** What a runtime hands the core: its platform services, a transport and an optional spool. */
export interface LoggerDeps {
  platform: Platform
  sender: Sender
  spool?: Spool
  /** Resolves once the spool has loaded what earlier runs left. */
  spoolReady?: Promise<void>
}

/** Defaults of the options, in one place (documented on each option). */
export const DEFAULTS = {
  batch: { maxItems: 1000, maxBytes: 1024 * 1024, intervalMs: 1000 },
  queue: { maxItems: 10_000, maxBytes: 32 * 1024 * 1024, overflow: 'drop-newest' as const },
  spool: { maxBytes: 256 * 1024 * 1024, fsync: true },
  internals: { maxBytes: 256 * 1024, quantize: 'none' as const },
  http: {
    concurrency: 2,
    timeoutMs: 10_000,
    maxRetries: 8,
    retriesBeforeSpool: 1,
    initialBackoffMs: 100,
    maxBackoffMs: 15_000,
    gzipLevel: 1,
  },
  url: 'http://127.0.0.1:7070',
  exitTimeoutMs: 5000,
}

function positive(name: string, v: number | undefined, dflt: number, integer = true): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !(v > 0) || (integer && !Number.isInteger(v))) {
    throw new TypeError(`inferlog: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`)
  }
  return v
}

function rate(name: string, v: number | undefined): number {
  if (v === undefined) return 1
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw new TypeError(`inferlog: ${name} must be in (0, 1], got ${String(v)}`)
  return v
}

/** The default `onError`: one console line per code at most once a minute. */
export function consoleErrorHandler(now: () => number = Date.now): (e: InferlogSdkError) => void {
  const last = new Map<SdkErrorCode, number>()
  return (e) => {
    const t = now()
    const prev = last.get(e.code)
    if (prev !== undefined && t - prev < 60_000) return
    last.set(e.code, t)
    console.warn(`[inferlog] ${e.code}: ${e.message}`)
  }
}

/** Validates options (throws a TypeError on nonsense, at construction only) and resolves defaults. */
export function resolvePipelineConfig(o: LoggerOptions, hmac: Platform['hmacSha256Hex']): PipelineConfig & { sampleRate: number } {
  const queueMax = positive('queue.maxItems', o.queue?.maxItems, DEFAULTS.queue.maxItems)
  const overflow = o.queue?.overflow ?? DEFAULTS.queue.overflow
  if (!['drop-newest', 'drop-oldest', 'spool'].includes(overflow))
    throw new TypeError(`inferlog: unknown queue.overflow ${String(overflow)}`)
  const quantize = o.internals?.quantize ?? DEFAULTS.internals.quantize
  if (!['none', 'float16', 'int8'].includes(quantize)) throw new TypeError(`inferlog: unknown internals.quantize ${String(quantize)}`)
  const sampleRate = rate('sampling.rate', o.sampling?.rate)
  const internalsRate = rate('sampling.internals.rate', o.sampling?.internals?.rate)
  const gzipLevel = o.http?.gzipLevel ?? DEFAULTS.http.gzipLevel
  if (!Number.isInteger(gzipLevel) || gzipLevel < 0 || gzipLevel > 9) throw new TypeError('inferlog: http.gzipLevel must be 0–9')
  let pseudonymize: ((s: string) => string) | undefined
  if (o.pseudonymize) {
    const secret = o.pseudonymize.secret
    if (typeof secret !== 'string' || secret === '') throw new TypeError('inferlog: pseudonymize.secret must be a non-empty string')
    if (!hmac) throw new TypeError('inferlog: pseudonymize needs HMAC-SHA256, which this runtime does not provide')
    // User ids repeat: cache digests (bounded).
    const cache = new Map<string, string>()
    pseudonymize = (s) => {
      let h = cache.get(s)
      if (h === undefined) {
        h = hmac(secret, s)
        if (cache.size >= 10_000) cache.clear()
        cache.set(s, h)
      }
      return h
    }
  }
  const onError = o.onError ?? consoleErrorHandler()
  const report = (e: InferlogSdkError) => onError(e)
  const when = o.sampling?.internals?.when
  const prepare: PrepareConfig = {
    ...(o.model ? { model: o.model } : {}),
    sampleRate,
    tsModel: { ms: Number.NaN, text: '' },
    internals: { maxBytes: positive('internals.maxBytes', o.internals?.maxBytes, DEFAULTS.internals.maxBytes), quantize },
    ...(internalsRate < 1 ? { internalsSampler: idSampler(internalsRate, INTERNALS_SEED)! } : {}),
    ...(when ? { internalsWhen: when } : {}),
    ...(o.redact !== undefined ? { redactor: createRedactor(o.redact)! } : {}),
    ...(pseudonymize ? { pseudonymize } : {}),
    onCallbackError: (e) =>
      report(
        new InferlogSdkError('callback_failed', `sampling.internals.when threw: ${(e as Error)?.message}; internals left out`, {
          cause: e,
        }),
      ),
  }
  if (prepare.redactor === undefined) delete prepare.redactor
  if (o.model) prepare.modelJson = JSON.stringify(o.model)
  prepare.plain = prepare.redactor === undefined && pseudonymize === undefined && sampleRate === 1
  return {
    sampleRate,
    batch: {
      maxItems: positive('batch.maxItems', o.batch?.maxItems, DEFAULTS.batch.maxItems),
      maxBytes: positive('batch.maxBytes', o.batch?.maxBytes, DEFAULTS.batch.maxBytes),
      intervalMs: positive('batch.intervalMs', o.batch?.intervalMs, DEFAULTS.batch.intervalMs, false),
    },
    queue: { maxItems: queueMax, maxBytes: positive('queue.maxBytes', o.queue?.maxBytes, DEFAULTS.queue.maxBytes), overflow },
    http: {
      concurrency: positive('http.concurrency', o.http?.concurrency, DEFAULTS.http.concurrency),
      maxRetries: o.http?.maxRetries ?? DEFAULTS.http.maxRetries,
      retriesBeforeSpool: o.http?.retriesBeforeSpool ?? DEFAULTS.http.retriesBeforeSpool,
      initialBackoffMs: positive('http.initialBackoffMs', o.http?.initialBackoffMs, DEFAULTS.http.initialBackoffMs, false),
      maxBackoffMs: positive('http.maxBackoffMs', o.http?.maxBackoffMs, DEFAULTS.http.maxBackoffMs, false),
      gzipLevel,
    },
    prepare,
    report,
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000
}

function errorFields(error: unknown): LoggedEvent {
  const e = error as { name?: unknown; message?: unknown } | undefined
  const type = typeof e?.name === 'string' && e.name !== '' ? e.name : typeof error
  const message = typeof e?.message === 'string' ? e.message : String(error)
  return { status: 'error', error: { type, message } }
}

/** Builds a logger on given runtime services. Runtime entry points (`index.ts`) call this. */
export function createLoggerWith(options: LoggerOptions, deps: LoggerDeps): Logger {
  const cfg = resolvePipelineConfig(options, deps.platform.hmacSha256Hex)
  const pipeline = new Pipeline(cfg, deps.platform, deps.sender, deps.spool, deps.spoolReady)
  const nextId = createUuidV7()
  const sampler = idSampler(cfg.sampleRate)
  const counts = pipeline.counts
  const admission = pipeline.admission
  const pseudo = cfg.prepare.pseudonymize

  const internalFault = (e: unknown): void => {
    counts.failed++
    deps.platform.soon(() =>
      pipeline.report('serialize_failed', `log() was given something it cannot log: ${(e as Error)?.message}`, { cause: e }),
    )
  }

  const logAt = (event: LoggedEvent, id: string, time: number): string => {
    if (sampler !== undefined && !sampler(id)) {
      counts.sampledOut++
      return id
    }
    admission.enqueueEvent(event, id, time)
    return id
  }

  function log(event: LoggedEvent): string {
    try {
      const given = event.id
      return logAt(event, typeof given === 'string' && given !== '' ? given : nextId(), Date.now())
    } catch (e) {
      internalFault(e)
      return nextId()
    }
  }

  function start(init: LoggedEvent = {}): Span {
    const t0 = performance.now()
    const wall = Date.now()
    let id: string
    try {
      id = typeof init.id === 'string' && init.id !== '' ? init.id : nextId()
    } catch {
      id = nextId()
    }
    let fields: LoggedEvent = init
    let current: Phase | undefined
    let phaseStart = t0
    let ttft: number | undefined
    let ended = false
    const phases: Partial<Record<Phase, number>> = {}
    const closePhase = (now: number) => {
      if (current !== undefined) phases[current] = (phases[current] ?? 0) + (now - phaseStart)
    }
    const span: Span = {
      id,
      phase(name) {
        const now = performance.now()
        closePhase(now)
        current = name
        phaseStart = now
        return span
      },
      ttft() {
        if (ttft === undefined) ttft = performance.now() - t0
        return span
      },
      set(more) {
        fields = { ...fields, ...more }
        return span
      },
      end(more) {
        if (ended) return id
        ended = true
        try {
          const now = performance.now()
          closePhase(now)
          const f = more ? { ...fields, ...more } : fields
          const latency: LatencyMs = { ...(f.latency_ms ?? {}), total: round3(now - t0) }
          for (const p of ['pre', 'inference', 'post'] as const) if (phases[p] !== undefined) latency[p] = round3(phases[p]!)
          if (ttft !== undefined) latency.ttft = round3(ttft)
          return logAt({ ...f, id, latency_ms: latency }, id, wall)
        } catch (e) {
          internalFault(e)
          return id
        }
      },
      fail(error, more) {
        return span.end({ ...more, ...errorFields(error) })
      },
    }
    return span
  }

  function wrap<A extends unknown[], R>(fn: (...args: A) => R, o: WrapOptions<A, Awaited<R>> = {}): (...args: A) => R {
    const record = (args: A, id: string, t0: number, wall: number, ok: boolean, value: unknown): void => {
      try {
        const total = round3(performance.now() - t0)
        let input: unknown
        try {
          input = o.input ? o.input(...args) : args.length === 1 ? args[0] : args
        } catch (e) {
          input = null
          pipeline.report('callback_failed', `wrap input() threw: ${(e as Error)?.message}`, { cause: e })
        }
        let extra: LoggedEvent = {}
        try {
          if (o.fields) extra = o.fields(args, ok ? (value as Awaited<R>) : undefined, ok ? undefined : value) ?? {}
        } catch (e) {
          pipeline.report('callback_failed', `wrap fields() threw: ${(e as Error)?.message}`, { cause: e })
        }
        const ev: LoggedEvent = { input: input as LoggedEvent['input'], ...(o.model ? { model: o.model } : {}), ...extra }
        if (ok) {
          try {
            ev.output = (o.output ? o.output(value as Awaited<R>) : value) as LoggedEvent['output']
          } catch (e) {
            pipeline.report('callback_failed', `wrap output() threw: ${(e as Error)?.message}`, { cause: e })
          }
        } else Object.assign(ev, errorFields(value))
        ev.latency_ms = { ...(extra.latency_ms ?? {}), total }
        logAt(ev, id, wall)
      } catch (e) {
        internalFault(e)
      }
    }
    return function wrapped(this: unknown, ...args: A): R {
      const t0 = performance.now()
      const wall = Date.now()
      let id: string | undefined
      try {
        id = o.id?.(...args)
      } catch {
        id = undefined
      }
      const eid = typeof id === 'string' && id !== '' ? id : nextId()
      let result: R
      try {
        result = fn.apply(this, args)
      } catch (e) {
        record(args, eid, t0, wall, false, e)
        throw e
      }
      const maybe = result as { then?: unknown } | null | undefined
      if (maybe !== null && typeof maybe === 'object' && typeof maybe.then === 'function') {
        ;(result as PromiseLike<unknown>).then(
          (v) => record(args, eid, t0, wall, true, v),
          (e: unknown) => record(args, eid, t0, wall, false, e),
        )
        return result
      }
      record(args, eid, t0, wall, true, result)
      return result
    }
  }

  function feedback(eventId: string, name: string, value: FeedbackItem['value'], extra?: FeedbackExtra): string {
    let id = ''
    try {
      id = typeof extra?.id === 'string' && extra.id !== '' ? extra.id : nextId()
      // Feedback follows its event's sampling decision, so kept events keep their feedback.
      if (sampler !== undefined && !sampler(eventId)) {
        counts.sampledOut++
        return id
      }
      const item: FeedbackItem = { ...extra, id, event_id: eventId, name, value }
      admission.enqueueFeedback(item, Date.now())
      return id
    } catch (e) {
      internalFault(e)
      return id
    }
  }

  const uninstall =
    options.flushOnExit === false
      ? undefined
      : deps.platform.installExitHooks?.(
          (ms) => pipeline.flush(ms),
          () => pipeline.hasPending(),
          options.exitTimeoutMs ?? DEFAULTS.exitTimeoutMs,
        )

  return {
    log,
    start,
    wrap,
    feedback,
    flush: (fo) => pipeline.flush(fo?.timeoutMs).catch(() => undefined),
    close: (fo) => {
      uninstall?.()
      return pipeline.close(fo?.timeoutMs).catch(() => undefined)
    },
    stats: () => pipeline.stats(),
    pseudonymize: (userId) => (pseudo ? pseudo(userId) : userId),
  }
}
