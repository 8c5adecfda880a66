import type { Transformer } from 'node:stream/web'
import type { JsonObject, JsonValue } from '@inferlog/schema'
import type { Logger } from '../index.js'
import { createUuidV7 } from '../index.js'
import type { LoggedEvent } from '../options.js'

// The parts of the AI SDK's LanguageModelV2 middleware contract this file uses, declared here so
// the SDK never needs `ai` (an optional peer) to build or to load.

/** The wrapped model, as the middleware sees it. */
export interface LanguageModelLike {
  readonly provider: string
  readonly modelId: string
}

/** The call options (`LanguageModelV2CallOptions`) the middleware reads. */
export interface CallOptionsLike {
  prompt: unknown
  maxOutputTokens?: number
  temperature?: number
  topP?: number
  topK?: number
  presencePenalty?: number
  frequencyPenalty?: number
  stopSequences?: string[]
  seed?: number
  responseFormat?: unknown
  tools?: unknown
  toolChoice?: unknown
}

interface ContentPart {
  type: string
  text?: string
  toolCallId?: string
  toolName?: string
  input?: string
}

interface Usage {
  inputTokens?: number | undefined
  outputTokens?: number | undefined
}

/** What `doGenerate` resolves to (the fields read here). */
export interface GenerateResultLike {
  content: ContentPart[]
  finishReason: string
  usage: Usage
  response?: { id?: string; modelId?: string }
  providerMetadata?: Record<string, Record<string, unknown>>
}

/** A stream part (`LanguageModelV2StreamPart`, the fields read here). */
export interface StreamPartLike {
  type: string
  delta?: string
  id?: string
  modelId?: string
  toolCallId?: string
  toolName?: string
  input?: string
  finishReason?: string
  usage?: Usage
  error?: unknown
  providerMetadata?: Record<string, Record<string, unknown>>
}

/** Options of {@link inferlogMiddleware}. */
export interface InferlogMiddlewareOptions {
  /** Changes each event before it is logged; return it. Default: none. */
  enrich?: (event: LoggedEvent) => LoggedEvent
  /** Called with the event id of each logged call. Default: none. */
  onEvent?: (eventId: string) => void
  /** Epoch-ms clock for `ts`. Default `Date.now`. */
  now?: () => number
  /** Monotonic ms clock for latencies. Default `performance.now`. */
  clock?: () => number
}

/** A language-model middleware for the AI SDK's `wrapLanguageModel` (AI SDK 5, middleware v2). */
export interface InferlogLanguageModelMiddleware {
  middlewareVersion: 'v2'
  wrapGenerate<R extends GenerateResultLike>(o: {
    doGenerate: () => PromiseLike<R>
    params: CallOptionsLike
    model: LanguageModelLike
  }): Promise<R>
  wrapStream<R extends { stream: ReadableStream<StreamPartLike> }>(o: {
    doStream: () => PromiseLike<R>
    params: CallOptionsLike
    model: LanguageModelLike
  }): Promise<R>
}

const PARAM_NAMES: [keyof CallOptionsLike, string][] = [
  ['temperature', 'temperature'],
  ['topP', 'top_p'],
  ['topK', 'top_k'],
  ['maxOutputTokens', 'max_tokens'],
  ['presencePenalty', 'presence_penalty'],
  ['frequencyPenalty', 'frequency_penalty'],
  ['stopSequences', 'stop_sequences'],
  ['seed', 'seed'],
  ['responseFormat', 'response_format'],
  ['toolChoice', 'tool_choice'],
]

interface Outcome {
  text: string
  hasText: boolean
  toolCalls: JsonObject[]
  finishReason?: string
  usage?: Usage
  responseId?: string
  responseModel?: string
  error?: { type: string; message: string }
}

function errorOf(e: unknown): { type: string; message: string } {
  const err = e as { name?: unknown; message?: unknown }
  return { type: typeof err?.name === 'string' ? err.name : 'Error', message: String(err?.message ?? e) }
}

function toolCall(p: ContentPart | StreamPartLike): JsonObject {
  return { id: p.toolCallId ?? null, type: 'function', function: { name: p.toolName ?? null, arguments: p.input ?? null } }
}

function callEvent(
  model: LanguageModelLike,
  params: CallOptionsLike,
  out: Outcome,
  startedAt: number,
  latency: LoggedEvent['latency_ms'],
  id: string,
): LoggedEvent {
  const modelParams: JsonObject = {}
  for (const [from, to] of PARAM_NAMES) if (params[from] !== undefined) modelParams[to] = params[from] as JsonValue
  const input: JsonObject = { messages: params.prompt as JsonValue }
  if (params.tools !== undefined) input.tools = params.tools as JsonValue
  const output: JsonObject = { role: 'assistant', content: out.hasText ? out.text : null }
  if (out.toolCalls.length > 0) output.tool_calls = out.toolCalls
  const tags: Record<string, string | number | boolean> = { 'gen_ai.provider.name': model.provider, 'gen_ai.operation.name': 'chat' }
  if (out.responseId) tags['gen_ai.response.id'] = out.responseId
  if (out.finishReason) tags['gen_ai.response.finish_reasons'] = out.finishReason
  const event: LoggedEvent = {
    id,
    ts: new Date(startedAt).toISOString(),
    model: {
      name: model.modelId,
      version: out.responseModel ?? 'unversioned',
      ...(Object.keys(modelParams).length > 0 ? { params: modelParams } : {}),
    },
    input,
    output,
    context: { tags },
  }
  if (latency) event.latency_ms = latency
  const usage: NonNullable<LoggedEvent['usage']> = {}
  if (typeof out.usage?.inputTokens === 'number') usage.input_tokens = out.usage.inputTokens
  if (typeof out.usage?.outputTokens === 'number') usage.output_tokens = out.usage.outputTokens
  if (Object.keys(usage).length > 0) event.usage = usage
  if (out.error) {
    event.status = 'error'
    event.error = out.error
  }
  return event
}

