import type { ColumnKind } from '../fields/column.js'

/** Methods for numerical and categorical fields. */
export const SCALAR_DRIFT_METHODS = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'] as const
/** Methods for embedding fields. */
export const EMBEDDING_DRIFT_METHODS = ['distance', 'ratio', 'mmd', 'model'] as const
/** Every drift method name of the contract. */
export const DRIFT_METHODS = [...SCALAR_DRIFT_METHODS, ...EMBEDDING_DRIFT_METHODS] as const
/** A drift method name. */
export type DriftMethod = (typeof DRIFT_METHODS)[number]

/** How a method's statistic is compared with its threshold. */
export type DriftRule = 'p_at_most' | 'at_least' | 'greater'

interface MethodInfo {
  kinds: readonly ColumnKind[]
  threshold: number
  rule: DriftRule
  /** True when the method yields a p-value (and takes part in multiple-testing correction). */
  pValue: boolean
}

/**
 * Applicability, default threshold and decision rule of each method (Evidently's defaults):
 * p-value tests drift when p ≤ 0.05; Wasserstein (normed), Jensen–Shannon and PSI when the
 * statistic is ≥ 0.1; `distance` and `ratio` when > 0.2; `model` when the AUC is > 0.55; `mmd`
 * when its permutation p-value is ≤ 0.05.
 */
export const DRIFT_METHOD_INFO: Readonly<Record<DriftMethod, MethodInfo>> = {
  ks: { kinds: ['numerical'], threshold: 0.05, rule: 'p_at_most', pValue: true },
  chisquare: { kinds: ['numerical', 'categorical'], threshold: 0.05, rule: 'p_at_most', pValue: true },
  z: { kinds: ['numerical', 'categorical'], threshold: 0.05, rule: 'p_at_most', pValue: true },
  wasserstein: { kinds: ['numerical'], threshold: 0.1, rule: 'at_least', pValue: false },
  jensenshannon: { kinds: ['numerical', 'categorical'], threshold: 0.1, rule: 'at_least', pValue: false },
  psi: { kinds: ['numerical', 'categorical'], threshold: 0.1, rule: 'at_least', pValue: false },
  distance: { kinds: ['embedding'], threshold: 0.2, rule: 'greater', pValue: false },
  ratio: { kinds: ['embedding'], threshold: 0.2, rule: 'greater', pValue: false },
  mmd: { kinds: ['embedding'], threshold: 0.05, rule: 'p_at_most', pValue: true },
  model: { kinds: ['embedding'], threshold: 0.55, rule: 'greater', pValue: false },
}

/** True for a known method name. */
export function isDriftMethod(name: string): name is DriftMethod {
  return Object.hasOwn(DRIFT_METHOD_INFO, name)
}

/**
 * Evidently's default method: with ≤ 1000 reference values, KS for numerical fields with more than
 * 5 distinct values (reference ∪ current), chi-squared with 3 to 5 (any count for categorical
 * fields above 2), the Z test with 1 or 2; with more reference values, the normed Wasserstein
 * distance for numerical fields with more than 5 distinct values, Jensen–Shannon otherwise.
 * Embeddings default to `model`, as in Evidently's `EmbeddingsDriftMetric`.
 */
export function defaultDriftMethod(kind: ColumnKind, nReference: number, nUnique: number): DriftMethod {
  if (kind === 'embedding') return 'model'
  if (nReference <= 1000) {
    if (kind === 'numerical' && nUnique > 5) return 'ks'
    return nUnique > 2 ? 'chisquare' : 'z'
  }
  if (kind === 'numerical' && nUnique > 5) return 'wasserstein'
  return 'jensenshannon'
}

/** Whether a statistic (or p-value) crosses the threshold under the method's rule. */
export function isDrift(rule: DriftRule, value: number, threshold: number): boolean {
  if (rule === 'p_at_most') return value <= threshold
  if (rule === 'at_least') return value >= threshold
  return value > threshold
}
