import type { Logger } from '../index.js'
import { createUuidV7 } from '../index.js'
import type { LoggedEvent } from '../options.js'
import { type OpenAICall, type OpenAIOperation, openaiCallEvent } from './openai-event.js'
import { createStreamAccumulator } from './openai-stream.js'

/** Where the event id of a wrapped call's result is kept (a non-enumerable symbol property). */
const EVENT_ID = Symbol.for('inferlog.event_id')
const WRAPPED = Symbol.for('inferlog.wrapped')

// The parts of an OpenAI client the wrapper touches, declared here so the SDK never needs the
// `openai` package (an optional peer) to build or to load.
type Create = (body: never, options?: never) => PromiseLike<unknown>
interface Creatable {
  create: Create
}

/** The shape of an `openai` client (v4–v6) that {@link wrapOpenAI} instruments. */
export interface OpenAILike {
  chat?: { completions?: Creatable }
  completions?: Creatable
  responses?: Creatable
  embeddings?: Creatable
}

/** Options of {@link wrapOpenAI}. */
export interface WrapOpenAIOptions {
  /** Changes each event before it is logged (add context, drop input…); return it. Default: none. */
  enrich?: (event: LoggedEvent, call: OpenAICall) => LoggedEvent
  /** Called with the event id once a call is logged. Default: none. */
  onEvent?: (eventId: string, call: OpenAICall) => void
  /** Epoch-ms clock for `ts`. Default `Date.now`. */
  now?: () => number
  /** Monotonic ms clock for latencies. Default `performance.now`. */
  clock?: () => number
}

/** The inferlog event id of a result returned by a wrapped client (response object or stream), if any. */
export function eventIdOf(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return undefined
  const id = (result as Record<symbol, unknown>)[EVENT_ID]
  return typeof id === 'string' ? id : undefined
}

function tag(result: unknown, id: string): void {
  if (typeof result === 'object' && result !== null && Object.isExtensible(result)) {
    Object.defineProperty(result, EVENT_ID, { value: id, enumerable: false, configurable: true })
  }
}

/** An error of the `openai` package (`APIError` and kin) as the event's `{type, message, status}`. */
function callError(e: unknown): NonNullable<OpenAICall['error']> {
  const err = e as { status?: unknown; type?: unknown; name?: unknown; message?: unknown; error?: { type?: unknown } }
  const type =
    typeof err?.type === 'string' ? err.type : typeof err?.error?.type === 'string' ? err.error.type : String(err?.name ?? 'Error')
  const out: NonNullable<OpenAICall['error']> = { type, message: String(err?.message ?? e) }
  if (typeof err?.status === 'number') out.status = err.status
  return out
}

type Iter = AsyncIterator<unknown>

/** Wraps an async iterator so every chunk is seen once and its end (done, break, error) reported once. */
function tapIterator(it: Iter, onChunk: (c: unknown) => void, onEnd: (error?: OpenAICall['error']) => void): Iter {
  let ended = false
  const end = (error?: OpenAICall['error']) => {
    if (ended) return
    ended = true
    onEnd(error)
  }
  const tapped: Iter & { [Symbol.asyncIterator](): Iter } = {
    async next() {
      try {
        const r = await it.next()
        if (r.done) end()
        else onChunk(r.value)
        return r
      } catch (e) {
        end(callError(e))
        throw e
      }
    },
    async return(value?: unknown) {
      end({ type: 'aborted', message: 'the caller stopped reading the stream before it ended' })
      return it.return ? it.return(value) : { done: true, value }
    },
    [Symbol.asyncIterator]() {
      return tapped
    },
  }
  return tapped
}

interface Ctx {
  logger: Pick<Logger, 'log'>
  o: WrapOpenAIOptions
  newId: () => string
  now: () => number
  clock: () => number
}

function logCall(ctx: Ctx, call: OpenAICall): void {
  try {
    let event = openaiCallEvent(call)
    if (ctx.o.enrich) event = ctx.o.enrich(event, call)
    const id = ctx.logger.log(event)
    ctx.o.onEvent?.(id, call)
  } catch {
    // Logging never throws into the application.
  }
}

