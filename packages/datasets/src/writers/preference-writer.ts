import canonicalize from 'canonicalize'
import type { PipelineRow } from '../build/pipeline.js'
import type { DatasetPlan } from '../spec/compile-plan.js'
import { assistantMessage, assistantText, inputMessages } from './chat-messages.js'
import { type FormatWriter, skip } from './format-writer.js'
import { openSplits, type SplitTarget } from './split-files.js'

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Preference pairs `{"prompt","chosen","rejected"}` (the layout DPO trainers read). Pairs come from
 * every `preference` feedback `{chosen, rejected}` (candidate indexes), in feedback time order, and
 * from the latest `correction` (the output rejected, the correction chosen). Identical pairs of one
 * event are written once. When the input is a conversation, `prompt` is its messages and
 * chosen/rejected are one-message assistant lists; otherwise prompt is the text prompt (or the
 * input) and chosen/rejected are the answers' text.
 */
export function createPreferenceWriter(plan: DatasetPlan, out: SplitTarget): FormatWriter {
  const files = openSplits(out, plan.split.names, 'jsonl')
  const prefIndex = plan.columns.findIndex((c) => c.column === 'preference')
  const corrIndex = plan.columns.findIndex((c) => c.column === 'correction')
  const skipped: Record<string, number> = {}
  return {
    skipped,
    write(row: PipelineRow) {
      const event = row.event
      const pairs: [unknown, unknown][] = []
      const prefs = prefIndex >= 0 ? (JSON.parse(row.values[prefIndex]!) as unknown) : null
      const list = Array.isArray(prefs) ? prefs : prefs === null ? [] : [prefs]
      const candidates = event.get('candidates')
      for (const p of list) {
        const c = isObj(p) && Array.isArray(candidates) ? p : undefined
        const chosen = c && typeof c.chosen === 'number' ? (candidates as unknown[])[c.chosen] : undefined
        const rejected = c && typeof c.rejected === 'number' ? (candidates as unknown[])[c.rejected] : undefined
        if (!isObj(chosen) || !isObj(rejected) || c!.chosen === c!.rejected) {
          skip(skipped, 'bad_preference')
          continue
        }
        pairs.push([chosen.output, rejected.output])
      }
      const correction = corrIndex >= 0 ? (JSON.parse(row.values[corrIndex]!) as unknown) : null
      const output = event.get('output')
      if (correction !== null && output !== undefined && output !== null) pairs.push([correction, output])
      const input = event.get('input')
      const messages = inputMessages(input)
      const conversational = isObj(input) ? Array.isArray(input.messages) : Array.isArray(input)
      const prompt = conversational
        ? messages
        : typeof input === 'string'
          ? input
          : isObj(input) && typeof input.prompt === 'string'
            ? input.prompt
            : input
      const answer = (v: unknown) => (conversational ? [assistantMessage(v) ?? null] : assistantText(v))
      const seen = new Set<string>()
      let written = 0
      for (const [chosen, rejected] of pairs) {
        const key = `${canonicalize(chosen ?? null)}\n${canonicalize(rejected ?? null)}`
        if (seen.has(key) || canonicalize(chosen ?? null) === canonicalize(rejected ?? null)) continue
        seen.add(key)
        files.write(row.split, `${JSON.stringify({ prompt, chosen: answer(chosen), rejected: answer(rejected) })}\n`)
        written++
      }
      return written > 0 ? written : skip(skipped, 'no_pair')
    },
    close: () => files.close(),
    abandon: () => files.abandon(),
  }
}
