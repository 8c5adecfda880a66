import type { JsonObject, JsonValue } from '@inferlog/schema'
import type { LoggedEvent } from '../options.js'

/** The OpenAI API operations logged as events, by the path they are served under. */
export type OpenAIOperation = 'chat' | 'completions' | 'responses' | 'embeddings'

/** `/chat/completions` → `chat`, … (any prefix such as `/v1` is ignored); `undefined` for other paths. */
export function operationOfPath(path: string): OpenAIOperation | undefined {
  const p = path.split('?')[0]!.replace(/\/+$/, '')
  if (p.endsWith('/chat/completions')) return 'chat'
  if (p.endsWith('/completions')) return 'completions'
  if (p.endsWith('/responses')) return 'responses'
  if (p.endsWith('/embeddings')) return 'embeddings'
  return undefined
}

/** One call to the OpenAI API, as seen by a proxy or a client wrapper. */
export interface OpenAICall {
  operation: OpenAIOperation
  /** The request body. */
  request: Record<string, unknown>
  /** The response body, or for a stream the response rebuilt from its chunks. Absent on failure. */
  response?: Record<string, unknown>
  /**
   * Why the call failed: the API's error (type, message, HTTP status), a network failure, or
   * `aborted` for a stream the client stopped reading (its output so far is kept).
   */
  error?: { type: string; message: string; status?: number }
  /** Epoch ms the call started. */
  startedAt: number
  /** Milliseconds until the response ended, and (streams) until the first token arrived. */
  latency: { total: number; ttft?: number }
  /** Event id to use. Default: the logger assigns one. */
  id?: string
}

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined)

// Request fields that are the input, transport details or identity, not inference parameters.
const NOT_PARAMS = new Set([
  'model',
  'messages',
  'prompt',
  'input',
  'instructions',
  'tools',
  'functions',
  'stream',
  'stream_options',
  'user',
  'metadata',
  'store',
  'previous_response_id',
  'safety_identifier',
  'prompt_cache_key',
])

/** Inference parameters of a request: every field but the input, the model and transport flags. */
export function requestParams(request: Obj): JsonObject | undefined {
  let params: JsonObject | undefined
  for (const [k, v] of Object.entries(request)) {
    if (NOT_PARAMS.has(k) || v === undefined) continue
    params ??= {}
    params[k] = v as JsonValue
  }
  return params
}

/** What the model was given: messages (chat), prompt (completions), input and instructions (responses). */
export function requestInput(op: OpenAIOperation, r: Obj): JsonValue {
  const input: JsonObject = {}
  if (op === 'chat') input.messages = (r.messages ?? null) as JsonValue
  else if (op === 'completions') input.prompt = (r.prompt ?? null) as JsonValue
  else {
    input.input = (r.input ?? null) as JsonValue
    if (r.instructions !== undefined) input.instructions = r.instructions as JsonValue
  }
  if (r.tools !== undefined) input.tools = r.tools as JsonValue
  if (r.functions !== undefined) input.functions = r.functions as JsonValue
  return input
}

/** The assistant message of a chat choice, as the API gives it (`{role, content, tool_calls?, refusal?}`). */
function chatMessage(choice: Obj): JsonObject {
  const m = isObj(choice.message) ? choice.message : {}
  const out: JsonObject = { role: str(m.role) ?? 'assistant', content: (m.content ?? null) as JsonValue }
  if (arr(m.tool_calls).length > 0) out.tool_calls = m.tool_calls as JsonValue
  if (m.function_call !== undefined && m.function_call !== null) out.function_call = m.function_call as JsonValue
  if (str(m.refusal)) out.refusal = m.refusal as string
  return out
}

/** A Responses API result in the chat message shape: its output text and function calls. */
function responsesMessage(r: Obj): JsonObject {
  const texts: string[] = []
  const calls: JsonObject[] = []
  for (const item of arr(r.output)) {
    if (!isObj(item)) continue
    if (item.type === 'message') {
      for (const c of arr(item.content)) if (isObj(c) && c.type === 'output_text' && typeof c.text === 'string') texts.push(c.text)
    } else if (item.type === 'function_call') {
      calls.push({
        id: (item.call_id ?? item.id ?? null) as JsonValue,
        type: 'function',
        function: { name: (item.name ?? null) as JsonValue, arguments: (item.arguments ?? null) as JsonValue },
      })
    }
  }
  const text = typeof r.output_text === 'string' ? r.output_text : texts.join('')
  const out: JsonObject = { role: 'assistant', content: texts.length > 0 || text !== '' ? text : null }
  if (calls.length > 0) out.tool_calls = calls
  return out
}

