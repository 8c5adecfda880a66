import type { JsonValue } from '@inferlog/schema'
import canonicalize from 'canonicalize'
import { valueAtPath } from '../metrics/index.js'
import {
  CriticalValues,
  emptyMoments,
  emptyTally,
  type IntervalEstimate,
  meanIntervalWith,
  momentsAdd,
  tallyAdd,
  weightedWilsonWithZ,
} from '../stats/index.js'
import { normalizeText, textDistance } from './normalize-text.js'

/** One side of a shadow pair. */
export interface ShadowSide {
  output?: JsonValue
  /** `latency_ms.total`. */
  latencyMs?: number
  /** Cost (client-sent or derived). */
  costUsd?: number
}

/** A primary event and its shadow (`shadow_of` = primary id). */
export interface ShadowPair {
  /** The primary event's id (what `most_divergent` lists). */
  id: string
  primary: ShadowSide
  shadow: ShadowSide
  /** The primary's weight, 1/sample_rate. Default 1. */
  weight?: number
}

/** A paired difference shadow − primary. */
export interface PairedDelta extends IntervalEstimate {
  /** Pairs with both values. */
  n: number
  /** Mean |shadow − primary|. */
  mean_abs: number
}

/** One shadow candidate's comparison (`candidates[]` of the shadow compare reply, without `model`). */
export interface ShadowComparison {
  pairs: number
  /** Share of pairs whose compared outputs are equal (RFC 8785 canonical JSON), Wilson interval. */
  agreement: IntervalEstimate | null
  /** Over pairs where both outputs are strings: exact and normalized match rates (see `normalizeText`). */
  text?: { pairs: number; exact: IntervalEstimate; normalized: IntervalEstimate }
  /** `output` (numeric outputs), `latency_ms`, `cost_usd`: mean shadow − primary with a t interval. */
  deltas: Record<string, PairedDelta>
  /** Ids of the primaries of the most divergent pairs, most divergent first. */
  most_divergent: string[]
}

/** Options of {@link compareShadow}. */
export interface ShadowOptions {
  /** Path inside each output to compare (`''` for the whole output). Default `''`. */
  output?: string
  /** How many divergent ids to list. Default 10. */
  top?: number
  /** Two-sided level. Default 0.95. */
  confidence?: number
}

function canonical(v: JsonValue): string {
  return canonicalize(v) ?? ''
}

/**
 * Compares a shadow model with the primary over pairs. Agreement counts equal outputs (exact JSON
 * equality after canonicalization, which is label agreement for classifiers). Numeric outputs get
 * a paired delta; string outputs exact and normalized match rates. Latency and cost deltas are
 * shadow − primary, paired. Divergence ranks disagreeing pairs: numbers by relative difference
 * |s − p| / max(|s|, |p|), strings by word-set Jaccard distance after normalization, other JSON by 1;
 * ties by id. All rates and means are weighted by the primary's weight.
 */
export function compareShadow(pairs: readonly ShadowPair[], options: ShadowOptions = {}): ShadowComparison {
  const cv = new CriticalValues(options.confidence ?? 0.95)
  const path = options.output ?? ''
  const agreeS = emptyTally()
  const agreeT = emptyTally()
  const exactS = emptyTally()
  const normS = emptyTally()
  const textT = emptyTally()
  const outD = emptyMoments()
  const outAbs = emptyMoments()
  const latD = emptyMoments()
  const latAbs = emptyMoments()
  const costD = emptyMoments()
  const costAbs = emptyMoments()
  const divergent: { id: string; score: number }[] = []
  for (const pair of pairs) {
    const w = pair.weight ?? 1
    const pv = valueAtPath(pair.primary.output, path)
    const sv = valueAtPath(pair.shadow.output, path)
    if (pv !== undefined && sv !== undefined) {
      tallyAdd(agreeT, w)
      const equal = canonical(pv) === canonical(sv)
      if (equal) tallyAdd(agreeS, w)
      let score = equal ? 0 : 1
      if (typeof pv === 'number' && typeof sv === 'number') {
        momentsAdd(outD, sv - pv, w)
        momentsAdd(outAbs, Math.abs(sv - pv), w)
        const scale = Math.max(Math.abs(pv), Math.abs(sv))
        if (!equal) score = scale > 0 ? Math.abs(sv - pv) / scale : 1
      } else if (typeof pv === 'string' && typeof sv === 'string') {
        tallyAdd(textT, w)
        if (pv === sv) tallyAdd(exactS, w)
        const np = normalizeText(pv)
        const ns = normalizeText(sv)
        if (np === ns) tallyAdd(normS, w)
        if (!equal) score = np === ns ? 1e-9 : textDistance(np, ns)
      }
      if (score > 0) divergent.push({ id: pair.id, score })
    }
    const pl = pair.primary.latencyMs
    const sl = pair.shadow.latencyMs
    if (typeof pl === 'number' && typeof sl === 'number' && Number.isFinite(pl) && Number.isFinite(sl)) {
      momentsAdd(latD, sl - pl, w)
      momentsAdd(latAbs, Math.abs(sl - pl), w)
    }
    const pc = pair.primary.costUsd
    const sc = pair.shadow.costUsd
    if (typeof pc === 'number' && typeof sc === 'number' && Number.isFinite(pc) && Number.isFinite(sc)) {
      momentsAdd(costD, sc - pc, w)
      momentsAdd(costAbs, Math.abs(sc - pc), w)
    }
  }
  const deltas: Record<string, PairedDelta> = {}
  const delta = (name: string, d: typeof outD, abs: typeof outAbs) => {
    const iv = meanIntervalWith(d, cv)
    if (iv) deltas[name] = { ...iv, n: d.n, mean_abs: abs.wx / abs.w }
  }
  delta('output', outD, outAbs)
  delta('latency_ms', latD, latAbs)
  delta('cost_usd', costD, costAbs)
  divergent.sort((x, y) => y.score - x.score || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
  const out: ShadowComparison = {
    pairs: pairs.length,
    agreement: weightedWilsonWithZ(agreeS, agreeT, cv.z) ?? null,
    deltas,
    most_divergent: divergent.slice(0, options.top ?? 10).map((d) => d.id),
  }
  const exact = weightedWilsonWithZ(exactS, textT, cv.z)
  const normalized = weightedWilsonWithZ(normS, textT, cv.z)
  if (exact && normalized) out.text = { pairs: textT.n, exact, normalized }
  return out
}
