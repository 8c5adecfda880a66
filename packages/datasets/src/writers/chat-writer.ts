import type { PipelineRow } from '../build/pipeline.js'
import type { DatasetPlan } from '../spec/compile-plan.js'
import { assistantMessage, inputMessages } from './chat-messages.js'
import { type FormatWriter, skip } from './format-writer.js'
import { openSplits, type SplitTarget } from './split-files.js'

/**
 * OpenAI chat fine-tuning rows `{"messages": [...]}`: the conversation from `input.messages` (or a
 * string prompt) followed by the assistant turn, which is the latest `correction` feedback when
 * there is one, else the output. `input.tools`, when a list, is kept as `tools`. Events with no
 * conversation (`no_messages`) or no answer (`no_output`) are skipped and counted.
 */
export function createChatWriter(plan: DatasetPlan, out: SplitTarget): FormatWriter {
  const files = openSplits(out, plan.split.names, 'jsonl')
  const correction = plan.columns.findIndex((c) => c.column === 'correction')
  const skipped: Record<string, number> = {}
  return {
    skipped,
    write(row: PipelineRow) {
      const input = row.event.get('input')
      const messages = inputMessages(input)
      if (messages === undefined) return skip(skipped, 'no_messages')
      const corrected = correction >= 0 ? (JSON.parse(row.values[correction]!) as unknown) : null
      const answer = assistantMessage(corrected ?? row.event.get('output'))
      if (answer === undefined) return skip(skipped, 'no_output')
      const tools = (input as { tools?: unknown } | null)?.tools
      const out: Record<string, unknown> = { messages: [...messages, answer] }
      if (Array.isArray(tools)) out.tools = tools
      files.write(row.split, `${JSON.stringify(out)}\n`)
      return 1
    },
    close: () => files.close(),
    abandon: () => files.abandon(),
  }
}
