import canonicalize from 'canonicalize'
import type { PipelineRow } from '../build/pipeline.js'
import { sha256Bytes } from '../build/split-assigner.js'
import type { DatasetPlan } from '../spec/compile-plan.js'
import { type FormatWriter, skip } from './format-writer.js'
import { openSplits, type SplitTarget } from './split-files.js'

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function numberOf(json: string | undefined): number | undefined {
  if (json === undefined) return undefined
  const v: unknown = JSON.parse(json)
  return typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : undefined
}

/** The value of a column (the mapped label when the column is the label's source). */
function columnValue(plan: DatasetPlan, row: PipelineRow, column: string): string | undefined {
  if (plan.label?.from === column) return row.label
  const i = plan.columns.findIndex((c) => c.column === column)
  return i >= 0 ? row.values[i] : undefined
}

/** The reward of a row, a number (booleans as 1/0); `undefined` when it has none. */
export function banditReward(plan: DatasetPlan, row: PipelineRow): number | undefined {
  return numberOf(columnValue(plan, row, plan.bandit!.reward))
}

/** Priority of a row for prioritized sampling: (|value| + epsilon)^alpha; `undefined` without a value. */
export function banditPriority(plan: DatasetPlan, row: PipelineRow): number | undefined {
  const p = plan.bandit?.prioritized
  if (!p) return undefined
  const v = numberOf(columnValue(plan, row, p.by))
  return v === undefined ? undefined : (Math.abs(v) + p.epsilon) ** p.alpha
}

/** A uniform number in [0, 1) fixed by seed and event id. */
function uniform(seed: string, id: string): number {
  return sha256Bytes(`${seed}\u0000${id}`).readUIntBE(0, 6) / 2 ** 48
}

/**
 * Vowpal Wabbit DSJson (contextual bandits, `--cb_adf --dsjson`) for off-policy learning and replay:
 * `_label_cost` = −reward, `_label_probability` = the logging probability of the chosen action,
 * `_label_Action` (1-based) / `_labelIndex` (0-based) the chosen candidate, `a` the action ids with the
 * chosen one first, `p` their probabilities when the candidates' scores form a distribution, `c` the
 * input as shared features with one `_multi` entry per candidate output, `EventId`, `Timestamp`, and
 * `VWState.m` = model name@version. The chosen action is the candidate whose output equals the
 * event's output (RFC 8785). Prioritized sampling keeps a row with probability
 * min(1, size × priority / Σ priority), decided by a seeded hash of the event id.
 */
export function createBanditWriter(plan: DatasetPlan, out: SplitTarget, totalPriority: number | undefined): FormatWriter {
  const files = openSplits(out, plan.split.names, 'dsjson')
  const bandit = plan.bandit!
  const skipped: Record<string, number> = {}
  return {
    skipped,
    write(row: PipelineRow) {
      const e = row.event
      const prioritized = bandit.prioritized
      if (prioritized && totalPriority !== undefined) {
        const priority = banditPriority(plan, row)
        if (priority === undefined) return skip(skipped, 'no_priority')
        const keep = Math.min(1, (prioritized.size * priority) / totalPriority)
        if (uniform(prioritized.seed, e.id) >= keep) return skip(skipped, 'not_sampled')
      }
      const reward = banditReward(plan, row)
      if (reward === undefined) return skip(skipped, 'no_reward')
      const candidates = e.get('candidates')
      if (!Array.isArray(candidates) || candidates.length === 0) return skip(skipped, 'no_candidates')
      const output = canonicalize(e.get('output') ?? null)
      const chosen = candidates.findIndex((c) => isObj(c) && canonicalize(c.output ?? null) === output)
      if (chosen < 0) return skip(skipped, 'no_chosen_action')
      const scores = candidates.map((c) => (isObj(c) && typeof c.score === 'number' ? c.score : Number.NaN))
      const sum = scores.reduce((a, b) => a + b, 0)
      const distribution = scores.every((s) => s >= 0 && s <= 1) && Math.abs(sum - 1) <= 1e-6
      let probability: unknown
      if (bandit.probability) probability = e.at(bandit.probability)
      else if (distribution) probability = scores[chosen]
      else probability = e.at(['output', 'probability'])
      if (typeof probability !== 'number' || !(probability > 0 && probability <= 1)) return skip(skipped, 'no_probability')
      const order = [chosen, ...candidates.keys()].filter((i, k) => k === 0 || i !== chosen)
      const input = e.get('input')
      const shared: Obj = isObj(input) ? { ...input } : { input: input ?? null }
      shared._multi = candidates.map((c) => (isObj(c) && isObj(c.output) ? c.output : { action: isObj(c) ? (c.output ?? null) : null }))
      const model = e.get('model') as Obj | undefined
      const line: Obj = {
        _label_cost: reward === 0 ? 0 : -reward,
        _label_probability: probability,
        _label_Action: chosen + 1,
        _labelIndex: chosen,
        Timestamp: JSON.parse(e.tsJson()),
        Version: '1',
        EventId: e.id,
        a: order.map((i) => i + 1),
        c: shared,
      }
      if (distribution) line.p = order.map((i) => scores[i])
      line.VWState = { m: `${String(model?.name)}@${String(model?.version)}` }
      files.write(row.split, `${JSON.stringify(line)}\n`)
      return 1
    },
    close: () => files.close(),
    abandon: () => files.abandon(),
  }
}
