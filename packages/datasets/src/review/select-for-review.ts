/** How to rank events for human review. */
export type ReviewStrategy = 'least-confidence' | 'margin' | 'entropy' | 'disagreement'

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** An event to rank, with the shadow events that mirrored it (for `disagreement`). */
export interface ReviewCandidate {
  event: Obj
  shadows?: Obj[]
}

/** A selected event and its uncertainty (higher = needs a label more). */
export interface ReviewPick {
  id: string
  score: number
}

function probabilities(list: unknown): number[] | undefined {
  if (!Array.isArray(list) || list.length < 2 || !list.every((p) => typeof p === 'number' && p >= 0 && Number.isFinite(p))) return undefined
  const sum = (list as number[]).reduce((a, b) => a + b, 0)
  return sum > 0 ? (list as number[]).map((p) => p / sum) : undefined
}

/**
 * An event's class probabilities: `output.probabilities` or `output.scores` (a list, normalized to
 * sum 1), `internals.probabilities` (a tensor with number data), or a binary `output.score` /
 * `output.probability` p as [1 − p, p]. `undefined` when none is there.
 */
export function classProbabilities(event: Obj): number[] | undefined {
  const out = isObj(event.output) ? event.output : {}
  const direct = probabilities(out.probabilities) ?? probabilities(out.scores)
  if (direct) return direct
  const t = isObj(event.internals) ? event.internals.probabilities : undefined
  const fromTensor = isObj(t) ? probabilities(t.data) : undefined
  if (fromTensor) return fromTensor
  const p = typeof out.score === 'number' ? out.score : out.probability
  return typeof p === 'number' && p >= 0 && p <= 1 ? [1 - p, p] : undefined
}

/** Uncertainty of one distribution: 1 − max p; 1 − (p₁ − p₂); or Shannon entropy in nats. */
export function uncertainty(strategy: Exclude<ReviewStrategy, 'disagreement'>, p: number[]): number {
  const sorted = [...p].sort((a, b) => b - a)
  if (strategy === 'least-confidence') return 1 - sorted[0]!
  if (strategy === 'margin') return 1 - (sorted[0]! - (sorted[1] ?? 0))
  return -p.reduce((acc, x) => (x > 0 ? acc + x * Math.log(x) : acc), 0)
}

function predicted(event: Obj): string {
  const p = classProbabilities(event)
  if (p) return String(p.indexOf(Math.max(...p)))
  return JSON.stringify(isObj(event.output) && 'label' in event.output ? event.output.label : (event.output ?? null))
}

/** Primary vs shadow: total variation distance of their distributions, else 1 when their answers differ. Max over shadows. */
export function disagreement(primary: Obj, shadows: Obj[]): number {
  let worst = 0
  const p = classProbabilities(primary)
  for (const s of shadows) {
    const q = classProbabilities(s)
    const d =
      p && q && p.length === q.length
        ? p.reduce((acc, x, i) => acc + Math.abs(x - q[i]!), 0) / 2
        : predicted(primary) === predicted(s)
          ? 0
          : 1
    worst = Math.max(worst, d)
  }
  return worst
}

/** Options of {@link selectForReview}. */
export interface SelectForReviewOptions {
  strategy: ReviewStrategy
  /** Events to pick. */
  limit: number
}

/**
 * The `limit` events that most need a human label, most uncertain first (ties by id), from a
 * stream of candidates in bounded memory (about 2 × limit kept). Events without probabilities (or,
 * for `disagreement`, without shadows) are passed over.
 */
export async function selectForReview(
  candidates: AsyncIterable<ReviewCandidate> | Iterable<ReviewCandidate>,
  options: SelectForReviewOptions,
): Promise<ReviewPick[]> {
  const { strategy, limit } = options
  let kept: ReviewPick[] = []
  const order = (a: ReviewPick, b: ReviewPick) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  for await (const c of candidates) {
    const id = c.event.id
    if (typeof id !== 'string') continue
    let score: number | undefined
    if (strategy === 'disagreement') score = c.shadows && c.shadows.length > 0 ? disagreement(c.event, c.shadows) : undefined
    else {
      const p = classProbabilities(c.event)
      score = p ? uncertainty(strategy, p) : undefined
    }
    if (score === undefined) continue
    kept.push({ id, score })
    if (kept.length >= 2 * limit) kept = kept.sort(order).slice(0, limit)
  }
  return kept.sort(order).slice(0, limit)
}
