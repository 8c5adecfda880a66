import type { EmbeddingMatrix } from './embedding-matrix.js'
import { seededRandom, shuffleInPlace } from './random.js'
import { sortFloat64 } from './sort-float64.js'

/** Options of {@link mmdTest}. */
export interface MmdOptions {
  /** RBF kernel exp(−γ‖a − b‖²) parameter. Default 1/median², median of the reference–current distances. */
  gamma?: number
  /** Label permutations for the p-value. Default 100. */
  permutations?: number
  /** Seed of the permutations. Default 0. */
  seed?: number
}

/** Result of {@link mmdTest}. */
export interface MmdResult {
  /** Unbiased MMD² clipped at 0, as Evidently reports it. */
  statistic: number
  /** Unbiased MMD² before clipping (can be slightly negative without drift). */
  mmd2u: number
  /** (1 + #{permuted MMD² ≥ observed}) / (1 + permutations). */
  pValue: number
  gamma: number
}

function squaredDistance(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  let s = 0
  const ai = i * dim
  const bj = j * dim
  for (let k = 0; k < dim; k++) {
    const d = a[ai + k]! - b[bj + k]!
    s += d * d
  }
  return s
}

/** `numpy.median` of the Euclidean distances between every reference and every current row. */
export function medianCrossDistance(x: EmbeddingMatrix, y: EmbeddingMatrix): number {
  const d = new Float64Array(x.rows * y.rows)
  let k = 0
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < y.rows; j++) d[k++] = Math.sqrt(squaredDistance(x.data, i, y.data, j, x.dim))
  sortFloat64(d)
  const mid = d.length >> 1
  return d.length % 2 === 1 ? d[mid]! : (d[mid - 1]! + d[mid]!) / 2
}

/** Unbiased MMD² from the upper triangle of a pooled kernel, rows labelled by `inX`. */
function mmd2uFromKernel(k: Float64Array, n: number, inX: Uint8Array, m: number): number {
  const ny = n - m
  let sxx = 0
  let syy = 0
  let sxy = 0
  for (let i = 0; i < n; i++) {
    const xi = inX[i]!
    const row = i * n
    for (let j = i + 1; j < n; j++) {
      const v = k[row + j]!
      const xj = inX[j]!
      if (xi & xj) sxx += v
      else if (xi | xj) sxy += v
      else syy += v
    }
  }
  return (2 * sxx) / (m * (m - 1)) + (2 * syy) / (ny * (ny - 1)) - (2 * sxy) / (m * ny)
}

/**
 * Maximum mean discrepancy between two sets of embeddings with an RBF kernel: the unbiased
 * estimate MMD²ᵤ = mean k(x, x') + mean k(y, y') − 2·mean k(x, y) (Gretton et al. 2012, the
 * `MMD2u` of Evidently's `mmd` method, same median bandwidth) and a permutation p-value. Cost is
 * O((m + n)² · dim) time and O((m + n)²) memory: callers cap the rows (see `computeDrift`).
 */
export function mmdTest(x: EmbeddingMatrix, y: EmbeddingMatrix, options: MmdOptions = {}): MmdResult {
  const m = x.rows
  const ny = y.rows
  if (m < 2 || ny < 2) throw new RangeError('mmdTest needs at least two rows per window')
  let gamma = options.gamma
  if (gamma === undefined) {
    const med = medianCrossDistance(x, y)
    gamma = med > 0 ? 1 / (med * med) : 1
  }
  const n = m + ny
  const dim = x.dim
  const k = new Float64Array(n * n)
  const rowOf = (i: number): [Float32Array, number] => (i < m ? [x.data, i] : [y.data, i - m])
  for (let i = 0; i < n; i++) {
    const [a, ai] = rowOf(i)
    for (let j = i + 1; j < n; j++) {
      const [b, bj] = rowOf(j)
      k[i * n + j] = Math.exp(-gamma * squaredDistance(a, ai, b, bj, dim))
    }
  }
  const labels = new Uint8Array(n)
  labels.fill(1, 0, m)
  const observed = mmd2uFromKernel(k, n, labels, m)
  const permutations = options.permutations ?? 100
  const random = seededRandom(options.seed ?? 0)
  let atLeast = 0
  for (let b = 0; b < permutations; b++) {
    shuffleInPlace(labels, random)
    if (mmd2uFromKernel(k, n, labels, m) >= observed) atLeast++
  }
  return { statistic: Math.max(observed, 0), mmd2u: observed, pValue: (1 + atLeast) / (1 + permutations), gamma }
}
