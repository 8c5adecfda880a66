import type { JsonValue } from '@inferlog/schema'
import type { Attributes, OtlpSpan } from './otlp-span.js'

/** A message-valued attribute: the conventions record it as a JSON string; structured values are taken as they are. */
function jsonAttribute(v: JsonValue | undefined): JsonValue | undefined {
  if (typeof v !== 'string') return v
  const t = v.trim()
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      return JSON.parse(t) as JsonValue
    } catch {
      return v
    }
  }
  return v
}

// Per-message events of the older conventions, by role.
const MESSAGE_EVENTS: Record<string, string> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
}

/** An older per-message event as a message: its attributes, with the role its name implies unless it names one. */
function eventBody(a: Attributes, role: string | undefined): Record<string, JsonValue> {
  const m: Record<string, JsonValue> = {}
  if (role !== undefined) m.role = role
  for (const [k, v] of Object.entries(a)) {
    if (k === 'gen_ai.system' || k === 'gen_ai.provider.name') continue
    m[k] = jsonAttribute(v) ?? null
  }
  return m
}

/**
 * `gen_ai.prompt.0.role`, `gen_ai.prompt.0.content`, … (indexed attributes written by some
 * instrumentations before the message conventions existed) as a list of messages.
 */
function indexedMessages(a: Attributes, prefix: string): JsonValue[] | undefined {
  const byIndex = new Map<number, Record<string, JsonValue>>()
  for (const [k, v] of Object.entries(a)) {
    if (!k.startsWith(prefix)) continue
    const m = /^(\d+)\.(.+)$/.exec(k.slice(prefix.length))
    if (!m) continue
    const i = Number(m[1])
    let msg = byIndex.get(i)
    if (!msg) byIndex.set(i, (msg = {}))
    msg[m[2]!] = jsonAttribute(v) ?? null
  }
  if (byIndex.size === 0) return undefined
  return [...byIndex.entries()].sort((x, y) => x[0] - y[0]).map(([, m]) => m)
}

/** The input and output of a GenAI span, `null` where the span carries none. */
export interface SpanMessages {
  input: JsonValue
  output: JsonValue
}

/**
 * Input and output messages of a GenAI span, from the first source that has them:
 * 1. the current attributes `gen_ai.input.messages` / `gen_ai.output.messages` (with
 *    `gen_ai.system_instructions` as a leading `{role: "system", parts}` message);
 * 2. the older span events: `gen_ai.content.prompt` / `gen_ai.content.completion` (attributes
 *    `gen_ai.prompt` / `gen_ai.completion`), or per-message `gen_ai.{system,user,assistant,tool}.message`
 *    and `gen_ai.choice` events;
 * 3. attributes `gen_ai.prompt` / `gen_ai.completion`, or indexed `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`.
 * Message shapes are kept as the instrumentation wrote them.
 */
export function spanMessages(span: OtlpSpan): SpanMessages {
  const a = span.attributes
  let input: JsonValue | undefined = jsonAttribute(a['gen_ai.input.messages'])
  const system = jsonAttribute(a['gen_ai.system_instructions'])
  if (system !== undefined && system !== null) {
    const first = { role: 'system', parts: system }
    input = Array.isArray(input) ? [first, ...input] : input === undefined ? [first] : [first, input]
  }
  let output: JsonValue | undefined = jsonAttribute(a['gen_ai.output.messages'])

  if (input === undefined || output === undefined) {
    const inMsgs: JsonValue[] = []
    const outMsgs: JsonValue[] = []
    let prompt: JsonValue | undefined
    let completion: JsonValue | undefined
    for (const e of span.events) {
      if (e.name === 'gen_ai.content.prompt') prompt = jsonAttribute(e.attributes['gen_ai.prompt'])
      else if (e.name === 'gen_ai.content.completion') completion = jsonAttribute(e.attributes['gen_ai.completion'])
      else if (e.name in MESSAGE_EVENTS) {
        const role = typeof e.attributes.role === 'string' ? undefined : MESSAGE_EVENTS[e.name]
        inMsgs.push(eventBody(e.attributes, role))
      } else if (e.name === 'gen_ai.choice') outMsgs.push(eventBody(e.attributes, undefined))
    }
    input ??= prompt ?? (inMsgs.length > 0 ? inMsgs : undefined)
    output ??= completion ?? (outMsgs.length > 0 ? outMsgs : undefined)
  }
  input ??= jsonAttribute(a['gen_ai.prompt']) ?? indexedMessages(a, 'gen_ai.prompt.')
  output ??= jsonAttribute(a['gen_ai.completion']) ?? indexedMessages(a, 'gen_ai.completion.')
  return { input: input ?? null, output: output ?? null }
}
