import type { OpenAIOperation } from './openai-event.js'

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

/** Rebuilds a streamed response from its chunks, as the non-streamed response would have been. */
export interface StreamAccumulator {
  /** Takes one parsed chunk (chat/completions) or event (responses); true when it carried output (a token, a tool call). */
  add(chunk: unknown): boolean
  /** The response so far (complete once the stream ended); `undefined` before any chunk. */
  response(): Record<string, unknown> | undefined
}

interface ChoiceState {
  index: number
  role?: string
  content: string
  hasContent: boolean
  refusal: string
  toolCalls: Map<number, { id?: string; type?: string; name: string; arguments: string }>
  finishReason: unknown
  logprobs: unknown[]
  /** completions only */
  lpTokens: unknown[]
  lpValues: unknown[]
  lpTop: unknown[]
}

function newChoice(index: number): ChoiceState {
  return {
    index,
    content: '',
    hasContent: false,
    refusal: '',
    toolCalls: new Map(),
    finishReason: null,
    logprobs: [],
    lpTokens: [],
    lpValues: [],
    lpTop: [],
  }
}

/** Chat completions and legacy completions: chunks carry `choices[].delta` (or `.text`). */
function choicesAccumulator(op: 'chat' | 'completions'): StreamAccumulator {
  const choices = new Map<number, ChoiceState>()
  let head: Obj | undefined
  let usage: unknown
  return {
    add(chunk) {
      if (!isObj(chunk)) return false
      head ??= { id: chunk.id, object: op === 'chat' ? 'chat.completion' : 'text_completion', created: chunk.created, model: chunk.model }
      if (chunk.model !== undefined) head.model = chunk.model
      if (isObj(chunk.usage)) usage = chunk.usage
      let output = false
      for (const c of arr(chunk.choices)) {
        if (!isObj(c)) continue
        const index = typeof c.index === 'number' ? c.index : 0
        let s = choices.get(index)
        if (!s) choices.set(index, (s = newChoice(index)))
        if (c.finish_reason !== undefined && c.finish_reason !== null) s.finishReason = c.finish_reason
        if (op === 'completions') {
          if (typeof c.text === 'string' && c.text !== '') {
            s.content += c.text
            s.hasContent = output = true
          }
          if (isObj(c.logprobs)) {
            s.lpTokens.push(...arr(c.logprobs.tokens))
            s.lpValues.push(...arr(c.logprobs.token_logprobs))
            s.lpTop.push(...arr(c.logprobs.top_logprobs))
          }
          continue
        }
        const d = isObj(c.delta) ? c.delta : {}
        if (typeof d.role === 'string') s.role = d.role
        if (typeof d.content === 'string' && d.content !== '') {
          s.content += d.content
          s.hasContent = output = true
        }
        if (typeof d.refusal === 'string' && d.refusal !== '') {
          s.refusal += d.refusal
          output = true
        }
        for (const t of arr(d.tool_calls)) {
          if (!isObj(t)) continue
          const ti = typeof t.index === 'number' ? t.index : s.toolCalls.size
          let call = s.toolCalls.get(ti)
          if (!call) s.toolCalls.set(ti, (call = { name: '', arguments: '' }))
          if (typeof t.id === 'string') call.id = t.id
          if (typeof t.type === 'string') call.type = t.type
          const f = isObj(t.function) ? t.function : {}
          if (typeof f.name === 'string') call.name += f.name
          if (typeof f.arguments === 'string') call.arguments += f.arguments
          output = true
        }
        if (isObj(c.logprobs)) s.logprobs.push(...arr(c.logprobs.content))
      }
      return output
    },
    response() {
      if (!head) return undefined
      const out: Obj = { ...head }
      out.choices = [...choices.values()]
        .sort((a, b) => a.index - b.index)
        .map((s) => {
          if (op === 'completions') {
            const lp = s.lpTokens.length > 0 ? { tokens: s.lpTokens, token_logprobs: s.lpValues, top_logprobs: s.lpTop } : null
            return { index: s.index, text: s.content, finish_reason: s.finishReason, logprobs: lp }
          }
          const message: Obj = { role: s.role ?? 'assistant', content: s.hasContent ? s.content : null }
          if (s.refusal !== '') message.refusal = s.refusal
          if (s.toolCalls.size > 0) {
            message.tool_calls = [...s.toolCalls.entries()]
              .sort((a, b) => a[0] - b[0])
              .map(([, t]) => ({ id: t.id, type: t.type ?? 'function', function: { name: t.name, arguments: t.arguments } }))
          }
          const choice: Obj = { index: s.index, message, finish_reason: s.finishReason }
          if (s.logprobs.length > 0) choice.logprobs = { content: s.logprobs }
          return choice
        })
      if (usage !== undefined) out.usage = usage
      return out
    },
  }
}

/** Responses API: events `response.*`; the final `response.completed` (or failed/incomplete) carries the whole response. */
function responsesAccumulator(): StreamAccumulator {
  let last: Obj | undefined
  let done = false
  let text = ''
  return {
    add(event) {
      if (!isObj(event) || typeof event.type !== 'string') return false
      if (isObj(event.response)) {
        last = event.response
        done ||= event.type === 'response.completed' || event.type === 'response.failed' || event.type === 'response.incomplete'
      }
      if (event.type === 'response.output_text.delta' && typeof event.delta === 'string') {
        text += event.delta
        return event.delta !== ''
      }
      return event.type === 'response.function_call_arguments.delta' || event.type === 'response.refusal.delta'
    },
    response() {
      if (!last) return undefined
      // A stream cut short has no final response: keep the text that did arrive.
      if (!done && text !== '') return { ...last, output_text: text }
      return last
    },
  }
}

/** An accumulator for a streamed `op` call. Embeddings are never streamed: it ignores chunks. */
export function createStreamAccumulator(op: OpenAIOperation): StreamAccumulator {
  if (op === 'chat' || op === 'completions') return choicesAccumulator(op)
  if (op === 'responses') return responsesAccumulator()
  return { add: () => false, response: () => undefined }
}