/**
 * Logs every `generateText` / `streamText` (and `generateObject` / `streamObject`) call through a
 * model wrapped with this middleware as an inferlog event: the prompt messages (and tools) as
 * input, `{role: 'assistant', content, tool_calls?}` as output, call settings as `model.params`
 * (`temperature`, `top_p`, `max_tokens`…), usage, latency and time to first token for streams,
 * errors. Results are returned unchanged except that `providerMetadata.inferlog.eventId` carries
 * the event id (on the stream's `finish` part for streams), for feedback. Logging never throws
 * into the call.
 *
 * ```ts
 * const model = wrapLanguageModel({ model: openai('gpt-4o'), middleware: inferlogMiddleware(log) })
 * const { text, providerMetadata } = await generateText({ model, prompt: 'Hi' })
 * ```
 */
export function inferlogMiddleware(logger: Pick<Logger, 'log'>, options: InferlogMiddlewareOptions = {}): InferlogLanguageModelMiddleware {
  const now = options.now ?? Date.now
  const clock = options.clock ?? (() => performance.now())
  const newId = createUuidV7(now)
  const emit = (event: LoggedEvent) => {
    try {
      const id = logger.log(options.enrich ? options.enrich(event) : event)
      options.onEvent?.(id)
    } catch {
      // Logging never throws into the call.
    }
  }
  const withId = (meta: Record<string, Record<string, unknown>> | undefined, id: string) => ({
    ...meta,
    inferlog: { ...meta?.inferlog, eventId: id },
  })

  return {
    middlewareVersion: 'v2',
    async wrapGenerate({ doGenerate, params, model }) {
      const id = newId()
      const startedAt = now()
      const t0 = clock()
      const out: Outcome = { text: '', hasText: false, toolCalls: [] }
      try {
        const result = await doGenerate()
        for (const p of result.content ?? []) {
          if (p.type === 'text' && typeof p.text === 'string') {
            out.text += p.text
            out.hasText = true
          } else if (p.type === 'tool-call') out.toolCalls.push(toolCall(p))
        }
        out.finishReason = result.finishReason
        out.usage = result.usage
        if (result.response?.id) out.responseId = result.response.id
        if (result.response?.modelId) out.responseModel = result.response.modelId
        emit(callEvent(model, params, out, startedAt, { total: clock() - t0 }, id))
        return { ...result, providerMetadata: withId(result.providerMetadata, id) }
      } catch (e) {
        out.error = errorOf(e)
        emit(callEvent(model, params, out, startedAt, { total: clock() - t0 }, id))
        throw e
      }
    },

    async wrapStream({ doStream, params, model }) {
      const id = newId()
      const startedAt = now()
      const t0 = clock()
      const out: Outcome = { text: '', hasText: false, toolCalls: [] }
      let ttft: number | undefined
      let logged = false
      const finish = () => {
        if (logged) return
        logged = true
        const latency: NonNullable<LoggedEvent['latency_ms']> = { total: clock() - t0 }
        if (ttft !== undefined) latency.ttft = ttft
        emit(callEvent(model, params, out, startedAt, latency, id))
      }
      let result: { stream: ReadableStream<StreamPartLike> }
      try {
        result = await doStream()
      } catch (e) {
        out.error = errorOf(e)
        finish()
        throw e
      }
      const transformer: Transformer<StreamPartLike, StreamPartLike> & { cancel?: () => void } = {
        transform(part, controller) {
          try {
            if (part.type === 'text-delta' && typeof part.delta === 'string') {
              ttft ??= clock() - t0
              out.text += part.delta
              out.hasText = true
            } else if (part.type === 'tool-call') {
              ttft ??= clock() - t0
              out.toolCalls.push(toolCall(part))
            } else if (part.type === 'response-metadata') {
              if (part.id) out.responseId = part.id
              if (part.modelId) out.responseModel = part.modelId
            } else if (part.type === 'error') {
              out.error = errorOf(part.error)
            } else if (part.type === 'finish') {
              out.finishReason = part.finishReason
              out.usage = part.usage
              controller.enqueue({ ...part, providerMetadata: withId(part.providerMetadata, id) })
              return
            }
          } catch {
            // Never in the way of the stream.
          }
          controller.enqueue(part)
        },
        flush() {
          finish()
        },
        // Streams implementations that know `cancel` (newer than Node 20's) report a reader that gave up.
        cancel() {
          out.error ??= { type: 'aborted', message: 'the caller stopped reading the stream before it ended' }
          finish()
        },
      }
      return { ...result, stream: result.stream.pipeThrough(new TransformStream(transformer)) } as never
    },
  }
}