/** Taps a streamed result: openai's `Stream` keeps its source in `iterator` (which `tee()` reads too); other async iterables are tapped at the protocol. */
function tapStream(stream: object, ctx: Ctx, call: OpenAICall, t0: number): void {
  const acc = createStreamAccumulator(call.operation)
  const onChunk = (c: unknown) => {
    if (acc.add(c) && call.latency.ttft === undefined) call.latency.ttft = ctx.clock() - t0
  }
  const onEnd = (error?: OpenAICall['error']) => {
    call.latency.total = ctx.clock() - t0
    const response = acc.response()
    if (response) call.response = response
    if (error) call.error = error
    logCall(ctx, call)
  }
  const s = stream as { iterator?: () => Iter; [Symbol.asyncIterator]?: () => Iter }
  if (typeof s.iterator === 'function') {
    const source = s.iterator.bind(stream)
    s.iterator = () => tapIterator(source(), onChunk, onEnd)
  } else if (typeof s[Symbol.asyncIterator] === 'function') {
    const source = s[Symbol.asyncIterator]!.bind(stream)
    s[Symbol.asyncIterator] = () => tapIterator(source(), onChunk, onEnd)
  }
}

function wrapCreate(target: Creatable | undefined, operation: OpenAIOperation, ctx: Ctx): void {
  if (!target || typeof target.create !== 'function') return
  const original = target.create as Create & { [WRAPPED]?: boolean }
  if (original[WRAPPED]) return
  const wrapped = function (this: unknown, body: never, options?: never): PromiseLike<unknown> {
    const request = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    const id = ctx.newId()
    const t0 = ctx.clock()
    const call: OpenAICall = { operation, request, startedAt: ctx.now(), latency: { total: 0 }, id }
    const promise = original.call(this ?? target, body, options)
    // Observed beside the caller, so the caller gets openai's own promise (withResponse() and all)
    // and this branch never leaves a rejection unhandled.
    promise.then(
      (result) => {
        tag(result, id)
        if (request.stream === true && typeof result === 'object' && result !== null) {
          tapStream(result, ctx, call, t0)
          return
        }
        call.latency.total = ctx.clock() - t0
        if (typeof result === 'object' && result !== null) call.response = result as Record<string, unknown>
        logCall(ctx, call)
      },
      (e: unknown) => {
        call.latency.total = ctx.clock() - t0
        call.error = callError(e)
        logCall(ctx, call)
      },
    )
    return promise
  }
  Object.defineProperty(wrapped, WRAPPED, { value: true })
  target.create = wrapped as Create
}

/**
 * Logs every call an `openai` client makes through `chat.completions.create` (streamed too),
 * `completions.create`, `responses.create` and `embeddings.create` as an inferlog event (see
 * `openaiCallEvent` for the mapping): usage, latency with time to first token for streams,
 * token log-probabilities when the request asks for them (`internals.token_logprobs`), embeddings
 * (`internals.embedding`). The client is instrumented in place and returned; calls return
 * exactly what they returned before (the same promise, the same stream), and
 * {@link eventIdOf}(result) gives the event id for feedback. A stream is logged when it ends,
 * fails or the caller stops reading it. Wrapping twice is harmless.
 *
 * ```ts
 * const openai = wrapOpenAI(new OpenAI(), createLogger({ url }))
 * const r = await openai.chat.completions.create({ model: 'gpt-4o', messages })
 * log.feedback(eventIdOf(r)!, 'thumbs', 1)
 * ```
 */
export function wrapOpenAI<C extends OpenAILike>(client: C, logger: Pick<Logger, 'log'>, options: WrapOpenAIOptions = {}): C {
  const ctx: Ctx = {
    logger,
    o: options,
    newId: createUuidV7(options.now),
    now: options.now ?? Date.now,
    clock: options.clock ?? (() => performance.now()),
  }
  wrapCreate(client.chat?.completions, 'chat', ctx)
  wrapCreate(client.completions, 'completions', ctx)
  wrapCreate(client.responses, 'responses', ctx)
  wrapCreate(client.embeddings, 'embeddings', ctx)
  return client
}