/** Output of the call: the assistant message (chat, responses), the text (completions), or the embeddings' shape. */
export function responseOutput(op: OpenAIOperation, r: Obj): { output: JsonValue; candidates?: { output: JsonValue }[] } {
  if (op === 'responses') return { output: responsesMessage(r) }
  if (op === 'embeddings') {
    const data = arr(r.data)
    const first = isObj(data[0]) ? data[0].embedding : undefined
    const dims = Array.isArray(first) ? first.length : typeof first === 'string' ? Buffer.from(first, 'base64').length / 4 : null
    return { output: { embeddings: data.length, dimensions: dims } }
  }
  const choices = arr(r.choices).filter(isObj)
  const one = (c: Obj): JsonValue => (op === 'chat' ? chatMessage(c) : ((c.text ?? null) as JsonValue))
  const output = choices[0] ? one(choices[0]) : null
  // n > 1: every choice is a candidate the application could have shown.
  return choices.length > 1 ? { output, candidates: choices.map((c) => ({ output: one(c) })) } : { output }
}

/** `usage` in the record's terms, from any of the API's usage shapes. */
export function responseUsage(r: Obj): LoggedEvent['usage'] | undefined {
  const u = isObj(r.usage) ? r.usage : undefined
  if (!u) return undefined
  const usage: NonNullable<LoggedEvent['usage']> = {}
  const input = int(u.input_tokens) ?? int(u.prompt_tokens)
  const output = int(u.output_tokens) ?? int(u.completion_tokens)
  if (input !== undefined) usage.input_tokens = input
  if (output !== undefined) usage.output_tokens = output
  return Object.keys(usage).length > 0 ? usage : undefined
}

interface TokenLogprob {
  token: string
  logprob: number
  top?: { token: string; logprob: number }[]
}

function tokenEntries(v: unknown): TokenLogprob[] {
  const out: TokenLogprob[] = []
  for (const t of arr(v)) {
    if (!isObj(t) || typeof t.token !== 'string' || typeof t.logprob !== 'number') continue
    const e: TokenLogprob = { token: t.token, logprob: t.logprob }
    const top = arr(t.top_logprobs).filter((x): x is Obj => isObj(x) && typeof x.token === 'string' && typeof x.logprob === 'number')
    if (top.length > 0) e.top = top.map((x) => ({ token: x.token as string, logprob: x.logprob as number }))
    out.push(e)
  }
  return out
}

/**
 * Token log-probabilities of the first output, when the request asked for them, as the
 * well-known `internals.token_logprobs`: `{tokens, logprobs: float32 tensor [n], top?}`.
 */
export function tokenLogprobs(op: OpenAIOperation, r: Obj): JsonObject | undefined {
  let entries: TokenLogprob[] = []
  if (op === 'chat') {
    const c = arr(r.choices)[0]
    if (isObj(c) && isObj(c.logprobs)) entries = tokenEntries(c.logprobs.content)
  } else if (op === 'completions') {
    const c = arr(r.choices)[0]
    const lp = isObj(c) && isObj(c.logprobs) ? c.logprobs : undefined
    if (lp) {
      const tokens = arr(lp.tokens)
      const values = arr(lp.token_logprobs)
      const tops = arr(lp.top_logprobs)
      tokens.forEach((t, i) => {
        if (typeof t !== 'string' || typeof values[i] !== 'number') return
        const e: TokenLogprob = { token: t, logprob: values[i] as number }
        const top = tops[i]
        if (isObj(top)) e.top = Object.entries(top).map(([token, logprob]) => ({ token, logprob: logprob as number }))
        entries.push(e)
      })
    }
  } else if (op === 'responses') {
    for (const item of arr(r.output)) {
      if (isObj(item) && item.type === 'message') {
        for (const c of arr(item.content)) if (isObj(c) && c.type === 'output_text') entries.push(...tokenEntries(c.logprobs))
      }
    }
  }
  if (entries.length === 0) return undefined
  const out: JsonObject = {
    tokens: entries.map((e) => e.token),
    logprobs: { dtype: 'float32', shape: [entries.length], data: entries.map((e) => e.logprob) },
  }
  if (entries.some((e) => e.top)) out.top = entries.map((e) => e.top ?? [])
  return out
}

