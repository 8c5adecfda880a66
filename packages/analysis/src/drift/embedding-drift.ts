import { type EmbeddingMatrix, matrixColumn, meanRow } from './embedding-matrix.js'
import { sortFloat64 } from './sort-float64.js'
import { wassersteinNormed } from './wasserstein.js'

/**
 * Evidently's `distance` embedding drift: the Euclidean distance between the mean reference and
 * the mean current embedding (drift when > 0.2 by default).
 */
export function meanEmbeddingDistance(ref: EmbeddingMatrix, cur: EmbeddingMatrix): number {
  const a = meanRow(ref)
  const b = meanRow(cur)
  let s = 0
  for (let j = 0; j < a.length; j++) {
    const d = a[j]! - b[j]!
    s += d * d
  }
  return Math.sqrt(s)
}

/** Options of {@link driftedComponentShare}. */
export interface RatioOptions {
  /** Normed Wasserstein distance from which a component counts as drifted. Default 0.1. */
  componentThreshold?: number
}

/**
 * Evidently's `ratio` embedding drift: the share of components whose normed Wasserstein distance
 * (reference vs current) is ≥ 0.1 (drift when the share is > 0.2 by default).
 */
export function driftedComponentShare(ref: EmbeddingMatrix, cur: EmbeddingMatrix, options: RatioOptions = {}): number {
  const threshold = options.componentThreshold ?? 0.1
  let drifted = 0
  for (let j = 0; j < ref.dim; j++) {
    const a = sortFloat64(matrixColumn(ref, j))
    const b = sortFloat64(matrixColumn(cur, j))
    if (wassersteinNormed(a, b) >= threshold) drifted++
  }
  return drifted / ref.dim
}
