type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A chat message as OpenAI's fine-tuning format takes it. */
export type ChatMessage = Obj & { role: string }

/**
 * The assistant turn an output (or a correction) stands for: a string; an OpenAI completion
 * (`choices[0].message`); `{message}`; a message `{role, content, ...}`; `{content}` or `{text}`.
 * Anything else becomes its JSON text as content. `undefined` for null/absent.
 */
export function assistantMessage(value: unknown): ChatMessage | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return { role: 'assistant', content: value }
  if (!isObj(value)) return { role: 'assistant', content: JSON.stringify(value) }
  const choice = Array.isArray(value.choices) ? (value.choices[0] as unknown) : undefined
  if (isObj(choice) && isObj(choice.message)) return assistantMessage(choice.message)
  if (isObj(value.message)) return assistantMessage(value.message)
  if ('content' in value && (typeof value.role === 'string' || typeof value.content === 'string' || Array.isArray(value.tool_calls))) {
    return { ...value, role: 'assistant' }
  }
  if (typeof value.text === 'string') return { role: 'assistant', content: value.text }
  return { role: 'assistant', content: JSON.stringify(value) }
}

/** The text of an assistant turn (for non-conversational preference rows). */
export function assistantText(value: unknown): unknown {
  const m = assistantMessage(value)
  return typeof m?.content === 'string' ? m.content : value
}

/** The conversation before the answer: `input.messages`, an input that is a message list, or a string prompt as one user turn. */
export function inputMessages(input: unknown): ChatMessage[] | undefined {
  const list = isObj(input) ? input.messages : input
  if (Array.isArray(list))
    return list.every((m) => isObj(m) && typeof m.role === 'string') && list.length > 0 ? (list as ChatMessage[]) : undefined
  if (typeof input === 'string') return [{ role: 'user', content: input }]
  if (isObj(input) && typeof input.prompt === 'string') return [{ role: 'user', content: input.prompt }]
  return undefined
}