/** The embeddings as the well-known `internals.embedding` tensor `[n, d]` (float arrays or base64 float32). */
function embeddingTensor(r: Obj): JsonObject | undefined {
  const data = arr(r.data).filter(isObj)
  if (data.length === 0) return undefined
  const first = data[0]!.embedding
  if (Array.isArray(first)) {
    const flat = data.flatMap((d) => arr(d.embedding)) as number[]
    return { dtype: 'float32', shape: [data.length, first.length], data: flat }
  }
  if (typeof first === 'string') {
    const bufs = data.map((d) => Buffer.from(String(d.embedding), 'base64'))
    return { dtype: 'float32', shape: [data.length, bufs[0]!.length / 4], data: Buffer.concat(bufs).toString('base64') }
  }
  return undefined
}

function responseTags(op: OpenAIOperation, r: Obj | undefined, status?: number): Record<string, string | number | boolean> {
  const tags: Record<string, string | number | boolean> = {
    'gen_ai.provider.name': 'openai',
    'gen_ai.operation.name':
      op === 'chat' ? 'chat' : op === 'embeddings' ? 'embeddings' : op === 'completions' ? 'text_completion' : 'responses',
  }
  if (r && str(r.id)) tags['gen_ai.response.id'] = r.id as string
  const reasons = r
    ? arr(r.choices)
        .map((c) => (isObj(c) ? c.finish_reason : undefined))
        .filter((x): x is string => typeof x === 'string')
    : []
  if (r && op === 'responses' && str(r.status)) reasons.push(r.status as string)
  if (reasons.length > 0) tags['gen_ai.response.finish_reasons'] = reasons.join(',')
  if (status !== undefined) tags['http.response.status_code'] = status
  return tags
}

/**
 * The event of one OpenAI call, following the same conventions as the OTLP mapping:
 * `model.name` = the requested model, `model.version` = the model the API answered with (or
 * `unversioned`), `model.params` = the request's inference parameters, `input` = messages /
 * prompt / input (+ tools), `output` = the assistant message (`{role, content, tool_calls?}`),
 * the completion text, or `{embeddings, dimensions}`; more than one choice also fills
 * `candidates`. `usage`, `latency_ms.total`/`ttft`, token log-probabilities and embeddings go to
 * their fields; a failed call is `status: error` with the API's error type and message.
 * API keys and headers never enter the event.
 */
export function openaiCallEvent(call: OpenAICall): LoggedEvent {
  const { operation: op, request, response } = call
  const model: NonNullable<LoggedEvent['model']> = {
    name: str(request.model) ?? 'unknown',
    version: (response && str(response.model)) ?? 'unversioned',
  }
  const params = requestParams(request)
  if (params) model.params = params
  const latency: NonNullable<LoggedEvent['latency_ms']> = { total: call.latency.total }
  if (call.latency.ttft !== undefined) latency.ttft = call.latency.ttft
  const event: LoggedEvent = {
    ts: new Date(call.startedAt).toISOString(),
    model,
    input: requestInput(op, request),
    latency_ms: latency,
    context: { tags: responseTags(op, response, call.error?.status) },
  }
  if (call.id !== undefined) event.id = call.id
  // A stream cut short keeps the output that did arrive, beside its error.
  if (response) {
    const { output, candidates } = responseOutput(op, response)
    event.output = output
    if (candidates) event.candidates = candidates
    const internals: Record<string, unknown> = {}
    const lp = tokenLogprobs(op, response)
    if (lp) internals.token_logprobs = lp
    if (op === 'embeddings') {
      const t = embeddingTensor(response)
      if (t) internals.embedding = t
    }
    if (Object.keys(internals).length > 0) event.internals = internals
  }
  if (call.error || !response) {
    event.status = 'error'
    event.error = { type: call.error?.type ?? 'error', message: call.error?.message ?? 'no response' }
  }
  const usage = response ? responseUsage(response) : undefined
  if (usage) event.usage = usage
  if (str(request.user)) event.trace = { user_id: request.user as string }
  return event
}
